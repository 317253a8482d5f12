/** dockward's version, printed by --version and written into SARIF reports (kept with package.json). */
export const VERSION = '0.1.0';

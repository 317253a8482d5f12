import { defaultIo, type UninstallResult, uninstallService } from '../../service/manage.js';
import { parseServiceName } from '../../service/unit.js';
import type { CommandContext } from '../context.js';

/** `dockward service uninstall NAME`. */
export function uninstall(ctx: CommandContext, name: string): Promise<UninstallResult> {
  return uninstallService(
    parseServiceName(name),
    defaultIo((line) => ctx.out.info(line)),
  );
}

export function renderUninstall(r: UninstallResult): string {
  return [`removed ${r.unit} (${r.removed})`, `  kept       ${r.kept.join(', ')}`].join('\n');
}

import { type InstallResult, installCertificate } from '../../daemon/host-enrol.js';
import { parseRestartMode } from '../../daemon/restart.js';
import type { CommandContext } from '../context.js';
import { renderApply } from '../daemon/apply.js';

export interface HostInstallOptions {
  cert: string;
  ca: string;
  tlsDir: string;
  config: string;
  listen: string;
  restart: string;
  pidfile: string;
  root: string;
  host?: string;
  /** seconds */
  timeout: number;
}

/** `dockward host install --cert CERT --ca CA`: check, install, apply remote-tls with a real restart. */
export function hostInstall(ctx: CommandContext, opts: HostInstallOptions): Promise<InstallResult> {
  return installCertificate({
    certPath: opts.cert,
    caPath: opts.ca,
    tlsDir: opts.tlsDir,
    configPath: opts.config,
    listen: opts.listen,
    restart: parseRestartMode(opts.restart),
    pidfile: opts.pidfile,
    root: opts.root,
    ...(opts.host ? { host: opts.host } : {}),
    startTimeoutMs: opts.timeout * 1000,
    progress: (line) => ctx.out.info(line),
  });
}

export function renderHostInstall(r: InstallResult): string {
  return [
    `installed the server certificate in ${r.tlsDir} (key ${r.keyPath === `${r.tlsDir}/key.pem` ? 'in place' : `from ${r.keyPath}`})`,
    `  SANs         ${r.sans.join(', ')}`,
    `  expires      ${r.notAfter}`,
    `  SHA-256      ${r.fingerprint}`,
    '',
    renderApply(r.apply),
    // After a restart the checks are in the apply summary already; without one they ran here.
    ...(r.apply.changed
      ? []
      : r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'}         ${c.what}: ${c.actual}`)),
  ].join('\n');
}

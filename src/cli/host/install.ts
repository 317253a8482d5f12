import { type InstallResult, installCertificate } from '../../daemon/host-enrol.js';
import { type GatewayInstallResult, installGatewayCertificate } from '../../daemon/host-gateway.js';
import { GATEWAY_TLS_DIR } from '../../daemon/host-init-gateway.js';
import { DEFAULT_CERT_DIR } from '../../daemon/profiles.js';
import { parseRestartMode } from '../../daemon/restart.js';
import { DockwardError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { renderApply } from '../daemon/apply.js';

export interface HostInstallOptions {
  cert: string;
  ca: string;
  mode: string;
  crl?: string;
  allow?: string[];
  tlsDir?: string;
  config: string;
  listen: string;
  restart: string;
  pidfile: string;
  root: string;
  host?: string;
  /** seconds */
  timeout: number;
}

export type HostInstallResult = (InstallResult & { mode: 'native' }) | GatewayInstallResult;

/**
 * `dockward host install --cert CERT --ca CA`: check, install, then apply remote-tls with a real
 * restart (native) or run/reload the gateway service (--mode gateway).
 */
export async function hostInstall(ctx: CommandContext, opts: HostInstallOptions): Promise<HostInstallResult> {
  if (opts.mode !== 'native' && opts.mode !== 'gateway') {
    throw new DockwardError('DW_E_USAGE', `--mode ${opts.mode}: say native or gateway`, {
      hint: 'native: dockerd serves TLS; gateway: the dockward gateway service does, with revocation.',
    });
  }
  const progress = (line: string) => ctx.out.info(line);
  if (opts.mode === 'gateway') {
    return installGatewayCertificate({
      certPath: opts.cert,
      caPath: opts.ca,
      ...(opts.crl ? { crlPath: opts.crl } : {}),
      tlsDir: opts.tlsDir ?? GATEWAY_TLS_DIR,
      listen: opts.listen,
      ...(opts.allow ? { allow: opts.allow } : {}),
      configPath: opts.config,
      restart: parseRestartMode(opts.restart),
      pidfile: opts.pidfile,
      startTimeoutMs: opts.timeout * 1000,
      progress,
    });
  }
  if (opts.crl) {
    throw new DockwardError('DW_E_USAGE', '--crl is for --mode gateway: dockerd cannot read a CRL', {
      hint: 'Leave out --crl, or install in gateway mode to enforce revocation.',
    });
  }
  const r = await installCertificate({
    certPath: opts.cert,
    caPath: opts.ca,
    tlsDir: opts.tlsDir ?? DEFAULT_CERT_DIR,
    configPath: opts.config,
    listen: opts.listen,
    restart: parseRestartMode(opts.restart),
    pidfile: opts.pidfile,
    root: opts.root,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.allow ? { allow: opts.allow } : {}),
    startTimeoutMs: opts.timeout * 1000,
    progress,
  });
  return { ...r, mode: 'native' };
}

export function renderHostInstall(r: HostInstallResult): string {
  if (r.mode === 'gateway') {
    return [
      `installed the gateway certificate in ${r.tlsDir}; ${r.service.unit} ${r.service.action === 'reloaded' ? 'reloaded (SIGHUP, connections kept)' : 'started'}`,
      `  SANs         ${r.sans.join(', ')}`,
      `  expires      ${r.notAfter}`,
      `  SHA-256      ${r.fingerprint} (served)`,
      `  CRL          ${r.crl.path} (${r.crl.revoked} revoked, issued ${r.crl.thisUpdate}); revoked clients are refused and cut off`,
      `  allow        ${r.allow.join(', ')} (and loopback)`,
      `  dockerd      ${r.removedTcp.length > 0 ? `${r.removedTcp.join(', ')} removed: unix socket only` : 'unix socket only'}`,
      ...r.warnings.map((w) => `  warning      ${w}`),
    ].join('\n');
  }
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

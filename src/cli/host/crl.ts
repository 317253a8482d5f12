import { type CrlInfo, installGatewayCrl } from '../../daemon/host-gateway.js';
import type { CommandContext } from '../context.js';

export interface HostCrlOptions {
  crl: string;
  tlsDir: string;
}

export type HostCrlResult = CrlInfo & { reloaded: boolean };

/** `dockward host crl --crl FILE`: a newer CRL for the gateway here, then a reload. */
export function hostCrl(ctx: CommandContext, opts: HostCrlOptions): Promise<HostCrlResult> {
  return installGatewayCrl({
    crlPath: opts.crl,
    tlsDir: opts.tlsDir,
    progress: (line) => ctx.out.info(line),
  });
}

export function renderHostCrl(r: HostCrlResult): string {
  return [
    `installed ${r.path}: ${r.revoked} revoked, issued ${r.thisUpdate}${r.nextUpdate ? `, next update ${r.nextUpdate}` : ''}`,
    r.reloaded
      ? 'the gateway was reloaded: revoked certificates are refused and their open connections closed'
      : 'the gateway is not running: the CRL takes effect when it starts',
  ].join('\n');
}

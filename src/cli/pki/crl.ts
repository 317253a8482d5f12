import { listRevoked } from '../../pki/inventory.js';
import { type CrlResult, refreshCrl } from '../../pki/revoke.js';
import type { CommandContext } from '../context.js';
import { renderTable } from '../output.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface PkiCrlOptions {
  refresh?: boolean;
  days: number;
}

export type PkiCrlResult =
  | ({ refreshed: true } & CrlResult)
  | ({ refreshed: false } & Awaited<ReturnType<typeof listRevoked>>);

/** `dockward pki crl [--refresh]`: what is revoked, or a re-signed CRL. */
export async function pkiCrl(ctx: CommandContext, opts: PkiCrlOptions): Promise<PkiCrlResult> {
  if (opts.refresh) {
    return { refreshed: true, ...(await refreshCrl(ctx.paths, cliPassphraseSource(), opts.days)) };
  }
  return { refreshed: false, ...(await listRevoked(ctx.paths)) };
}

/** The JSON keeps the shape it had before `refreshed` existed. */
export function pkiCrlData(r: PkiCrlResult): unknown {
  const { refreshed: _, ...rest } = r;
  return rest;
}

export function renderPkiCrl(r: PkiCrlResult): string {
  if (r.refreshed) return `CRL #${r.crlNumber} written to ${r.path}, next update ${r.nextUpdate}`;
  return r.revoked.length === 0
    ? `CRL #${r.crlNumber} (${r.path}): nothing revoked`
    : `CRL #${r.crlNumber} (${r.path})\n${renderTable(
        ['NAME', 'SERIAL', 'REVOKED', 'REASON'],
        r.revoked.map((x) => [x.name, x.serial, x.revokedAt, x.reason]),
      )}`;
}

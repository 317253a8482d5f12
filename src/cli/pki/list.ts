import { listCertificates } from '../../pki/inventory.js';
import type { CommandContext } from '../context.js';
import { renderTable } from '../output.js';
import { CERT_HEADERS, certRow } from './cert-view.js';

export interface PkiListOptions {
  all?: boolean;
}

export type PkiListResult = Awaited<ReturnType<typeof listCertificates>>;

/** `dockward pki list`. */
export function pkiList(ctx: CommandContext, opts: PkiListOptions): Promise<PkiListResult> {
  return listCertificates(ctx.paths, { all: opts.all === true });
}

export function renderPkiList(r: PkiListResult): string {
  return renderTable(CERT_HEADERS, [r.ca, ...r.certs].map(certRow));
}

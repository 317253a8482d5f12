import { inspectCertificate } from '../../pki/inventory.js';
import type { CommandContext } from '../context.js';
import { renderTable } from '../output.js';
import { CERT_HEADERS, certRow, describeCert } from './cert-view.js';

export interface PkiInspectOptions {
  name: string;
}

export type PkiInspectResult = Awaited<ReturnType<typeof inspectCertificate>>;

/** `dockward pki inspect NAME`. */
export function pkiInspect(ctx: CommandContext, opts: PkiInspectOptions): Promise<PkiInspectResult> {
  return inspectCertificate(ctx.paths, opts.name);
}

export function renderPkiInspect(r: PkiInspectResult): string {
  return [
    describeCert(r.current),
    ...(r.history.length > 0 ? ['', 'history:', renderTable(CERT_HEADERS, r.history.map(certRow))] : []),
  ].join('\n');
}

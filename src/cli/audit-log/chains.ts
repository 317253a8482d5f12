/** `dockward audit-log chains`: the hash chain of every gateway log in the event store. */
import { DockwardError } from '../../errors.js';
import { describeHeadSignature, readPkiCa } from '../../events/head-signature.js';
import { defaultStoreUrl, openEventStore } from '../../events/open.js';
import { verifyStoredChain } from '../../events/verify-chain.js';
import type { StatePaths } from '../../store/paths.js';
import { renderTable } from '../output.js';

export interface AuditLogChainsOptions {
  store?: string;
}

/** Every gateway log in the store with its chain verified from the stored records, and its head's signature. */
export async function verifyStoreChains(paths: StatePaths, opts: AuditLogChainsOptions) {
  const store = await openEventStore(opts.store ?? defaultStoreUrl(paths));
  try {
    const ca = await readPkiCa(paths.caCert);
    const sources = await store.sources();
    const chains = [];
    for (const s of sources)
      chains.push({ host: s.host, ...(await verifyStoredChain(store, s.source, undefined, ca)) });
    return { ok: chains.every((c) => c.ok), chains };
  } finally {
    await store.close();
  }
}

export function renderChains(r: Awaited<ReturnType<typeof verifyStoreChains>>): string {
  if (r.chains.length === 0) return 'no gateway log in the store yet';
  return renderTable(
    ['source', 'host', 'records', 'seq', 'chain', 'head'],
    r.chains.map((c) => [
      c.source,
      c.host,
      String(c.records),
      `${c.firstSeq ?? '-'}..${c.lastSeq ?? '-'}`,
      c.ok
        ? `ok${c.matchesHead === true ? ' (ends at the reported head)' : ''}`
        : `BROKEN at seq ${c.problem?.seq}: ${c.problem?.message}`,
      describeHeadSignature(c.headSignature),
    ]),
  );
}

/** Throws DW_E_AUDIT_LOG_TAMPERED naming the first broken chain (after the table was printed). */
export function failOnBrokenChain(res: Awaited<ReturnType<typeof verifyStoreChains>>): void {
  const bad = res.chains.find((c) => !c.ok);
  if (bad) {
    throw new DockwardError(
      'DW_E_AUDIT_LOG_TAMPERED',
      `${bad.source}: seq ${bad.problem?.seq}: ${bad.problem?.message}`,
      {
        hint: 'Compare the stored records with the gateway log (`dockward audit-log verify FILE`).',
      },
    );
  }
}

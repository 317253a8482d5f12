/** What every console page reads: the state folder, the event store and the local gateway. */
import type { Logger } from 'pino';
import type { EventStore, StoreChainResult } from '../events/model.js';
import { verifyStoredChain } from '../events/verify-chain.js';
import type { PassphraseSource } from '../pki/store.js';
import type { StatePaths } from '../store/paths.js';

export interface ConsoleContext {
  paths: StatePaths;
  store: EventStore;
  /** The local gateway `dockward up` started (`tcp://127.0.0.1:2376` by default). */
  gateway: string;
  passphrase: PassphraseSource;
  /** A per-process secret every form carries: a page from another site cannot post actions. */
  formToken: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  chains: ChainCache;
}

/**
 * Chain verification, incrementally: each source is verified once in full, then only the records
 * shipped since, so the audit page stays fast on a large store.
 */
export class ChainCache {
  private readonly results = new Map<string, StoreChainResult>();
  private readonly store: EventStore;

  constructor(store: EventStore) {
    this.store = store;
  }

  async status(source: string): Promise<StoreChainResult> {
    const known = this.results.get(source);
    if (known && !known.ok) return known;
    const res = await verifyStoredChain(
      this.store,
      source,
      known && known.lastSeq !== null && known.lastHash !== null
        ? { seq: known.lastSeq, hash: known.lastHash, records: known.records, firstSeq: known.firstSeq }
        : undefined,
    );
    this.results.set(source, res);
    return res;
  }
}

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

/** How long a page waits for a chain verification before showing "verifying" instead. */
const VERIFY_WAIT_MS = 1000;

/**
 * Chain verification, incrementally: each source is verified once in full, then only the records
 * shipped since, so the audit page stays fast on a large store. A page waits at most a second: a
 * first pass over millions of records carries on in the background and a later page shows it.
 */
export class ChainCache {
  private readonly results = new Map<string, StoreChainResult>();
  private readonly running = new Map<string, Promise<StoreChainResult>>();
  private readonly store: EventStore;
  /** The PKI's CA (PEM): whether each head's signer was issued by it. */
  private readonly caPem: string | undefined;

  constructor(store: EventStore, caPem?: string) {
    this.store = store;
    this.caPem = caPem;
  }

  /** The verification of a source, or `undefined` while a long first pass is still running. */
  async status(source: string): Promise<StoreChainResult | undefined> {
    const known = this.results.get(source);
    if (known && !known.ok) return known;
    let run = this.running.get(source);
    if (!run) {
      run = verifyStoredChain(
        this.store,
        source,
        known && known.lastSeq !== null && known.lastHash !== null
          ? { seq: known.lastSeq, hash: known.lastHash, records: known.records, firstSeq: known.firstSeq }
          : undefined,
        this.caPem,
      )
        .then((res) => {
          this.results.set(source, res);
          return res;
        })
        .finally(() => this.running.delete(source));
      this.running.set(source, run);
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((res) => {
      timer = setTimeout(() => res(undefined), VERIFY_WAIT_MS);
    });
    const res = await Promise.race([run, waited]).finally(() => clearTimeout(timer));
    return res ?? known;
  }
}

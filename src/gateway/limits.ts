import type { JsonCostLimits } from '../text/json-cost.js';
import { DEFAULT_JSON_COST } from '../text/json-cost.js';

/**
 * The gateway's resource limits against a hostile client that holds a valid certificate
 * (docs/gateway.md, "Limits"). With `--workers N` each worker keeps its own counts: the
 * per-identity limits hold per worker process.
 */
export interface GatewayLimits {
  /** Authenticated connections open at once, all clients (503 above). */
  maxConnections: number;
  /** Connections open at once per client identity (certificate CN; 429 above). */
  maxConnectionsPerIdentity: number;
  /** TLS handshakes in progress at once; more connections wait, fairly between addresses. */
  maxHandshakes: number;
  /** Connections waiting for a handshake slot; more are closed before any TLS byte. */
  handshakeQueue: number;
  /** A body the policy reads must arrive whole within this time (408; 0: no limit). */
  bodyTimeoutMs: number;
  /** Bytes of such bodies held in memory at once, all clients (503 above; a quarter per identity). */
  bodyMemory: number;
  /** Streams (events, logs, attach, exec, pulls...) open at once per identity (429 above). */
  maxStreamsPerIdentity: number;
  /** Keys and nesting of a JSON body, checked before it is parsed (413 above). */
  json: JsonCostLimits;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxConnections: 4096,
  maxConnectionsPerIdentity: 256,
  maxHandshakes: 8,
  handshakeQueue: 1024,
  bodyTimeoutMs: 30_000,
  bodyMemory: 128 * 1024 * 1024,
  maxStreamsPerIdentity: 64,
  json: DEFAULT_JSON_COST,
};

/** Counts held per key (an identity) against one limit; `take` says false at the limit. */
export class KeyedCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  take(key: string, n = 1): boolean {
    const held = this.counts.get(key) ?? 0;
    if (held + n > this.limit) return false;
    this.counts.set(key, held + n);
    return true;
  }

  give(key: string, n = 1): void {
    const held = (this.counts.get(key) ?? 0) - n;
    if (held > 0) this.counts.set(key, held);
    else this.counts.delete(key);
  }
}

/** What one connection may hold of the body memory: the gateway's budget, under its identity. */
export interface BodyBudget {
  take(n: number): boolean;
  give(n: number): void;
}

/** The body-memory budget: a total for all clients, and a quarter of it for any one identity. */
export class BodyMemory {
  private held = 0;
  private readonly perIdentity: KeyedCounter;

  constructor(private readonly total: number) {
    this.perIdentity = new KeyedCounter(Math.max(1, Math.floor(total / 4)));
  }

  for(identity: string): BodyBudget {
    return {
      take: (n) => {
        if (this.held + n > this.total) return false;
        if (!this.perIdentity.take(identity, n)) return false;
        this.held += n;
        return true;
      },
      give: (n) => {
        this.held -= n;
        this.perIdentity.give(identity, n);
      },
    };
  }
}

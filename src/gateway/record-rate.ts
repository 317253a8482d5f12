/**
 * Per-identity request rate, so one client cannot write records fast enough to rotate everyone
 * else's away: a token bucket per identity (`--audit-rate` per second, bursts of ten times that).
 * Above it the gateway refuses (429) and records one summarizing decision per identity and
 * interval instead of one per request: what was refused stays in the log, but bounded.
 */

export interface RateVerdict {
  ok: boolean;
  /** Refused, and this refusal is the one to record: it sums up `refused` requests since the last. */
  summary?: { refused: number; sinceMs: number };
}

interface Bucket {
  tokens: number;
  at: number;
  /** Refusals not yet summed up in a record, and when the last summary was written. */
  refused: number;
  summarizedAt: number;
}

export class RecordRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;

  constructor(
    /** Requests per second per identity. */
    readonly perSecond: number,
    /** One summary record per identity per this interval (default 1 s). */
    readonly summaryMs = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.burst = perSecond * 10;
  }

  take(key: string): RateVerdict {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: t, refused: 0, summarizedAt: Number.NEGATIVE_INFINITY };
      this.buckets.set(key, b);
      if (this.buckets.size > 10_000) this.sweep(t);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    b.refused++;
    if (t - b.summarizedAt < this.summaryMs) return { ok: false };
    const summary = {
      refused: b.refused,
      sinceMs: Number.isFinite(b.summarizedAt) ? t - b.summarizedAt : 0,
    };
    b.refused = 0;
    b.summarizedAt = t;
    return { ok: false, summary };
  }

  /** Forgets identities whose bucket is full again (they are back under the rate). */
  private sweep(t: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.perSecond >= this.burst && b.refused === 0)
        this.buckets.delete(key);
    }
  }
}

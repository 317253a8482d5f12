import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../errors.js';

export interface ReconnectOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Aborted by `stop()`: cuts a backoff wait short. */
  signal: AbortSignal;
  stopped: () => boolean;
  /** One connection; resolves true when it ended after having connected, false or throws otherwise. */
  follow: () => Promise<boolean>;
  /** Told after each lost connection or failed attempt, before the wait. */
  onLost: (info: { connected: boolean; error?: string; retryInMs: number }) => void;
}

/**
 * The sources' connect-read-reconnect loop: a doubling, capped backoff between attempts, reset
 * after a connection that worked, until stopped.
 */
export async function reconnectLoop(options: ReconnectOptions): Promise<void> {
  let backoff = options.initialBackoffMs;
  while (!options.stopped()) {
    let error: string | undefined;
    let connected = false;
    try {
      connected = await options.follow();
    } catch (err) {
      error = describeError(err);
    }
    if (options.stopped()) break;
    if (connected) backoff = options.initialBackoffMs;
    options.onLost({ connected, ...(error !== undefined ? { error } : {}), retryInMs: backoff });
    await sleep(backoff, undefined, { signal: options.signal }).catch(() => undefined);
    backoff = Math.min(backoff * 2, options.maxBackoffMs);
  }
}

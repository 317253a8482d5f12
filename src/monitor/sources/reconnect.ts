import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../errors.js';
import type { EventSource, RawEvent } from '../model.js';

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

/** How a reconnecting source backs off: first delay (default 250 ms), doubling up to the cap (30 s). */
export interface BackoffOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A source that follows one connection at a time and reconnects: `start` runs the loop and
 * resolves at once (a peer that is down is retried), `stop` closes the connection and waits for
 * the loop to end. Subclasses say how to follow one connection and what to log when it is lost.
 */
export abstract class ReconnectingSource implements EventSource {
  abstract readonly name: string;
  protected emit: ((event: RawEvent) => void) | undefined;
  protected stopped = false;
  private loop: Promise<void> | undefined;
  private readonly wake = new AbortController();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(options: BackoffOptions) {
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  async start(emit: (event: RawEvent) => void): Promise<void> {
    this.emit = emit;
    this.loop = reconnectLoop({
      initialBackoffMs: this.initialBackoffMs,
      maxBackoffMs: this.maxBackoffMs,
      signal: this.wake.signal,
      stopped: () => this.stopped,
      follow: () => this.follow(),
      onLost: (info) => this.onLost(info),
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    this.closeConnection();
    await this.loop;
  }

  /** One connection: resolves true when it ended after connecting, false or throws otherwise. */
  protected abstract follow(): Promise<boolean>;
  /** Ends the current connection, if any (called by `stop`). */
  protected abstract closeConnection(): void;
  protected abstract onLost(info: { connected: boolean; error?: string; retryInMs: number }): void;
}

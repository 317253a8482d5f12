/**
 * Follows one daemon's `GET /events` stream and enriches what the rules need: container
 * create/start with the container's inspect, exec_create/exec_start with the exec's inspect and
 * its container's. On error or end of stream it reconnects with capped exponential backoff, and
 * then reconciles by listing containers: dockerd replays only its last 256 events (none at all
 * after a restart), so a container created in the gap is found by the list, not the replay.
 */
import { type BackoffOptions, ReconnectingSource } from './reconnect.js';
import type { Logger } from 'pino';
import {
  describeEndpoint,
  type EngineEndpoint,
  type EngineStream,
  engineGet,
  engineStream,
} from '../../docker/engine-client.js';
import { describeError } from '../../errors.js';
import type { DockerEventMessage, RawEvent } from '../model.js';

export interface DockerEventsSourceOptions extends BackoffOptions {
  endpoint: EngineEndpoint;
  /** The name alerts carry as origin (default: the endpoint as a URL). */
  origin?: string;
  /** Emit the containers that exist at the first connection as reconciled (default: only record them). */
  emitExisting?: boolean;
  logger?: Pick<Logger, 'warn' | 'info' | 'debug'>;
}

type DockerRawEvent = Extract<RawEvent, { event: DockerEventMessage }>;

/** A container as `GET /containers/json` lists it (the fields we read). */
interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image?: string;
  Created?: number;
}

const CONTAINER_INSPECT_ACTIONS = new Set(['create', 'start']);

/** `exec_create: sh -c x` → `exec_create` (dockerd appends the command to exec actions). */
export function baseAction(action: string): string {
  const i = action.indexOf(':');
  return i === -1 ? action : action.slice(0, i);
}

/** An `EventSource` over one daemon's events. */
export class DockerEventsSource extends ReconnectingSource {
  readonly name: string;
  readonly origin: string;
  private readonly endpoint: EngineEndpoint;
  private readonly emitExisting: boolean;
  private readonly logger: Pick<Logger, 'warn' | 'info' | 'debug'> | undefined;
  private stream: EngineStream | undefined;
  /** Containers whose create was emitted (from the stream or reconciled). */
  private readonly emittedCreate = new Set<string>();
  /** Containers found at the first connection, before we watched. */
  private readonly baseline = new Set<string>();
  private connectedOnce = false;
  private lastTimeNano = 0n;
  /** Events of `lastTimeNano` already handled, so a `since` replay of that second is not doubled. */
  private lastKeys = new Set<string>();
  /** Connections made so far (1 after the first). */
  connections = 0;

  constructor(options: DockerEventsSourceOptions) {
    super(options);
    this.endpoint = options.endpoint;
    this.origin = options.origin ?? describeEndpoint(options.endpoint);
    this.name = `docker:${this.origin}`;
    this.emitExisting = options.emitExisting === true;
    this.logger = options.logger;
  }

  protected closeConnection(): void {
    this.stream?.close();
  }

  protected onLost({ error, retryInMs }: { error?: string; retryInMs: number }): void {
    this.logger?.warn({ origin: this.origin, err: error, retryInMs }, 'docker events stream lost');
  }

  /**
   * One connection: subscribe, reconcile, then handle events in order until the stream ends.
   * Subscribing before listing means a container created in between is in one or the other
   * (or both: the create is then emitted once). Returns true if the stream was established.
   */
  protected async follow(): Promise<boolean> {
    const since = this.lastTimeNano > 0n ? `?since=${this.lastTimeNano / 1_000_000_000n}` : '';
    const stream = await engineStream(this.endpoint, `/events${since}`);
    this.stream = stream;
    if (this.stopped) {
      stream.close();
      return true;
    }
    if (stream.status !== 200) {
      const body = await readAll(stream).catch(() => '');
      stream.close();
      throw new Error(`/events answered ${stream.status}: ${body.trim().slice(0, 200)}`);
    }
    this.connections++;
    // Queue what arrives while the list runs; handle it afterwards, in order.
    const queue: DockerEventMessage[] = [];
    let notify: (() => void) | undefined;
    let ended = false;
    let endError: string | undefined;
    let partial = '';
    stream.response.setEncoding('utf8');
    stream.response.on('data', (chunk: string) => {
      partial += chunk;
      let nl = partial.indexOf('\n');
      while (nl !== -1) {
        const line = partial.slice(0, nl).trim();
        partial = partial.slice(nl + 1);
        if (line !== '') {
          try {
            queue.push(JSON.parse(line) as DockerEventMessage);
          } catch {
            this.logger?.warn({ origin: this.origin, line: line.slice(0, 200) }, 'skipping a bad event line');
          }
        }
        nl = partial.indexOf('\n');
      }
      notify?.();
    });
    const finish = (err?: Error) => {
      ended = true;
      if (err && endError === undefined) endError = err.message;
      notify?.();
    };
    stream.response.on('end', () => finish());
    stream.response.on('error', (err) => finish(err));
    stream.response.on('close', () => finish());
    this.emit?.({ source: 'docker', origin: this.origin, lifecycle: 'connected' });
    this.logger?.info({ origin: this.origin }, 'docker events stream connected');
    try {
      await this.reconcile();
      while (!this.stopped) {
        const event = queue.shift();
        if (event) {
          await this.handle(event);
          continue;
        }
        if (ended) break;
        await new Promise<void>((resolve) => {
          notify = resolve;
        });
        notify = undefined;
      }
    } finally {
      stream.close();
      this.stream = undefined;
      if (!this.stopped) {
        this.emit?.({
          source: 'docker',
          origin: this.origin,
          lifecycle: 'disconnected',
          ...(endError ? { error: endError } : {}),
        });
      }
    }
    return true;
  }

  /** Lists containers; those never seen are emitted as reconciled creates (after the first connection). */
  private async reconcile(): Promise<void> {
    const res = await engineGet(this.endpoint, '/containers/json?all=1');
    if (res.status !== 200) throw new Error(`/containers/json answered ${res.status}`);
    const list = JSON.parse(res.body) as ContainerSummary[];
    const first = !this.connectedOnce;
    this.connectedOnce = true;
    for (const c of list.sort((a, b) => (a.Created ?? 0) - (b.Created ?? 0))) {
      if (this.emittedCreate.has(c.Id) || this.baseline.has(c.Id)) continue;
      if (first && !this.emitExisting) {
        this.baseline.add(c.Id);
        continue;
      }
      const container = await this.inspect(`/containers/${c.Id}/json`);
      if (this.stopped) return;
      this.emittedCreate.add(c.Id);
      const created = typeof c.Created === 'number' ? c.Created : Math.floor(Date.now() / 1000);
      this.emit?.({
        source: 'docker',
        origin: this.origin,
        reconciled: true,
        event: {
          Type: 'container',
          Action: 'create',
          Actor: {
            ID: c.Id,
            Attributes: { image: c.Image ?? '', name: (c.Names?.[0] ?? '').replace(/^\//, '') },
          },
          scope: 'local',
          time: created,
          timeNano: created * 1_000_000_000,
        },
        ...(container ? { container } : {}),
      });
    }
  }

  private async handle(event: DockerEventMessage): Promise<void> {
    if (!this.isNew(event)) return;
    const action = baseAction(event.Action);
    const out: DockerRawEvent = { source: 'docker', origin: this.origin, event };
    if (event.Type === 'container') {
      const id = event.Actor.ID;
      if (action === 'create') {
        if (this.emittedCreate.has(id)) return; // reconciled already
        this.emittedCreate.add(id);
      }
      if (action === 'destroy') {
        this.emittedCreate.delete(id);
        this.baseline.delete(id);
      }
      if (CONTAINER_INSPECT_ACTIONS.has(action)) {
        const container = await this.inspect(`/containers/${encodeURIComponent(id)}/json`);
        if (container) out.container = container;
      } else if (action === 'exec_create' || action === 'exec_start') {
        const execId = event.Actor.Attributes?.['execID'];
        if (execId) {
          const exec = await this.inspect(`/exec/${encodeURIComponent(execId)}/json`);
          if (exec) out.exec = exec;
        }
        const container = await this.inspect(`/containers/${encodeURIComponent(id)}/json`);
        if (container) out.container = container;
      }
    }
    if (this.stopped) return;
    this.emit?.(out);
  }

  /** True for an event not handled yet (a `since` replay repeats the last second). */
  private isNew(event: DockerEventMessage): boolean {
    const nano = BigInt(event.timeNano ?? event.time * 1_000_000_000);
    const key = `${event.Type}|${event.Action}|${event.Actor.ID}`;
    if (nano < this.lastTimeNano) return false;
    if (nano === this.lastTimeNano) {
      if (this.lastKeys.has(key)) return false;
      this.lastKeys.add(key);
      return true;
    }
    this.lastTimeNano = nano;
    this.lastKeys = new Set([key]);
    return true;
  }

  /** GET a JSON object; undefined when it is gone (404) or the daemon fails to answer. */
  private async inspect(path: string): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await engineGet(this.endpoint, path);
      if (res.status !== 200) {
        this.logger?.debug({ origin: this.origin, path, status: res.status }, 'inspect failed');
        return undefined;
      }
      return JSON.parse(res.body) as Record<string, unknown>;
    } catch (err) {
      this.logger?.warn({ origin: this.origin, path, err: describeError(err) }, 'inspect failed');
      return undefined;
    }
  }
}

function readAll(stream: EngineStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    stream.response.setEncoding('utf8');
    stream.response.on('data', (c: string) => {
      body += c;
    });
    stream.response.on('end', () => resolve(body));
    stream.response.on('error', reject);
  });
}

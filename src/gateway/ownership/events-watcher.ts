/**
 * Follows dockerd's `/events` for containers, volumes and networks and tells the owner cache
 * what changed. The cache is on only while the stream is up: it is switched on when dockerd
 * answers the subscription (events after that point are seen) and off, and emptied, the moment
 * the stream ends or fails; the watcher then reconnects with a back-off.
 */
import type { Logger } from 'pino';
import type { Upstream } from '../upstream.js';
import type { OwnerCache } from './owner-cache.js';
import type { ObjectKind } from './references.js';

const KINDS: Readonly<Record<string, ObjectKind>> = {
  container: 'container',
  volume: 'volume',
  network: 'network',
};

/** One decoded event line: the cache invalidation it asks for, if any. */
export function eventTarget(
  line: string,
): { kind: ObjectKind; id: string | undefined; name: string | undefined; oldName?: string } | undefined {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof ev !== 'object' || ev === null) return undefined;
  const e = ev as { Type?: unknown; Actor?: { ID?: unknown; Attributes?: Record<string, unknown> } };
  const kind = typeof e.Type === 'string' ? KINDS[e.Type] : undefined;
  if (!kind) return undefined;
  const id = typeof e.Actor?.ID === 'string' ? e.Actor.ID : undefined;
  const attrs = e.Actor?.Attributes ?? {};
  const name = typeof attrs.name === 'string' ? attrs.name : undefined;
  const oldName = typeof attrs.oldName === 'string' ? attrs.oldName.replace(/^\//, '') : undefined;
  return { kind, id, name, ...(oldName ? { oldName } : {}) };
}

export class EventsWatcher {
  private stopped = false;
  private abort: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 250;

  constructor(
    private readonly upstream: Upstream,
    private readonly cache: OwnerCache,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
    this.cache.setLive(false);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.abort = new AbortController();
    const filters = JSON.stringify({ type: ['container', 'volume', 'network'] });
    try {
      const res = await this.upstream.request({
        method: 'GET',
        path: `/events?filters=${encodeURIComponent(filters)}`,
        signal: this.abort.signal,
      });
      if (res.statusCode !== 200) {
        res.body.destroy();
        throw new Error(`dockerd answered ${res.statusCode} to GET /events`);
      }
      this.cache.setLive(true);
      this.backoffMs = 250;
      this.logger.debug('ownership: following dockerd events, lookup cache on');
      let pending = '';
      for await (const chunk of res.body) {
        pending += (chunk as Buffer).toString('utf8');
        let nl = pending.indexOf('\n');
        while (nl !== -1) {
          this.apply(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          nl = pending.indexOf('\n');
        }
        // An event is a few hundred bytes; a stream that says otherwise is not trusted.
        if (pending.length > 1 << 20) throw new Error('an event line over 1 MiB');
      }
      throw new Error('dockerd ended the /events stream');
    } catch (err) {
      this.cache.setLive(false);
      if (this.stopped) return;
      this.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'ownership: dockerd events not followed, lookup cache off until they are',
      );
      this.timer = setTimeout(() => void this.connect(), this.backoffMs);
      this.timer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    }
  }

  private apply(line: string): void {
    if (line.trim() === '') return;
    const t = eventTarget(line);
    if (!t) return;
    this.cache.invalidate(t.kind, t.id, t.name);
    if (t.oldName) this.cache.invalidate(t.kind, undefined, t.oldName);
  }
}

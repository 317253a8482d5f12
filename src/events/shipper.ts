/**
 * Ships a gateway's audit log into the event store, off the gateway's hot path: it reads the log
 * file (and its rotated files) from the store's cursor, the highest seq stored for this source,
 * and appends in batches. The store skips a (source, seq) it has, so each record lands once;
 * when the store is down nothing is lost: the log stays the source of truth and the shipper
 * re-reads from the cursor once the store answers again.
 */
import { type FSWatcher, promises as fs, watch } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import { type AuditRecord, AuditRecordSchema } from '../gateway/audit-log/record.js';
import { resolveLogFiles } from '../gateway/audit-log/verify.js';
import type { HeadSigner } from './head-signature.js';
import type { EventStore, ShippedRecord } from './model.js';

export interface ShipperOptions {
  store: EventStore;
  /** The gateway's audit log (its rotated files FILE.N are read too). */
  logPath: string;
  /** The chain's name in the store (default `<hostname>:<absolute log path>`). */
  source?: string;
  host?: string;
  /** Records per insert (default 1000). */
  batch?: number;
  /** Wait before retrying a store that failed (default 1000 ms). */
  retryMs?: number;
  /** Look for new lines at least this often even without a file event (default 500 ms). */
  pollMs?: number;
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** Signs each chain head shipped (the gateway's TLS key); without it heads ship unsigned. */
  signer?: HeadSigner;
}

const CHUNK = 1 << 20;

/** The source name a log gets when none is given: the same whoever ships it (gateway or console). */
export function defaultSource(logPath: string): string {
  return `${hostname()}:${resolve(logPath)}`;
}

export class AuditShipper {
  readonly source: string;
  private readonly host: string;
  private readonly options: ShipperOptions;
  private readonly batchSize: number;
  private cursor = -1;

  /** The highest seq the store holds for this log (-1 before the store answered). */
  get exportedSeq(): number {
    return this.cursor;
  }
  /** Where the current file was read up to (only whole lines), and which file it was. */
  private position = 0;
  private ino = -1;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Records this shipper added to the store (tests and logs). */
  shipped = 0;
  /** Set while the store refuses writes. */
  lastError: string | undefined;

  constructor(options: ShipperOptions) {
    this.options = options;
    this.source = options.source ?? defaultSource(options.logPath);
    this.host = options.host ?? hostname();
    this.batchSize = options.batch ?? 1000;
  }

  start(): void {
    try {
      this.watcher = watch(dirname(this.options.logPath), (_t, file) => {
        if (file === null || file.startsWith(basename(this.options.logPath))) this.wake?.();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // Polling alone.
    }
    this.timer = setInterval(() => this.wake?.(), this.options.pollMs ?? 500);
    this.timer.unref();
    this.loop = this.run();
  }

  /** Resolves once the store holds every whole record the log holds now (tests, shutdown). */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const files = await resolveLogFiles(this.options.logPath).catch(() => []);
      const last = files.length > 0 ? await lastSeqOfFile(files[files.length - 1]!) : 0;
      if (this.cursor >= last) return;
      if (Date.now() > deadline) return;
      this.wake?.();
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.cursor < 0) {
          this.cursor = await this.options.store.lastSeq(this.source);
          this.ino = -1; // re-read the files from the cursor
        }
        await this.shipNew();
        if (this.lastError !== undefined) {
          this.options.logger?.info({ source: this.source, seq: this.cursor }, 'event store reachable again');
          this.lastError = undefined;
        }
        await this.idle(this.options.pollMs ?? 500);
      } catch (err) {
        const message = describeError(err);
        if (this.lastError === undefined) {
          this.options.logger?.warn(
            { source: this.source, seq: this.cursor, err: message },
            'cannot write to the event store; the audit log keeps the records, retrying',
          );
        }
        this.lastError = message;
        // The store is the truth: after a failure, ask it where to resume.
        this.cursor = -1;
        await this.idle(this.options.retryMs ?? 1000);
      }
    }
  }

  private idle(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((res) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        res();
      }
      this.wake = done;
    });
  }

  /** Appends whatever the log holds past the cursor. */
  private async shipNew(): Promise<void> {
    const path = this.options.logPath;
    let st: import('node:fs').Stats;
    try {
      st = await fs.stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (st.ino === this.ino && st.size >= this.position) {
      if (st.size > this.position) this.position = await this.shipFile(path, this.position);
      return;
    }
    // First pass, a rotation or a truncation: read every file from the start, skipping what is stored.
    const files = await resolveLogFiles(path).catch(() => [path]);
    for (const file of files) {
      const fst = await fs.stat(file).catch(() => undefined);
      if (!fst) continue;
      const end = await this.shipFile(file, 0);
      if (file === path) {
        this.ino = fst.ino;
        this.position = end;
      }
    }
  }

  /** Ships the records of one file from `from` (a line start); returns the offset after the last whole line. */
  private async shipFile(file: string, from: number): Promise<number> {
    const handle = await fs.open(file, 'r');
    try {
      let position = from;
      let carry = Buffer.alloc(0);
      let pending: ShippedRecord[] = [];
      const buf = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, CHUNK, position + carry.length);
        if (bytesRead === 0) break;
        const data =
          carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let start = 0;
        for (;;) {
          const nl = data.indexOf(0x0a, start);
          if (nl === -1) break;
          const record = parseLine(data.subarray(start, nl));
          if (record && record.seq > this.cursor) {
            pending.push({ source: this.source, host: this.host, record });
            if (pending.length >= this.batchSize) {
              await this.append(pending);
              pending = [];
            }
          }
          start = nl + 1;
        }
        position += start;
        carry = Buffer.from(data.subarray(start));
      }
      await this.append(pending);
      return position;
    } finally {
      await handle.close();
    }
  }

  private async append(batch: ShippedRecord[]): Promise<void> {
    if (batch.length === 0) return;
    this.shipped += await this.options.store.appendAudit(batch);
    const last = batch[batch.length - 1]!.record;
    this.cursor = last.seq;
    const head = { source: this.source, seq: last.seq, hash: last.hash, time: last.time };
    await this.options.store.putChainHead({ ...head, ...this.options.signer?.(head) });
  }
}

/** A log line as the record it holds (kept exactly as written, so the stored hash still verifies). */
function parseLine(bytes: Buffer): AuditRecord | undefined {
  if (bytes.length === 0) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return AuditRecordSchema.safeParse(value).success ? (value as AuditRecord) : undefined;
  } catch {
    return undefined; // a torn line a crash left: it holds no record
  }
}

async function lastSeqOfFile(file: string): Promise<number> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const lines = text.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const r = parseLine(Buffer.from(lines[i]!, 'utf8'));
    if (r) return r.seq;
  }
  return 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

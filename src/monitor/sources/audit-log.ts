/**
 * Follows the gateway's audit log (JSON lines) like `tail -F`: across the writer's rotation
 * (`FILE` renamed to `FILE.1`, a new `FILE` created) and across truncation, from the end by
 * default or from the start. A partial last line waits for its newline; a line that is not an
 * audit record is logged and skipped.
 */
import { type FSWatcher, promises as fs, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { describeError } from '../../errors.js';
import { type AuditRecord, AuditRecordSchema } from '../../gateway/audit-log/record.js';
import { MAX_LINE_BYTES } from '../../gateway/audit-log/tail.js';
import type { EventSource, RawEvent } from '../model.js';

export interface AuditLogSourceOptions {
  path: string;
  /** Read the records already in the file too (default: only what is appended from now on). */
  fromStart?: boolean;
  /** Fallback check period when fs.watch misses a change (network file systems): default 1000 ms. */
  pollIntervalMs?: number;
  logger?: Pick<Logger, 'warn' | 'info'>;
}

const READ_CHUNK = 64 * 1024;

/** An `EventSource` over an audit log file. */
export class AuditLogSource implements EventSource {
  readonly name: string;
  private readonly path: string;
  private readonly fromStart: boolean;
  private readonly pollIntervalMs: number;
  private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined;
  private emit: ((event: RawEvent) => void) | undefined;
  private handle: fs.FileHandle | undefined;
  private ino = -1;
  private position = 0;
  /** Bytes of a line whose newline has not arrived yet. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Drop bytes up to the next newline (we started in the middle of a line, or it is too long). */
  private skipToNewline = false;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private firstOpen = true;
  /** Records emitted so far (tests and stats). */
  emitted = 0;

  constructor(options: AuditLogSourceOptions) {
    this.path = options.path;
    this.name = `audit-log:${options.path}`;
    this.fromStart = options.fromStart === true;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.logger = options.logger;
  }

  /** Opens the file (or waits for it to appear) and starts following it. */
  async start(emit: (event: RawEvent) => void): Promise<void> {
    this.emit = emit;
    try {
      // The folder, not the file: a watch on the file would stay on the renamed FILE.1.
      this.watcher = watch(dirname(this.path), (_type, file) => {
        if (file === null || file === basename(this.path)) this.check();
      });
      this.watcher.on('error', () => {
        // Polling carries on alone.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.logger?.warn({ path: this.path, err: describeError(err) }, 'cannot watch the audit log; polling');
    }
    this.timer = setInterval(() => this.check(), this.pollIntervalMs);
    this.timer.unref();
    this.check();
    await this.running;
  }

  /** Stops following; resolves once the read in progress (if any) is done and the file closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    while (this.running) await this.running;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  /** Runs one catch-up pass, never two at once; a change during a pass triggers one more. */
  private check(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((err: unknown) => {
        this.logger?.warn({ path: this.path, err: describeError(err) }, 'reading the audit log failed');
      })
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.check();
        }
      });
  }

  private async catchUp(): Promise<void> {
    if (!this.handle) {
      if (!(await this.open())) return;
    }
    await this.readToEnd();
    let st: import('node:fs').Stats;
    try {
      st = await fs.stat(this.path);
    } catch (err) {
      // Between the writer's rename and its new file: the next event or poll finds the new one.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (st.ino !== this.ino) {
      // Rotated: the old file may have got its last lines after the read above; finish it first.
      await this.readToEnd();
      if (this.pendingBytes > 0) {
        this.logger?.warn({ path: this.path, bytes: this.pendingBytes }, 'rotated file ended mid-line');
      }
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      this.resetLine();
      if (await this.open()) await this.readToEnd();
      return;
    }
    if (st.size < this.position) {
      this.logger?.warn({ path: this.path }, 'the audit log was truncated; reading it from its start');
      this.position = 0;
      this.resetLine();
      await this.readToEnd();
    }
  }

  /** Opens the current file; the first open starts at its end unless `fromStart`. */
  private async open(): Promise<boolean> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // A file that appears later is new: all of it is read.
        this.firstOpen = false;
        return false;
      }
      throw err;
    }
    const st = await handle.stat();
    this.handle = handle;
    this.ino = st.ino;
    this.position = 0;
    this.resetLine();
    if (this.firstOpen && !this.fromStart && st.size > 0) {
      this.position = st.size;
      // Starting inside a line (the writer is mid-write): its rest is not a whole record.
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, st.size - 1);
      this.skipToNewline = last[0] !== 0x0a;
    }
    this.firstOpen = false;
    return true;
  }

  private resetLine(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipToNewline = false;
  }

  private async readToEnd(): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      if (this.stopped) return;
      const { bytesRead } = await handle.read(buf, 0, READ_CHUNK, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      this.consume(buf.subarray(0, bytesRead));
    }
  }

  /** Splits bytes into lines; the bytes after the last newline wait for the next read. */
  private consume(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      if (this.skipToNewline) {
        this.skipToNewline = false;
      } else {
        const line =
          this.pendingBytes === 0
            ? piece
            : Buffer.concat([...this.pending, piece], this.pendingBytes + piece.length);
        this.line(line);
      }
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length && !this.skipToNewline) {
      const rest = chunk.subarray(start);
      if (this.pendingBytes + rest.length > MAX_LINE_BYTES) {
        this.logger?.warn({ path: this.path }, 'skipping a line over the audit-log line limit');
        this.pending = [];
        this.pendingBytes = 0;
        this.skipToNewline = true;
      } else {
        this.pending.push(Buffer.from(rest)); // a copy: the read buffer is reused
        this.pendingBytes += rest.length;
      }
    }
  }

  private line(bytes: Buffer): void {
    if (bytes.length === 0) return;
    let record: AuditRecord;
    try {
      const parsed = AuditRecordSchema.safeParse(JSON.parse(bytes.toString('utf8')));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'not an audit record');
      record = parsed.data;
    } catch (err) {
      this.logger?.warn(
        { path: this.path, err: describeError(err), line: bytes.subarray(0, 200).toString('utf8') },
        'skipping a line that is not an audit record',
      );
      return;
    }
    this.emitted++;
    this.emit?.({ source: 'gateway', origin: this.path, record });
  }
}

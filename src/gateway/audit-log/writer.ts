/**
 * The audit-log writer: hash-chained JSON lines appended in order through one O_APPEND file
 * descriptor, size-based rotation, a configurable fsync policy, and a live in-process feed.
 * `docs/audit-log.md` states what each fsync policy guarantees.
 */
import { acquireLockFile } from '../../store/lock.js';
import { constants, promises as fs, write } from 'node:fs';
import { dirname } from 'node:path';
import { DockwardError, describeError, isDockwardError } from '../../errors.js';
import { boundRecord } from './bound.js';
import { sealRecord } from './chain.js';
import { type AuditRecord, type AuditRecordInput, AuditRecordInputSchema, ZERO_HASH } from './record.js';
import { MAX_LINE_BYTES, readLogTail } from './tail.js';

/** When the writer calls fdatasync(2). */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface AuditLogOptions {
  /** Rotate before a line would take the file past this size (default 100 MiB). */
  maxBytes?: number;
  /** Rotated files kept at most: `FILE.1` (newest) … `FILE.<keep>` (default 10; 0 keeps none). */
  keep?: number;
  /** Rotated files kept while their sizes add up to at most this (default: no limit but `keep`). */
  maxTotalBytes?: number;
  /** A rotated file last written longer ago than this is deleted, exported or not (default: none). */
  maxAgeMs?: number;
  /**
   * Whether the records up to `seq` are exported (held elsewhere, e.g. the event store). A rotated
   * file over `keep`/`maxTotalBytes` whose records are not is kept until `maxAgeMs`, with a
   * warning. Default: everything counts as exported (the size limits alone decide).
   */
  isExported?: (seq: number) => boolean;
  /** Told about retention decisions worth an operator's attention (unexported records). */
  onRetention?: (event: RetentionEvent) => void;
  /**
   * `always`: fdatasync after every batch of writes, before `appendDurable` resolves;
   * `interval` (default): fdatasync every `fsyncIntervalMs` when something was written, on
   * rotation, `flush()` and `close()`; `never`: only on rotation, `flush()` and `close()`.
   */
  fsync?: FsyncPolicy;
  /** Period of the `interval` policy (default 1000 ms). */
  fsyncIntervalMs?: number;
  /** Check each appended record against the schema (default true; it costs well under 1 µs). */
  validate?: boolean;
  /** Told once when the log fails (a write, fsync or rotation error); every later append throws. */
  onError?: (err: DockwardError) => void;
}

/**
 * Called synchronously from `append`, in chain order, with every record (before its write): keep
 * it cheap, or queue the work, since it runs on the gateway's hot path.
 */
export type AuditListener = (record: AuditRecord) => void;

/** A retention decision about unexported records. */
export interface RetentionEvent {
  kind: 'kept-unexported' | 'deleting-unexported';
  file: string;
  /** The last record the file holds. */
  lastSeq: number | null;
  /** Why the file is due for deletion. */
  why: 'count' | 'size' | 'age';
  message: string;
}

/** What a rotation is about to delete, handed to `setBeforeDelete`'s hook before the unlink. */
export interface DeletionNotice {
  files: string[];
  /** The first seq the log holds once they are gone. */
  newStart: number;
}

/** Something worth telling the live feed that is not a record (a signed head, an alert). */
export type AuditNotice = { feed: string } & Record<string, unknown>;
export type NoticeListener = (notice: AuditNotice) => void;

const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
const DEFAULT_KEEP = 10;
const DEFAULT_FSYNC_INTERVAL_MS = 1000;
const MODE_LOG_FILE = 0o600;
const MODE_LOG_DIR = 0o700;

interface QueuedLine {
  text: string;
  seq: number;
  hash: string;
}
const ROTATE = Symbol('rotate');
type QueueEntry = QueuedLine | typeof ROTATE;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** How the chain state was found when the log was opened. */
export interface AuditLogOpenState {
  /** seq of the last record already in the log (0 for a new chain). */
  seq: number;
  /** hash of the last record already in the log (64 zeros for a new chain). */
  head: string;
  /** The file the chain continues from (the log itself, or a rotated file), if any. */
  continuedFrom: string | undefined;
  /** Bytes of a torn last line found at open and terminated with a newline (0 if none). */
  tornBytes: number;
}

/**
 * Appends hash-chained audit records to one file. One writer per file: a `FILE.lock` holding the
 * writer's pid keeps a second process (or a second writer in this one) out.
 */
export class AuditLogWriter {
  readonly path: string;
  readonly opened: AuditLogOpenState;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly fsyncPolicy: FsyncPolicy;
  private readonly validate: boolean;
  private readonly onError: ((err: DockwardError) => void) | undefined;
  private readonly lockPath: string;
  private fd: fs.FileHandle;
  private fileMode: number;
  private size: number;
  private seq: number;
  private head: string;
  private queue: QueueEntry[] = [];
  private drainScheduled = false;
  /** Every file operation runs on this chain, one at a time, in order. */
  private ops: Promise<void> = Promise.resolve();
  private writtenSeq: number;
  private waiters: Waiter[] = [];
  private dirty = false;
  private syncQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: DockwardError | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly listeners = new Set<AuditListener>();
  private readonly noticeListeners = new Set<NoticeListener>();
  private writtenHash: string;
  private start: number;
  private beforeDelete: ((notice: DeletionNotice) => Promise<void>) | undefined;
  private readonly maxTotalBytes: number;
  private readonly maxAgeMs: number;
  private readonly isExported: (seq: number) => boolean;
  private readonly onRetention: ((event: RetentionEvent) => void) | undefined;

  private constructor(
    path: string,
    fd: fs.FileHandle,
    fileMode: number,
    size: number,
    opened: AuditLogOpenState,
    options: AuditLogOptions,
    start: number,
  ) {
    this.path = path;
    this.lockPath = `${path}.lock`;
    this.fd = fd;
    this.fileMode = fileMode;
    this.size = size;
    this.opened = opened;
    this.seq = opened.seq;
    this.head = opened.head;
    this.writtenSeq = opened.seq;
    this.writtenHash = opened.head;
    this.start = start;
    this.maxTotalBytes = options.maxTotalBytes ?? Number.POSITIVE_INFINITY;
    this.maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.isExported = options.isExported ?? (() => true);
    this.onRetention = options.onRetention;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.keep = options.keep ?? DEFAULT_KEEP;
    this.fsyncPolicy = options.fsync ?? 'interval';
    this.validate = options.validate ?? true;
    this.onError = options.onError;
    if (this.fsyncPolicy === 'interval') {
      this.timer = setInterval(() => this.tick(), options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS);
      this.timer.unref(); // an idle log must not keep the process alive
    }
  }

  /**
   * Opens (or creates, 0600, in a folder created 0700) the log at `path` and continues its chain
   * from the last record of the file, or of `FILE.1` when the file is new or empty.
   */
  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLogWriter> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const keep = options.keep ?? DEFAULT_KEEP;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new DockwardError('DW_E_USAGE', `audit log maxBytes must be a positive integer, not ${maxBytes}`);
    }
    if (!Number.isSafeInteger(keep) || keep < 0) {
      throw new DockwardError('DW_E_USAGE', `audit log keep must be a whole number, not ${keep}`);
    }
    await ensureLogDir(dirname(path));
    await acquireLock(`${path}.lock`, path);
    try {
      const tail = await readLogTail(path);
      let opened: AuditLogOpenState = {
        seq: 0,
        head: ZERO_HASH,
        continuedFrom: undefined,
        tornBytes: tail.tornBytes,
      };
      if (tail.last) {
        opened = { ...opened, seq: tail.last.seq, head: tail.last.hash, continuedFrom: path };
      } else {
        // A new or empty file (say, a crash right after a rotation): chain on from the rotated files.
        for (let n = 1; n <= Math.max(keep, 1); n++) {
          const older = await readLogTail(`${path}.${n}`);
          if (!older.exists) break;
          if (older.last) {
            opened = { ...opened, seq: older.last.seq, head: older.last.hash, continuedFrom: `${path}.${n}` };
            break;
          }
        }
      }
      const fd = await openLogFile(path, MODE_LOG_FILE);
      let size = tail.size;
      let mode = MODE_LOG_FILE;
      try {
        mode = (await fd.stat()).mode & 0o777;
        if (tail.tornBytes > 0) {
          // End the torn line so it stays a line of its own, outside the chain (docs/audit-log.md).
          await fd.write('\n');
          await fd.datasync();
          size += 1;
        }
      } catch (err) {
        await fd.close().catch(() => undefined);
        throw writeError(path, err);
      }
      const start = (await oldestFirstSeq(path)) ?? opened.seq + 1;
      return new AuditLogWriter(path, fd, mode, size, opened, options, start);
    } catch (err) {
      await fs.rm(`${path}.lock`, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** seq of the last appended record (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** hash of the last appended record: the chain head (64 zeros before the first). */
  get lastHash(): string {
    return this.head;
  }

  /** The last record handed to write(2): the head a signature may vouch for (the file holds it). */
  get durableHead(): { seq: number; hash: string } {
    return { seq: this.writtenSeq, hash: this.writtenHash };
  }

  /** The first seq the log and its rotated files hold (lastSeq + 1 while they hold none). */
  get startSeq(): number {
    return this.start;
  }

  /**
   * A hook run before rotation deletes files (awaited, in the writer's order): the signed-heads
   * keeper records the new start first, so `audit-log verify` can tell a rotation from a deletion.
   */
  setBeforeDelete(hook: ((notice: DeletionNotice) => Promise<void>) | undefined): void {
    this.beforeDelete = hook;
  }

  /** Follows the notices (signed heads, alerts) the gateway publishes; returns the function that stops it. */
  subscribeNotices(listener: NoticeListener): () => void {
    this.noticeListeners.add(listener);
    return () => {
      this.noticeListeners.delete(listener);
    };
  }

  /** Hands a notice to the notice listeners (the live feed). */
  notify(notice: AuditNotice): void {
    for (const listener of this.noticeListeners) {
      try {
        listener(notice);
      } catch {
        // A faulty subscriber changes nothing.
      }
    }
  }

  /** Records appended but not yet handed to write(2): a backlog that grows when the disk lags. */
  get backlog(): number {
    return this.seq - this.writtenSeq;
  }

  /**
   * Seals the record into the chain and queues its line; the write happens right after, in order.
   * Synchronous and cheap, for the hot path. Throws when the log has failed or is closed, so the
   * caller can refuse the request instead of serving it unrecorded.
   */
  append(input: AuditRecordInput): AuditRecord {
    if (this.failure) throw this.failure;
    if (this.closing) {
      throw new DockwardError(
        'DW_E_INTERNAL',
        `the audit log ${this.path} is closed; nothing more is recorded`,
      );
    }
    let body: AuditRecordInput = input;
    if (this.validate) {
      const parsed = AuditRecordInputSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new DockwardError(
          'DW_E_INTERNAL',
          `an audit record does not match its schema: ${issue?.path.join('.') || 'record'}: ${issue?.message}`,
        );
      }
      body = parsed.data; // unknown keys dropped: only documented fields reach the file
    }
    body = boundRecord(body); // over-long fields cut with a marker: the record is never dropped
    const seq = this.seq + 1;
    const fields = { v: 1, seq, time: input.time ?? new Date().toISOString(), prev: this.head } as const;
    const sealed = sealRecord(body, fields);
    const bytes = Buffer.byteLength(sealed.line, 'utf8') + 1;
    if (bytes > MAX_LINE_BYTES) {
      // The verifier and the reopen scan would take so long a line for a remnant; boundRecord cuts
      // every field far below this, so reaching it is a bug, and the request is refused.
      throw new DockwardError('DW_E_INTERNAL', `an audit record of ${bytes} bytes is over the line limit`);
    }
    if (this.size > 0 && this.size + bytes > this.maxBytes) {
      this.queue.push(ROTATE);
      this.size = 0;
    }
    this.size += bytes;
    this.seq = seq;
    this.head = sealed.hash;
    this.queue.push({ text: `${sealed.line}\n`, seq, hash: sealed.hash });
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      this.run(() => this.drain());
    }
    // Object.assign, not a spread: V8 copies this shape several times faster (bench/audit-log.ts).
    const record = Object.assign({}, body, fields, { hash: sealed.hash }) as AuditRecord;
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        // A faulty subscriber must not break recording; the record is in the chain regardless.
      }
    }
    return record;
  }

  /**
   * Appends and resolves once write(2) has returned for the record's line (fsynced too with the
   * `always` policy): the kernel holds it, so it survives a crash of this process. The gateway
   * awaits this for the DECISION record before forwarding a request.
   */
  appendDurable(input: AuditRecordInput): Promise<AuditRecord> {
    let record: AuditRecord;
    try {
      record = this.append(input);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<AuditRecord>((resolve, reject) => {
      if (this.writtenSeq >= record.seq) resolve(record);
      else this.waiters.push({ seq: record.seq, resolve: () => resolve(record), reject });
    });
  }

  /** Resolves when every record appended so far is written and fsynced. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return this.closed; // close() flushes; the file is gone after it
    return this.run(async () => {
      await this.drain();
      await this.sync();
    });
  }

  /** Flushes, closes the file and releases the lock. Appending afterwards throws. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    const finish = async () => {
      await this.run(async () => {
        await this.drain();
        await this.sync();
      }).catch(() => undefined); // a failure was reported already (onError, appendDurable)
      await this.ops;
      await this.fd.close().catch(() => undefined);
      this.rejectWaiters(this.failure ?? new DockwardError('DW_E_INTERNAL', 'the audit log was closed'));
      await fs.rm(this.lockPath, { force: true }).catch(() => undefined);
      this.listeners.clear();
    };
    this.closed = finish();
    return this.closed;
  }

  /** Follows every record appended from now on; returns the function that stops it. */
  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Queues a file operation behind the others; a failing one puts the log in the failed state. */
  private run(op: () => Promise<void>): Promise<void> {
    const p = this.ops.then(() => {
      if (this.failure) throw this.failure;
      return op();
    });
    this.ops = p.catch((err: unknown) => this.fail(err));
    return p;
  }

  /** Writes everything queued, rotating where `append` decided to. */
  private async drain(): Promise<void> {
    this.drainScheduled = false;
    while (this.queue.length > 0) {
      if (this.queue[0] === ROTATE) {
        this.queue.shift();
        await this.rotate();
        continue;
      }
      let n = 0;
      let text = '';
      let lastSeq = this.writtenSeq;
      let lastHash = this.writtenHash;
      for (; n < this.queue.length; n++) {
        const entry = this.queue[n]!;
        if (entry === ROTATE) break;
        text += entry.text;
        lastSeq = entry.seq;
        lastHash = entry.hash;
      }
      this.queue.splice(0, n);
      await writeAll(this.fd, Buffer.from(text, 'utf8'));
      this.dirty = true;
      if (this.fsyncPolicy === 'always') await this.sync();
      this.writtenSeq = lastSeq;
      this.writtenHash = lastHash;
      this.resolveWaiters();
    }
  }

  private async sync(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.fd.datasync();
  }

  private tick(): void {
    if (!this.dirty || this.syncQueued || this.failure || this.closing) return;
    this.syncQueued = true;
    this.run(async () => {
      this.syncQueued = false;
      await this.sync();
    }).catch(() => undefined); // reported through fail()
  }

  /**
   * FILE → FILE.1, FILE.n → FILE.n+1, then the oldest rotated files dropped while over `keep`,
   * `maxTotalBytes` or `maxAgeMs` (unexported ones only for age); a new FILE continues the chain.
   */
  private async rotate(): Promise<void> {
    this.dirty = true;
    await this.sync();
    await this.fd.close();
    let count = 0;
    while (await exists(`${this.path}.${count + 1}`)) count++;
    for (let n = count; n >= 1; n--) await fs.rename(`${this.path}.${n}`, `${this.path}.${n + 1}`);
    await fs.rename(this.path, `${this.path}.1`);
    count++;
    await this.applyRetention(count);
    this.fd = await openLogFile(this.path, this.fileMode, true);
    await syncDir(dirname(this.path));
  }

  /** Drops the oldest of `FILE.1` … `FILE.count` while the limits ask, never leaving a gap. */
  private async applyRetention(count: number): Promise<void> {
    const files: { path: string; size: number; mtimeMs: number }[] = [];
    let total = 0;
    for (let n = 1; n <= count; n++) {
      const st = await fs.stat(`${this.path}.${n}`);
      files.push({ path: `${this.path}.${n}`, size: st.size, mtimeMs: st.mtimeMs });
      total += st.size;
    }
    const drop: string[] = [];
    let newStart = this.start;
    const now = Date.now();
    while (files.length > 0) {
      const oldest = files[files.length - 1]!;
      const why: RetentionEvent['why'] | undefined =
        now - oldest.mtimeMs > this.maxAgeMs
          ? 'age'
          : files.length > this.keep
            ? 'count'
            : total > this.maxTotalBytes
              ? 'size'
              : undefined;
      if (!why) break;
      const lastSeq = (await readLogTail(oldest.path)).last?.seq ?? null;
      const exported = lastSeq === null || this.isExported(lastSeq);
      if (!exported && why !== 'age') {
        this.retention({
          kind: 'kept-unexported',
          file: oldest.path,
          lastSeq,
          why,
          message: `${oldest.path} is over the ${why === 'count' ? 'file count' : 'size'} limit but holds records (to seq ${lastSeq}) not exported yet: kept until its age limit`,
        });
        break;
      }
      if (!exported) {
        this.retention({
          kind: 'deleting-unexported',
          file: oldest.path,
          lastSeq,
          why,
          message: `deleting ${oldest.path} at its age limit: it holds records (to seq ${lastSeq}) that were never exported`,
        });
      }
      drop.push(oldest.path);
      if (lastSeq !== null) newStart = lastSeq + 1;
      total -= oldest.size;
      files.pop();
    }
    if (drop.length === 0) return;
    await this.beforeDelete?.({ files: drop, newStart });
    for (const file of drop) await fs.rm(file, { force: true });
    this.start = newStart;
  }

  private retention(event: RetentionEvent): void {
    try {
      this.onRetention?.(event);
    } catch {
      // Reporting must not stop the rotation.
    }
  }

  private resolveWaiters(): void {
    let i = 0;
    while (i < this.waiters.length && this.waiters[i]!.seq <= this.writtenSeq) {
      this.waiters[i]!.resolve();
      i++;
    }
    if (i > 0) this.waiters.splice(0, i);
  }

  private rejectWaiters(err: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = isDockwardError(err) ? err : writeError(this.path, err);
    this.queue = [];
    if (this.timer) clearInterval(this.timer);
    this.rejectWaiters(this.failure);
    try {
      this.onError?.(this.failure);
    } catch {
      // The failure is also thrown by every later append; a throwing handler changes nothing.
    }
  }
}

function writeError(path: string, err: unknown): DockwardError {
  return new DockwardError('DW_E_FILE', `cannot write the audit log ${path}: ${describeError(err)}`, {
    hint: 'Check that the folder is writable and the disk is not full, then restart the gateway.',
    cause: err,
  });
}

/**
 * Writes the whole buffer; write(2) on a regular file may write less than asked (disk full).
 * Through the callback API on the raw descriptor: a FileHandle write costs more per call.
 */
async function writeAll(handle: fs.FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const written = await new Promise<number>((resolve, reject) => {
      write(handle.fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve(n)));
    });
    if (written <= 0) throw new Error('write(2) wrote nothing');
    off += written;
  }
}

async function openLogFile(path: string, mode: number, mustBeNew = false): Promise<fs.FileHandle> {
  const flags =
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (mustBeNew ? constants.O_EXCL : 0);
  let fd: fs.FileHandle;
  try {
    fd = await fs.open(path, flags, mode);
  } catch (err) {
    throw writeError(path, err);
  }
  const st = await fd.stat();
  // A new file gets the mode exactly (the umask may have narrowed it); an existing one keeps the
  // mode its operator gave it (say 0640 for a log shipper's group).
  if (st.size === 0 && (st.mode & 0o777) !== mode) await fd.chmod(mode);
  return fd;
}

/** Creates the log folder 0700 when missing; an existing folder's mode is the operator's. */
async function ensureLogDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { mode: MODE_LOG_DIR });
    await fs.chmod(dir, MODE_LOG_DIR);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      await fs.mkdir(dir, { recursive: true, mode: MODE_LOG_DIR });
      await fs.chmod(dir, MODE_LOG_DIR);
      return;
    }
    throw writeError(dir, err);
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

/** The first seq of the oldest file of the log (`FILE.N` … `FILE.1`, `FILE`), if any holds one. */
async function oldestFirstSeq(path: string): Promise<number | undefined> {
  let n = 0;
  while (await exists(`${path}.${n + 1}`)) n++;
  for (; n >= 0; n--) {
    const seq = await firstSeq(n === 0 ? path : `${path}.${n}`);
    if (seq !== undefined) return seq;
  }
  return undefined;
}

/** The seq of the first record of a file: its first line that parses (torn remnants skipped). */
async function firstSeq(path: string): Promise<number | undefined> {
  const h = await fs.open(path, 'r').catch(() => undefined);
  if (!h) return undefined;
  try {
    const buf = Buffer.alloc(MAX_LINE_BYTES);
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    for (const line of buf.subarray(0, bytesRead).toString('utf8').split('\n')) {
      try {
        const seq = (JSON.parse(line) as { seq?: unknown }).seq;
        if (typeof seq === 'number') return seq;
      } catch {
        // a remnant, or the cut end of the buffer
      }
    }
    return undefined;
  } finally {
    await h.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!h) return;
  await h.sync().catch(() => undefined); // some file systems refuse fsync on a folder
  await h.close();
}

/** One writer per log: `FILE.lock` holds the owner's pid; a lock whose process is gone is taken over. */
async function acquireLock(lockPath: string, logPath: string): Promise<void> {
  try {
    await acquireLockFile(lockPath, {
      waitMs: 500,
      held: (owner) =>
        new DockwardError(
          'DW_E_LOCKED',
          owner === undefined
            ? `cannot take the lock ${lockPath} of the audit log ${logPath}`
            : `the audit log ${logPath} is being written by process ${owner}${owner === process.pid ? ' (this one)' : ''}`,
          {
            hint: 'Give each gateway its own --audit-log file (two writers would break the hash chain); remove the lock file if no gateway writes this log.',
          },
        ),
    });
  } catch (err) {
    throw err instanceof DockwardError ? err : writeError(lockPath, err);
  }
}

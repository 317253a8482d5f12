/**
 * Signed chain heads kept outside the log: every so many records or seconds, at each rotation that
 * deletes files, and at stop, the gateway signs (seq, hash, start) of its log with its TLS key and
 * appends the line to `FILE.heads` (and hands it to the live feed and the gateway's own log).
 * `audit-log verify` checks the log against the latest one: a log that ends before the signed
 * seq was cut, one whose record at that seq has another hash was replaced, one that starts after
 * the signed start lost a rotated file.
 */
import { constants, promises as fs } from 'node:fs';
import { z } from 'zod';
import type { KeySigner } from '../../events/head-signature.js';
import type { AuditLogWriter, DeletionNotice } from './writer.js';

const DOMAIN = 'dockward-audit-log-head-v1';

/** One line of `FILE.heads`. */
export const LogHeadSchema = z.object({
  v: z.literal(1),
  /** `host:/absolute/path` of the log, as the event store names it. */
  source: z.string(),
  /** The last record the file held when signed (0: none yet). */
  seq: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  time: z.string(),
  /** The first seq the log (with its rotated files) holds: older ones were rotated away. */
  start: z.number().int().positive(),
  /** base64 signature over `logHeadBytes`. */
  signature: z.string(),
  /** The signer's certificate (PEM): the gateway's TLS certificate, issued by the PKI's CA. */
  certificate: z.string(),
});
export type LogHead = z.infer<typeof LogHeadSchema>;

/** The bytes a head line's signature covers: a domain-tagged JSON array, no field ambiguity. */
export function logHeadBytes(h: Pick<LogHead, 'source' | 'seq' | 'hash' | 'time' | 'start'>): Buffer {
  return Buffer.from(JSON.stringify([DOMAIN, h.source, h.seq, h.hash, h.time, h.start]), 'utf8');
}

/** The heads file of a log. */
export function headsPathFor(logPath: string): string {
  return `${logPath}.heads`;
}

export interface ReadHeads {
  heads: LogHead[];
  /** Lines that are not heads: `line N: why`. */
  bad: string[];
}

/** Reads a heads file; undefined when there is none. */
export async function readHeads(path: string): Promise<ReadHeads | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const heads: LogHead[] = [];
  const bad: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // The last line of a file a crash cut short is not a head; any other is damage.
      if (i !== lines.length - 1) bad.push(`line ${i + 1}: not JSON`);
      return;
    }
    const parsed = LogHeadSchema.safeParse(value);
    if (parsed.success) heads.push(parsed.data);
    else
      bad.push(
        `line ${i + 1}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
  });
  return { heads, bad };
}

export interface HeadKeeperOptions {
  writer: AuditLogWriter;
  signer: KeySigner;
  source: string;
  /** Sign once this many records were written since the last head (default 1000). */
  everyRecords?: number;
  /** Sign at this period when records were written since the last head (default 10 s). */
  everyMs?: number;
  /** Told each head written (the gateway logs it: a copy in the journal / syslog). */
  onHead?: (head: LogHead) => void;
  onError?: (err: unknown) => void;
}

/** Writes signed heads of one log to `FILE.heads`; one per log, in the process holding its writer. */
export class HeadKeeper {
  readonly path: string;
  private readonly options: HeadKeeperOptions;
  private last: { seq: number; start: number } | undefined;
  private sinceHead = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private stopped = false;
  /**
   * The start the heads file vouches for: it moves only with deletions this writer makes, never
   * because files went missing while the gateway was stopped (that must fail verify, not be signed).
   */
  private signedStart: number | undefined;
  private readonly loaded: Promise<void>;

  constructor(options: HeadKeeperOptions) {
    this.options = options;
    this.path = headsPathFor(options.writer.path);
    const every = options.everyRecords ?? 1000;
    this.unsubscribe = options.writer.subscribe(() => {
      if (++this.sinceHead >= every) {
        this.sinceHead = 0;
        // The records are queued, not yet written: sign once the writer has handed them over.
        setImmediate(() => void this.sign());
      }
    });
    this.timer = setInterval(() => void this.sign(), options.everyMs ?? 10_000);
    this.timer.unref();
    options.writer.setBeforeDelete((notice) => this.sign(notice));
    this.loaded = readHeads(this.path).then(
      (read) => {
        this.signedStart = read?.heads.at(-1)?.start;
      },
      () => undefined,
    );
  }

  /**
   * Signs the writer's durable head (what write(2) took) unless it is the one signed last; with a
   * deletion notice, the start the log will have once the files are gone.
   */
  sign(deleting?: DeletionNotice): Promise<void> {
    const run = this.chain.then(() => this.loaded).then(() => this.write(deleting));
    this.chain = run.catch((err: unknown) => this.options.onError?.(err));
    return run;
  }

  /** The last head, once the writer is closed (so it covers every record), then no more. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe();
    this.options.writer.setBeforeDelete(undefined);
    await this.sign().catch(() => undefined);
  }

  private async write(deleting?: DeletionNotice): Promise<void> {
    const { seq, hash } = this.options.writer.durableHead;
    const start = deleting?.newStart ?? this.signedStart ?? this.options.writer.startSeq;
    if (this.last && this.last.seq === seq && this.last.start === start) return;
    const body = { source: this.options.source, seq, hash, time: new Date().toISOString(), start };
    const head: LogHead = {
      v: 1,
      ...body,
      signature: this.options.signer.sign(logHeadBytes(body)),
      certificate: this.options.signer.certificate,
    };
    const h = await fs.open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      await h.write(`${JSON.stringify(head)}\n`);
      await h.datasync();
    } finally {
      await h.close();
    }
    this.last = { seq, start };
    this.signedStart = start;
    this.options.onHead?.(head);
  }
}

/**
 * The webhook sink: POSTs each alert as JSON (falcosidekick's input format) to a URL. Every alert
 * is first written to a spool folder on disk, then delivered in order by one pump that retries
 * with capped backoff while the receiver is down. A cursor file (written atomically) records the
 * last delivered alert, so after a restart delivery resumes with the next one: nothing is dropped
 * and nothing is sent twice, except an alert whose POST succeeded just before a crash that came
 * before the cursor write (receivers can drop that repeat by its `uuid`).
 */
import { acquireLockFile } from '../../store/lock.js';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DockwardError, describeError } from '../../errors.js';
import { ensureDir, MODE_PRIVATE_DIR, MODE_PRIVATE_FILE, writeFileAtomic } from '../../store/atomic-write.js';
import type { Alert, AlertSink } from '../model.js';

export interface WebhookSinkOptions {
  url: string;
  /** The spool root; this sink uses `<spoolDir>/webhook-<hash of the URL>/`. */
  spoolDir: string;
  /** Per-POST deadline (default 10 s). */
  timeoutMs?: number;
  /** First retry delay (default 500 ms); doubles up to `maxBackoffMs` (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long `close()` keeps trying to deliver what is pending (default 5 s); the rest stays spooled. */
  closeTimeoutMs?: number;
  /** PEM CA for an https receiver with a private CA (default: the system's roots). */
  ca?: string;
  logger?: Pick<Logger, 'warn' | 'info'>;
}

const CURSOR = 'cursor.json';
const LOCK = 'lock';
const SPOOL_FILE = /^(\d{12})\.json$/;

/** `<spoolDir>/webhook-<12 hex of sha256(url)>`: one spool per receiver. */
export function webhookSpoolDir(spoolDir: string, url: string): string {
  return join(spoolDir, `webhook-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`);
}

function spoolName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.json`;
}

/** Delivers alerts to a webhook through a disk spool. Create it with `WebhookSink.open`. */
export class WebhookSink implements AlertSink {
  readonly name: string;
  readonly dir: string;
  private readonly url: URL;
  private readonly timeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly closeTimeoutMs: number;
  private readonly ca: string | undefined;
  private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined;
  /** seq of the last alert the receiver accepted. */
  private delivered: number;
  /** seq the next spooled alert gets. */
  private nextSeq: number;
  /** seq of the last alert whose spool file is complete (the pump never reads past it). */
  private spooled: number;
  private spoolChain: Promise<void> = Promise.resolve();
  private pump: Promise<void> | undefined;
  private wakePump: (() => void) | undefined;
  private readonly abort = new AbortController();
  private closing = false;
  private closed: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  /** POSTs that failed and were retried (tests and logs). */
  failures = 0;

  private constructor(options: WebhookSinkOptions, dir: string, delivered: number, lastSpooled: number) {
    this.url = new URL(options.url);
    this.name = `webhook:${options.url}`;
    this.dir = dir;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.ca = options.ca;
    this.logger = options.logger;
    this.delivered = delivered;
    this.spooled = lastSpooled;
    this.nextSeq = lastSpooled + 1;
  }

  /** Opens (creating 0700) the spool, takes its lock, and starts delivering what an earlier run left. */
  static async open(options: WebhookSinkOptions): Promise<WebhookSink> {
    const url = parseWebhookUrl(options.url);
    const dir = webhookSpoolDir(options.spoolDir, url.href);
    try {
      await ensureDir(options.spoolDir, MODE_PRIVATE_DIR);
      await ensureDir(dir, MODE_PRIVATE_DIR);
    } catch (err) {
      throw new DockwardError('DW_E_FILE', `cannot create the webhook spool ${dir}: ${describeError(err)}`, {
        hint: 'Pass a writable folder with --spool-dir.',
        cause: err,
      });
    }
    await takeLock(join(dir, LOCK));
    try {
      const delivered = await readCursor(join(dir, CURSOR));
      let last = delivered;
      for (const name of await fs.readdir(dir)) {
        const m = SPOOL_FILE.exec(name);
        if (!m) {
          // An atomic write cut short by a crash leaves a temp file: it never became a spool entry.
          if (name.endsWith('.tmp')) await fs.rm(join(dir, name), { force: true });
          continue;
        }
        const seq = Number(m[1]);
        if (seq <= delivered) await fs.rm(join(dir, name), { force: true });
        else last = Math.max(last, seq);
      }
      const sink = new WebhookSink({ ...options, url: url.href }, dir, delivered, last);
      if (last > delivered) {
        options.logger?.info({ url: url.href, pending: last - delivered }, 'delivering spooled alerts');
      }
      sink.pump = sink.run();
      return sink;
    } catch (err) {
      await fs.rm(join(dir, LOCK), { force: true });
      throw err;
    }
  }

  /** Alerts spooled and not yet accepted by the receiver. */
  get pending(): number {
    return this.spooled - this.delivered;
  }

  /** Spools the alert (fsynced); resolves then, before the POST. */
  deliver(alert: Alert): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`${this.name} is closed`));
    const seq = this.nextSeq++;
    const next = this.spoolChain.then(async () => {
      await writeFileAtomic(join(this.dir, spoolName(seq)), JSON.stringify(alert), {
        mode: MODE_PRIVATE_FILE,
      });
      this.spooled = seq;
      this.wakePump?.();
    });
    this.spoolChain = next.catch(() => undefined);
    return next;
  }

  /** Resolves when everything spooled so far is delivered (tests; close uses it with a deadline). */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Tries to deliver what is pending for up to `closeTimeoutMs`; what is left stays spooled. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      await this.spoolChain;
      if (this.pending > 0) {
        const timer = sleep(this.closeTimeoutMs, undefined, { ref: false }).catch(() => undefined);
        await Promise.race([this.drained(), timer]);
      }
      this.abort.abort();
      this.wakePump?.();
      await this.pump;
      if (this.pending > 0) {
        this.logger?.warn(
          { url: this.url.href, pending: this.pending, spool: this.dir },
          'alerts left in the spool; the next monitor run delivers them',
        );
      }
      await fs.rm(join(this.dir, LOCK), { force: true });
    })();
    return this.closed;
  }

  /** The pump: one alert at a time, in seq order, retrying the head until the receiver takes it. */
  private async run(): Promise<void> {
    let backoff = this.initialBackoffMs;
    while (!this.abort.signal.aborted) {
      if (this.delivered >= this.spooled) {
        for (const w of this.idleWaiters.splice(0)) w();
        await new Promise<void>((resolve) => {
          this.wakePump = resolve;
          if (this.delivered < this.spooled || this.abort.signal.aborted) resolve();
        });
        this.wakePump = undefined;
        continue;
      }
      const seq = this.delivered + 1;
      const file = join(this.dir, spoolName(seq));
      let body: string;
      try {
        body = await fs.readFile(file, 'utf8');
      } catch (err) {
        // Removed by hand, or an earlier crash between spool number and write: nothing to send.
        this.logger?.warn({ file, err: describeError(err) }, 'spooled alert missing; skipping it');
        await this.advance(seq, file);
        continue;
      }
      try {
        await this.post(body);
      } catch (err) {
        if (this.abort.signal.aborted) break;
        this.failures++;
        this.logger?.warn(
          { url: this.url.href, err: describeError(err), pending: this.pending, retryInMs: backoff },
          'webhook delivery failed; alerts stay spooled',
        );
        await sleep(backoff, undefined, { signal: this.abort.signal }).catch(() => undefined);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
        continue;
      }
      backoff = this.initialBackoffMs;
      await this.advance(seq, file);
    }
  }

  /** Records `seq` as delivered (cursor first, so a crash never resends it), then drops its file. */
  private async advance(seq: number, file: string): Promise<void> {
    await writeFileAtomic(join(this.dir, CURSOR), `${JSON.stringify({ delivered: seq })}\n`, {
      mode: MODE_PRIVATE_FILE,
    });
    this.delivered = seq;
    await fs.rm(file, { force: true });
  }

  private post(body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const https = this.url.protocol === 'https:';
      const options: RequestOptions = {
        method: 'POST',
        host: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port === '' ? (https ? 443 : 80) : Number(this.url.port),
        path: `${this.url.pathname}${this.url.search}`,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'dockward-monitor',
          ...(this.url.username
            ? {
                authorization: `Basic ${Buffer.from(
                  `${decodeURIComponent(this.url.username)}:${decodeURIComponent(this.url.password)}`,
                ).toString('base64')}`,
              }
            : {}),
        },
        agent: false,
        signal: this.abort.signal,
        timeout: this.timeoutMs,
      };
      const onResponse = (res: import('node:http').IncomingMessage) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`the receiver answered ${status}`));
        });
        res.on('error', reject);
      };
      const req = https
        ? httpsRequest({ ...options, ...(this.ca ? { ca: this.ca } : {}) }, onResponse)
        : httpRequest(options, onResponse);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Checks a webhook URL: http or https with a host. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    url = new URL('invalid:');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new DockwardError('DW_E_USAGE', `--sink webhook:${text}: not an http:// or https:// URL`, {
      hint: 'Write it as --sink webhook:https://alerts.example.com/hook (or http://127.0.0.1:2801/).',
    });
  }
  return url;
}

async function readCursor(path: string): Promise<number> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const value = (JSON.parse(text) as { delivered?: unknown }).delivered;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new DockwardError('DW_E_STORE_CORRUPT', `${path} does not hold a delivered cursor`, {
      hint: 'Remove the file to resend everything in the spool, or fix it to {"delivered": N}.',
    });
  }
  return value;
}

/** One monitor per spool: two pumps would send the same alerts twice. */
function takeLock(path: string): Promise<void> {
  return acquireLockFile(path, {
    waitMs: 500,
    held: (owner) =>
      new DockwardError(
        'DW_E_LOCKED',
        `the webhook spool ${path} is in use${owner === undefined ? '' : ` by process ${owner}`}`,
        { hint: 'Give each monitor its own --spool-dir, or stop the other monitor.' },
      ),
  });
}

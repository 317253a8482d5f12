/**
 * Follows a running gateway's live audit feed (`dockward gateway --audit-feed PATH`): a unix socket
 * that sends each audit record as one JSON line the moment it is appended, with no file polling.
 * When the gateway goes away the source reconnects with capped exponential backoff. Records
 * appended while it was away (or dropped when the gateway cut it off for falling behind) are not
 * replayed: a warning names the missing seq range, which the audit log file holds.
 */
import { type BackoffOptions, ReconnectingSource } from './reconnect.js';
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { DockwardError, describeError } from '../../errors.js';
import { type AuditRecord, AuditRecordSchema } from '../../gateway/audit-log/record.js';
import { MAX_LINE_BYTES } from '../../gateway/audit-log/tail.js';

export interface AuditFeedSourceOptions extends BackoffOptions {
  /** `unix:///path/to/feed.sock`. */
  url: string;
  logger?: Pick<Logger, 'warn' | 'info'>;
}

/** The socket path of a `unix:///path` feed URL; anything else is a usage error. */
export function feedSocketPath(url: string): string {
  const m = /^unix:\/\/(\/.+)$/.exec(url.trim());
  if (!m) {
    throw new DockwardError('DW_E_USAGE', `--audit-feed "${url}" is not a unix:///path URL`, {
      hint: 'Write --audit-feed unix:///run/dockward/audit.sock (the path given to `dockward gateway --audit-feed`).',
    });
  }
  return m[1]!;
}

/** An `EventSource` over a gateway's live audit feed. */
export class AuditFeedSource extends ReconnectingSource {
  readonly name: string;
  readonly origin: string;
  private readonly path: string;
  private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined;
  private socket: Socket | undefined;
  /** seq of the last record emitted (0 before the first), to notice what was missed. */
  private lastSeq = 0;
  /** Connections made so far. */
  connections = 0;
  /** Records emitted so far. */
  emitted = 0;

  constructor(options: AuditFeedSourceOptions) {
    super(options);
    this.path = feedSocketPath(options.url);
    this.origin = `unix://${this.path}`;
    this.name = `audit-feed:${this.origin}`;
    this.logger = options.logger;
  }

  protected closeConnection(): void {
    this.socket?.destroy();
  }

  protected onLost({
    connected,
    error,
    retryInMs,
  }: {
    connected: boolean;
    error?: string;
    retryInMs: number;
  }): void {
    this.logger?.warn(
      { origin: this.origin, ...(error ? { err: error } : {}), retryInMs },
      connected ? 'audit feed lost' : 'cannot connect to the audit feed',
    );
  }

  /** One connection: resolves true when it ends after connecting, rejects if it never connected. */
  protected follow(): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.path);
      this.socket = socket;
      let connected = false;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let skipToNewline = false;
      socket.once('connect', () => {
        connected = true;
        this.connections++;
        this.logger?.info({ origin: this.origin }, 'audit feed connected');
      });
      socket.on('data', (chunk: Buffer) => {
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf(0x0a, start);
          if (nl === -1) break;
          const piece = chunk.subarray(start, nl);
          if (skipToNewline) skipToNewline = false;
          else this.line(pendingBytes === 0 ? piece : Buffer.concat([...pending, piece]));
          pending = [];
          pendingBytes = 0;
          start = nl + 1;
        }
        if (start < chunk.length && !skipToNewline) {
          const rest = chunk.subarray(start);
          if (pendingBytes + rest.length > MAX_LINE_BYTES) {
            this.logger?.warn({ origin: this.origin }, 'skipping a feed line over the audit-log line limit');
            pending = [];
            pendingBytes = 0;
            skipToNewline = true;
          } else {
            pending.push(rest);
            pendingBytes += rest.length;
          }
        }
      });
      socket.on('error', (err) => {
        if (!connected) reject(err);
        // After connecting, 'close' follows and ends this connection.
      });
      socket.on('close', () => {
        this.socket = undefined;
        if (connected) resolve(true);
        else reject(new Error('the feed closed before connecting'));
      });
    });
  }

  private line(bytes: Buffer): void {
    if (bytes.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      this.skip(bytes, describeError(err));
      return;
    }
    if (typeof value === 'object' && value !== null && 'feed' in value) {
      if ((value as { feed: unknown }).feed === 'overflow') {
        this.logger?.warn(
          { origin: this.origin, lastSeq: this.lastSeq },
          'the gateway cut this monitor off for falling behind: records after lastSeq were lost here; the audit log file has them',
        );
      }
      return;
    }
    const parsed = AuditRecordSchema.safeParse(value);
    if (!parsed.success) {
      this.skip(bytes, parsed.error.issues[0]?.message ?? 'not an audit record');
      return;
    }
    const record: AuditRecord = parsed.data;
    if (this.lastSeq > 0 && record.seq > this.lastSeq + 1) {
      this.logger?.warn(
        { origin: this.origin, missedFromSeq: this.lastSeq + 1, missedToSeq: record.seq - 1 },
        'audit records were missed while the feed was away; the audit log file has them',
      );
    }
    this.lastSeq = record.seq;
    this.emitted++;
    this.emit?.({ source: 'gateway', origin: this.origin, record });
  }

  private skip(bytes: Buffer, why: string): void {
    this.logger?.warn(
      { origin: this.origin, err: why, line: bytes.subarray(0, 200).toString('utf8') },
      'skipping a feed line that is not an audit record',
    );
  }
}

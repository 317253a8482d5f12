/**
 * The live audit feed (`dockward gateway --audit-feed PATH`): a unix socket that hands every
 * connected client each audit record appended from then on, one JSON line each, byte for byte the
 * line the log file gets. Access control is the socket's mode (0600, the gateway's user only): the
 * feed carries identities, addresses and paths, as sensitive as the log itself. Clients only read;
 * a client that falls more than `maxPendingBytes` behind is cut off with a last line
 * `{"feed":"overflow"}`, so a slow reader never slows the gateway (the file has what it missed).
 */
import { promises as fs } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { DockwardError, describeError } from '../errors.js';
import { canonicalJson } from './audit-log/chain.js';
import type { AuditRecord } from './audit-log/record.js';
import type { AuditListener } from './audit-log/writer.js';

/** What the feed needs of the writer: its live subscription. */
export interface AuditFeedWriter {
  subscribe(listener: AuditListener): () => void;
  /** Signed heads and alerts: sent as `{"feed":"head",...}` / `{"feed":"alert",...}` lines. */
  subscribeNotices?(listener: (notice: { feed: string }) => void): () => void;
}

/** The gauge and counter the feed keeps up to date (the gateway's metrics have them). */
export interface AuditFeedMetrics {
  feedClients: { set(value: number): void };
  feedOverflows: { inc(): void };
}

export interface AuditFeedOptions {
  /** The socket path. It must not exist, or be a socket nobody listens on any more. */
  path: string;
  writer: AuditFeedWriter;
  /** Bytes a client may have pending before it is cut off (default 1 MiB). */
  maxPendingBytes?: number;
  /** How long a cut-off or closing client gets to read what is pending (default 10 s). */
  closeGraceMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  metrics?: AuditFeedMetrics;
}

/** The line a client is sent, as the last one, when it fell too far behind. */
export const FEED_OVERFLOW_LINE = '{"feed":"overflow"}';

const DEFAULT_MAX_PENDING = 1024 * 1024;
const DEFAULT_CLOSE_GRACE_MS = 10_000;
const CLOSE_GRACE_CAP_MS = 2000;
const MODE_SOCKET = 0o600;
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;

/**
 * The record's line exactly as the writer put it in the file: the canonical form with `hash` as
 * its last member (`sealRecord` in audit-log/chain.ts). Built with the same `canonicalJson`, so
 * the two cannot drift apart.
 */
export function auditFeedLine(record: AuditRecord): string {
  return `${canonicalJson(record, 'hash').slice(0, -1)},"hash":"${record.hash}"}`;
}

/** A listening audit feed. */
export class AuditFeedServer {
  readonly path: string;
  private readonly server: Server;
  private readonly clients = new Set<Socket>();
  /** Every socket still open: the clients, and those being cut off. */
  private readonly open = new Set<Socket>();
  private readonly maxPending: number;
  private readonly graceMs: number;
  private readonly logger: AuditFeedOptions['logger'];
  private readonly metrics: AuditFeedMetrics | undefined;
  private readonly inode: { dev: number; ino: number };
  private unsubscribe: (() => void) | undefined;
  private nextId = 1;
  private closed: Promise<void> | undefined;
  /** Clients cut off for falling behind, so far. */
  overflows = 0;

  private constructor(
    path: string,
    server: Server,
    inode: { dev: number; ino: number },
    options: AuditFeedOptions,
  ) {
    this.path = path;
    this.server = server;
    this.inode = inode;
    this.maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING;
    this.graceMs = options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
    this.logger = options.logger;
    this.metrics = options.metrics;
    server.on('connection', (socket) => this.accept(socket));
    const offRecords = options.writer.subscribe((record) => this.publish(record));
    const offNotices = options.writer.subscribeNotices?.((notice) =>
      this.publishLine(Buffer.from(`${JSON.stringify(notice)}\n`, 'utf8'), 0),
    );
    this.unsubscribe = () => {
      offRecords();
      offNotices?.();
    };
    this.metrics?.feedClients.set(0);
  }

  /**
   * Creates the socket 0600 and starts feeding. The socket is bound in a fresh 0700 folder, given
   * its mode, and only then linked at `path` (link(2) never replaces a file), so nobody can reach
   * it before its mode is right, whatever the umask.
   */
  static async start(options: AuditFeedOptions): Promise<AuditFeedServer> {
    const path = options.path;
    await clearStaleSocket(path);
    let tmp: string;
    try {
      tmp = await fs.mkdtemp(join(dirname(path), '.dwf-'));
    } catch (err) {
      throw new DockwardError(
        'DW_E_FILE',
        `cannot create the audit feed socket ${path}: ${describeError(err)}`,
        {
          hint: 'The folder of --audit-feed must exist and be writable by the gateway.',
          cause: err,
        },
      );
    }
    const bound = join(tmp, 's');
    const server = createServer({ allowHalfOpen: true });
    try {
      if (Buffer.byteLength(bound) > MAX_SOCKET_PATH || Buffer.byteLength(path) > MAX_SOCKET_PATH) {
        throw new DockwardError('DW_E_USAGE', `--audit-feed ${path} is too long for a unix socket path`, {
          hint: `Unix socket paths hold at most ${MAX_SOCKET_PATH} bytes: pick a shorter one (say /run/dockward/feed.sock).`,
        });
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(bound, () => {
          server.off('error', reject);
          resolve();
        });
      });
      await fs.chmod(bound, MODE_SOCKET);
      // A hard link shares the inode: this is the identity of the socket at `path` too.
      const st = await fs.stat(bound);
      // Feeding (and accepting) before the link: the first client to connect is already handled.
      const feed = new AuditFeedServer(path, server, { dev: st.dev, ino: st.ino }, options);
      try {
        await fs.link(bound, path);
      } catch (err) {
        await feed.close();
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new DockwardError('DW_E_USAGE', `--audit-feed ${path} appeared while the feed was starting`, {
            hint: 'Another process created it: give each gateway its own --audit-feed path.',
          });
        }
        throw err;
      }
      await fs.rm(tmp, { recursive: true, force: true });
      options.logger?.info({ path }, 'audit feed listening');
      return feed;
    } catch (err) {
      server.close();
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      if (err instanceof DockwardError) throw err;
      throw new DockwardError('DW_E_FILE', `cannot listen on the audit feed ${path}: ${describeError(err)}`, {
        hint: 'Give --audit-feed a path in a folder that exists and this user may write (e.g. /run/dockward/audit.sock).',
        cause: err,
      });
    }
  }

  /** Clients being fed now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Stops feeding: no new clients, each client gets what is pending (for up to the grace time)
   * and is closed, and the socket file is removed.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      await this.removeSocketFile();
      // A short grace: the gateway's stop waits for it.
      for (const socket of this.open) this.cutOff(socket, Math.min(this.graceMs, CLOSE_GRACE_CAP_MS));
      this.clients.clear();
      this.metrics?.feedClients.set(0);
      await stopped;
    })();
    return this.closed;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const id = this.nextId++;
    this.clients.add(socket);
    this.open.add(socket);
    this.metrics?.feedClients.set(this.clients.size);
    this.logger?.info({ client: id, clients: this.clients.size }, 'audit feed client connected');
    // Clients have nothing to say: whatever they send is read and dropped.
    socket.on('data', () => undefined);
    socket.on('error', (err) => {
      this.logger?.debug({ client: id, err: err.message }, 'audit feed client error');
      socket.destroy();
    });
    socket.on('close', () => {
      this.open.delete(socket);
      if (this.clients.delete(socket)) {
        this.metrics?.feedClients.set(this.clients.size);
        this.logger?.info({ client: id, clients: this.clients.size }, 'audit feed client disconnected');
      }
    });
  }

  /** Runs in the writer's append, on the gateway's hot path: one serialization, then queued writes. */
  private publish(record: AuditRecord): void {
    if (this.clients.size === 0) return;
    this.publishLine(Buffer.from(`${auditFeedLine(record)}\n`, 'utf8'), record.seq);
  }

  private publishLine(bytes: Buffer, seq: number): void {
    if (this.clients.size === 0) return;
    for (const socket of this.clients) {
      if (socket.writableLength + bytes.length > this.maxPending) {
        this.overflow(socket, seq);
        continue;
      }
      socket.write(bytes);
    }
  }

  private overflow(socket: Socket, seq: number): void {
    this.clients.delete(socket);
    this.overflows++;
    this.metrics?.feedOverflows.inc();
    this.metrics?.feedClients.set(this.clients.size);
    this.logger?.warn(
      { pendingBytes: socket.writableLength, firstMissedSeq: seq, clients: this.clients.size },
      'audit feed client fell behind and was disconnected; it can resume from the audit log file',
    );
    socket.write(`${FEED_OVERFLOW_LINE}\n`);
    this.cutOff(socket, this.graceMs);
  }

  /** Ends the socket after what is pending; destroys it if the peer does not read it in time. */
  private cutOff(socket: Socket, graceMs: number): void {
    if (socket.destroyed) return;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), graceMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /** Removes the socket file if it is still ours (another gateway may have taken the path since). */
  private async removeSocketFile(): Promise<void> {
    try {
      const st = await fs.lstat(this.path);
      if (st.dev === this.inode.dev && st.ino === this.inode.ino) await fs.unlink(this.path);
    } catch {
      // Gone already.
    }
  }
}

function existsError(path: string): DockwardError {
  return new DockwardError('DW_E_USAGE', `--audit-feed ${path} exists and is not a socket`, {
    hint: 'Pick a path that does not exist yet; the gateway creates the socket and removes it on stop.',
  });
}

/**
 * Makes way for the socket: nothing at `path` is fine; a socket nobody listens on (a gateway that
 * was killed) is removed; a live socket or any other file is refused.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let st: import('node:fs').Stats;
  try {
    st = await fs.lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new DockwardError('DW_E_FILE', `cannot check the audit feed path ${path}: ${describeError(err)}`, {
      hint: 'Make the folder of --audit-feed readable by this user, or choose another path.',
      cause: err,
    });
  }
  if (!st.isSocket()) throw existsError(path);
  if (await socketAnswers(path)) {
    throw new DockwardError('DW_E_LOCKED', `another process serves an audit feed at ${path}`, {
      hint: `Give each gateway its own --audit-feed path, or stop the one that uses ${basename(path)}.`,
    });
  }
  await fs.unlink(path).catch(() => undefined);
}

/** True if something accepts connections on the socket. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

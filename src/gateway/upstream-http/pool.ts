import type { Socket } from 'node:net';

/** Idle connections kept open beyond this are closed (a burst does not leave hundreds behind). */
const MAX_IDLE = 64;

/** What uses a pooled connection: its socket's events go to it while it holds the socket. */
export interface PooledSocketUser {
  onData(chunk: Buffer): void;
  onError(err: Error): void;
  onClose(): void;
}

const USER = Symbol('pooled-socket-user');
type PooledSocket = Socket & { [USER]?: PooledSocketUser | null; pool?: ConnectionPool };

/**
 * Persistent connections to dockerd, reused last-in first-out (the warmest socket first). No
 * idle timeout: /events and `logs -f` may stay silent for hours, and an idle socket costs little.
 * A connection comes back only after its response was read completely and the framing allowed
 * keep-alive; one that the daemon closes while idle is dropped.
 *
 * A socket gets its 'data', 'error' and 'close' listeners once, when it is opened; they pass the
 * events to the exchange that holds it (or, while idle, drop it). Adding and removing listeners
 * on a stream for every request was a measurable part of a small request's CPU.
 */
export class ConnectionPool {
  private readonly idle: PooledSocket[] = [];
  private closed = false;

  constructor(private readonly open: () => Socket) {}

  /** An idle connection (reused: true) or a new one, its events going to `user`. */
  acquire(user: PooledSocketUser): { socket: Socket; reused: boolean } {
    while (this.idle.length > 0) {
      const socket = this.idle.pop()!;
      if (!socket.destroyed && socket.readable && socket.writable) {
        socket[USER] = user;
        return { socket, reused: true };
      }
      socket[USER] = null;
      socket.destroy();
    }
    const socket = this.open() as PooledSocket;
    socket.setNoDelay?.(true);
    socket[USER] = user;
    socket.pool = this;
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    return { socket, reused: false };
  }

  /** The holder lets go of a socket (it is destroyed or being retried): its events are ignored. */
  forget(socket: Socket): void {
    (socket as PooledSocket)[USER] = null;
  }

  /** Gives back a connection whose exchange ended cleanly (framed end, keep-alive). */
  release(socket: Socket): void {
    const s = socket as PooledSocket;
    s[USER] = null;
    if (this.closed || socket.destroyed || this.idle.length >= MAX_IDLE) {
      socket.destroy();
      return;
    }
    // A streamed upload may have left a 'drain' listener behind.
    if (socket.listenerCount('drain') > 0) socket.removeAllListeners('drain');
    if (socket.isPaused()) socket.resume();
    this.idle.push(s);
  }

  /** Forgets an idle socket that closed. */
  drop(socket: Socket): void {
    const at = this.idle.indexOf(socket as PooledSocket);
    if (at !== -1) this.idle.splice(at, 1);
  }

  destroy(): void {
    this.closed = true;
    for (const socket of this.idle.splice(0)) socket.destroy();
  }
}

function onData(this: PooledSocket, chunk: Buffer): void {
  const user = this[USER];
  if (user) {
    user.onData(chunk);
    return;
  }
  if (user === null && !this.destroyed) {
    // The daemon says nothing unasked: bytes on an idle connection mean it cannot be trusted.
    this.pool?.drop(this);
    this.destroy();
  }
}

function onError(this: PooledSocket, err: Error): void {
  // Idle or let go: ignored ('close' follows).
  this[USER]?.onError(err);
}

function onClose(this: PooledSocket): void {
  const user = this[USER];
  if (user) user.onClose();
  else this.pool?.drop(this);
}

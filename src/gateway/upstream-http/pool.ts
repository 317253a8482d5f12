import type { Socket } from 'node:net';

/** Idle connections kept open beyond this are closed (a burst does not leave hundreds behind). */
const MAX_IDLE = 64;

/**
 * Persistent connections to dockerd, reused last-in first-out (the warmest socket first). No
 * idle timeout: /events and `logs -f` may stay silent for hours, and an idle socket costs little.
 * A connection comes back only after its response was read completely and the framing allowed
 * keep-alive; one that the daemon closes while idle is dropped.
 */
export class ConnectionPool {
  private readonly idle: Socket[] = [];
  private closed = false;

  constructor(private readonly open: () => Socket) {}

  /** An idle connection (reused: true) or a new one. */
  acquire(): { socket: Socket; reused: boolean } {
    while (this.idle.length > 0) {
      const socket = this.idle.pop()!;
      socket.removeListener('close', onIdleClose);
      socket.removeListener('data', onIdleData);
      socket.removeListener('error', ignore);
      if (!socket.destroyed && socket.readable && socket.writable) return { socket, reused: true };
      socket.destroy();
    }
    const socket = this.open();
    socket.setNoDelay?.(true);
    return { socket, reused: false };
  }

  /** Gives back a connection whose exchange ended cleanly (framed end, keep-alive). */
  release(socket: Socket): void {
    if (this.closed || socket.destroyed || this.idle.length >= MAX_IDLE) {
      socket.destroy();
      return;
    }
    socket.removeAllListeners('data');
    socket.removeAllListeners('end');
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.removeAllListeners('drain');
    socket.on('error', ignore);
    socket.once('close', onIdleClose);
    // The daemon says nothing unasked: bytes on an idle connection mean it cannot be trusted.
    socket.on('data', onIdleData);
    (socket as Socket & { pool?: ConnectionPool }).pool = this;
    if (socket.isPaused()) socket.resume();
    this.idle.push(socket);
  }

  /** Forgets an idle socket that closed. */
  drop(socket: Socket): void {
    const at = this.idle.indexOf(socket);
    if (at !== -1) this.idle.splice(at, 1);
  }

  destroy(): void {
    this.closed = true;
    for (const socket of this.idle.splice(0)) socket.destroy();
  }
}

function ignore(): void {}

function onIdleClose(this: Socket & { pool?: ConnectionPool }): void {
  this.pool?.drop(this);
}

function onIdleData(this: Socket & { pool?: ConnectionPool }): void {
  this.pool?.drop(this);
  this.destroy();
}

import type { Socket } from 'node:net';
import type { ConnectionPool, PooledSocketUser } from './pool.js';
import { type ResponseHead, ResponseParser } from './response-parser.js';

export interface ExchangeHandler {
  /** The final response head (1xx skipped). */
  onHead(head: ResponseHead): void;
  /** A piece of body; `last` when it completes a sized body (it may go out with the end). */
  onBody(piece: Buffer, last: boolean): void;
  /** The response ended as framed (or by close, when close-delimited). */
  onEnd(): void;
  /** The exchange failed: before the head (answer 502) or inside the body (cut the client). */
  onError(err: Error, headSeen: boolean): void;
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * One request and its response on a pooled upstream connection. The request head (and an
 * in-memory body) leave in one write; a streamed body is written as it comes (`write`/`end`),
 * chunk-encoded when it has no length, one tick's writes corked into one. The connection goes
 * back to the pool only when the request was sent whole, the response read whole, the framing
 * allowed keep-alive and nothing followed it.
 */
export class UpstreamExchange implements PooledSocketUser {
  private socket!: Socket;
  private reused = false;
  private parser!: ResponseParser;
  private head: ResponseHead | null = null;
  private requestDone: boolean;
  private finished = false;
  private retried = false;
  private corked = false;

  constructor(
    private readonly pool: ConnectionPool,
    private readonly method: string,
    private readonly requestHead: string,
    private readonly body: Buffer | null,
    /** The body follows through write()/end(); chunk-encoded when `chunked`. */
    private readonly streaming: { chunked: boolean } | null,
    private readonly handler: ExchangeHandler,
  ) {
    this.requestDone = streaming === null;
    this.start();
  }

  /** Bytes queued toward dockerd (the upload's backpressure). */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  /** A piece of a streamed request body. */
  write(piece: Buffer): void {
    if (this.finished || this.socket.destroyed || piece.length === 0) return;
    this.cork();
    if (this.streaming?.chunked) {
      this.socket.write(`${piece.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(piece);
      this.socket.write(CRLF);
    } else this.socket.write(piece);
  }

  /** The streamed request body is complete. */
  end(): void {
    if (this.requestDone) return;
    this.requestDone = true;
    if (this.finished || this.socket.destroyed) return;
    if (this.streaming?.chunked) {
      this.cork();
      this.socket.write(LAST_CHUNK);
    }
  }

  /** Called once when the upstream socket can take more of the request body. */
  onceDrain(listener: () => void): void {
    this.socket.once('drain', listener);
  }

  /** Stops reading the response (the client is slower than dockerd). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.finished) this.socket.resume();
  }

  /** The client went away: nothing may stay open upstream. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.socket.destroy();
  }

  private start(): void {
    const { socket, reused } = this.pool.acquire(this);
    this.socket = socket;
    this.reused = reused;
    this.parser = new ResponseParser(this.method, {
      onHead: (head) => {
        this.head = head;
        this.handler.onHead(head);
        return true;
      },
      onBody: (piece, last) => this.handler.onBody(piece, last),
      onEnd: () => {
        this.finished = true;
        this.handler.onEnd();
      },
    });
    // A streamed body's first pieces join the head in this tick's write; otherwise one write.
    if (this.streaming) this.cork();
    if (this.body && this.body.length > 0) {
      socket.write(Buffer.concat([Buffer.from(this.requestHead, 'latin1'), this.body]));
    } else socket.write(this.requestHead, 'latin1');
  }

  /** The socket's events, passed on by the pool while this exchange holds it. */
  onError(err: Error): void {
    this.onClose(err);
  }

  onData(chunk: Buffer): void {
    if (this.finished && !this.parser.done) return;
    let used: number;
    try {
      used = this.parser.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (this.parser.done) {
      const clean = used === chunk.length && this.requestDone && this.head!.keepAlive;
      if (clean && !this.socket.destroyed) {
        this.pool.release(this.socket);
      } else this.socket.destroy();
    } else if (!this.finished && this.head && this.head.status === 101) {
      this.fail(new Error('dockerd switched protocols on a plain request'));
    }
  }

  onClose(err?: Error): void {
    const reused = this.reused;
    if (this.finished) return;
    if (err === undefined && this.parser.closed()) return; // close-delimited end
    const retry = reused && !this.retried && !this.parser.started && this.streaming === null;
    if (retry && (this.method === 'GET' || this.method === 'HEAD')) {
      // A kept-alive connection the daemon closed as we reused it: the request never reached it.
      this.retried = true;
      this.pool.forget(this.socket);
      this.socket.destroy();
      this.start();
      return;
    }
    this.fail(err ?? new Error('dockerd closed the connection mid-answer'));
  }

  private fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.socket.destroy();
    this.handler.onError(err, this.head !== null);
  }

  /** Holds this tick's writes together; they leave as one write when the tick ends. */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    const socket = this.socket;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}

/**
 * The request head sent upstream: the method and target the policy checked, the headers the
 * gateway built (already free of CR/LF: the server-side parser refused those), and a Host when
 * the client gave none (dockerd's HTTP/1.1 server requires one).
 */
export function formatRequestHead(method: string, target: string, headers: readonly string[]): string {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let host = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (!host && headers[i]!.length === 4 && headers[i]!.toLowerCase() === 'host') host = true;
    head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  if (!host) head += 'Host: docker\r\n';
  return `${head}\r\n`;
}

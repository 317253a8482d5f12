import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** How a response body is delimited on the wire. */
type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/**
 * The side of a response the forward transports write to: the gateway's own writer below, or
 * Node's ServerResponse (same names, same meaning), so a transport does not care which.
 */
export interface ResponseSink {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly writableLength: number;
  writeHead(status: number, statusText: string | undefined, headers: string[]): unknown;
  flushHeaders(): void;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  destroy(): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
}

export interface ResponseContext {
  /** The request was HEAD: the head says what a GET would send, no body follows. */
  head: boolean;
  /** 0 for an HTTP/1.0 client (no chunked encoding). */
  minor: 0 | 1;
  /** Whether the connection stays open after this response (the connection decides). */
  keepAlive: () => boolean;
  /** Called once the whole response has been handed to the socket. */
  onFinish: () => void;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
/** Up to this many queued bytes leave as one copied buffer; above, as a corked writev (no copy). */
const COPY_BELOW_BYTES = 16 * 1024;

/**
 * One response, framed minimally: the upstream's Content-Length when it gave one, chunked when
 * it did not (HTTP/1.1), close-delimited for HTTP/1.0, nothing for HEAD/204/304. Writes made in
 * one tick leave in one TLS write: they are queued here and go out at the end of the tick, or at
 * once on `end()` (a small answer, head and body, is one buffer and one socket write: no writev,
 * no cork, no wait for the next tick).
 */
export class ResponseWriter implements ResponseSink {
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  private status = 200;
  private statusText: string | undefined;
  private headers: string[] = [];
  private framing: BodyFraming = 'none';
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushQueued = false;
  private ending = false;
  private closed = false;
  private readonly flushLater = () => {
    this.flushQueued = false;
    this.flush();
  };
  /**
   * The two events a transport listens for, as plain lists: one response per request made an
   * EventEmitter (and its listener bookkeeping) a measurable part of a small request's cost.
   */
  private closeListeners: Array<() => void> | undefined;
  private drainListeners: Array<() => void> | undefined;

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ResponseContext,
  ) {}

  /** 'close': the response is finished or will never be (called once). */
  on(_event: 'close', listener: () => void): this {
    if (this.closeListeners) this.closeListeners.push(listener);
    else this.closeListeners = [listener];
    return this;
  }

  /** 'drain': the client's side can take more ('close' as `on`: it comes once anyway). */
  once(event: 'drain' | 'close', listener: () => void): this {
    if (event === 'close') return this.on('close', listener);
    if (this.drainListeners) this.drainListeners.push(listener);
    else this.drainListeners = [listener];
    return this;
  }

  private emitClose(): void {
    const listeners = this.closeListeners;
    this.closeListeners = undefined;
    if (listeners) for (const l of listeners) l();
  }

  private emitDrain(): void {
    const listeners = this.drainListeners;
    this.drainListeners = undefined;
    if (listeners) for (const l of listeners) l();
  }

  get destroyed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  get writableLength(): number {
    return this.socket.writableLength + this.outBytes;
  }

  writeHead(status: number, statusText: string | undefined, headers: string[]): this {
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    return this;
  }

  flushHeaders(): void {
    if (!this.headersSent) this.sendHead();
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.headersSent) this.sendHead();
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length === 0 || this.framing === 'none') return this.writableLength === 0;
    if (this.framing === 'chunked') {
      this.queue(Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'));
      this.queue(data);
      this.queue(CRLF);
    } else {
      this.queue(data);
    }
    return this.writableLength < this.socket.writableHighWaterMark;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    // Everything queued from here leaves in the flush below: no end-of-tick flush to schedule.
    this.ending = true;
    if (chunk !== undefined) this.write(chunk);
    else if (!this.headersSent) this.sendHead();
    this.writableEnded = true;
    if (this.destroyed) return this;
    if (this.framing === 'chunked') this.queue(LAST_CHUNK);
    // The last write: out now (the connection may end or take the next request right after).
    this.flush();
    this.writableFinished = true;
    this.emitClose();
    this.ctx.onFinish();
    return this;
  }

  destroy(): this {
    this.dropQueue();
    this.socket.destroy();
    this.connectionClosed();
    return this;
  }

  /** The connection went away: a response not finished by then never will be. */
  connectionClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropQueue();
    if (!this.writableFinished) this.emitClose();
  }

  /** The socket drained: transports waiting to write more are told. */
  drained(): void {
    this.emitDrain();
  }

  private sendHead(): void {
    this.headersSent = true;
    const noBody = this.ctx.head || this.status === 204 || this.status === 304 || this.status < 200;
    let hasLength = false;
    for (let i = 0; i < this.headers.length; i += 2) {
      const name = this.headers[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
    }
    this.framing = noBody ? 'none' : hasLength ? 'length' : this.ctx.minor === 1 ? 'chunked' : 'close';
    const keepAlive = this.framing !== 'close' && this.ctx.keepAlive();
    let head = `HTTP/1.1 ${this.status} ${this.statusText || STATUS_CODES[this.status] || 'Unknown'}\r\n`;
    for (let i = 0; i + 1 < this.headers.length; i += 2)
      head += `${this.headers[i]}: ${this.headers[i + 1]}\r\n`;
    if (this.framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
    if (!keepAlive) head += 'Connection: close\r\n';
    else if (this.ctx.minor === 0) head += 'Connection: keep-alive\r\n';
    this.queue(Buffer.from(`${head}\r\n`, 'latin1'));
  }

  /** Holds this tick's writes together; they leave as one when the tick ends (or at `end()`). */
  private queue(data: Buffer): void {
    this.out.push(data);
    this.outBytes += data.length;
    if (!this.flushQueued && !this.ending) {
      this.flushQueued = true;
      process.nextTick(this.flushLater);
    }
  }

  private flush(): void {
    const out = this.out;
    if (out.length === 0) return;
    const bytes = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    if (this.socket.destroyed) return;
    let ok: boolean;
    if (out.length === 1) ok = this.socket.write(out[0]!);
    else if (bytes < COPY_BELOW_BYTES) ok = this.socket.write(Buffer.concat(out, bytes));
    else {
      this.socket.cork();
      for (const b of out) this.socket.write(b);
      ok = this.socket.writableLength < this.socket.writableHighWaterMark;
      this.socket.uncork();
    }
    // A transport told to wait (write() false, or writableLength high) waits for 'drain': when
    // the socket took it all without backpressure, no socket 'drain' will come, so say it here.
    if (ok && this.drainListeners) this.emitDrain();
  }

  private dropQueue(): void {
    this.out = [];
    this.outBytes = 0;
  }
}

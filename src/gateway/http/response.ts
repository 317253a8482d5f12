import { EventEmitter } from 'node:events';
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

/**
 * One response, framed minimally: the upstream's Content-Length when it gave one, chunked when
 * it did not (HTTP/1.1), close-delimited for HTTP/1.0, nothing for HEAD/204/304. Writes made in
 * one tick leave in one TLS write (cork until the next tick).
 */
export class ResponseWriter extends EventEmitter implements ResponseSink {
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  private status = 200;
  private statusText: string | undefined;
  private headers: string[] = [];
  private framing: BodyFraming = 'none';
  private corked = false;
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ResponseContext,
  ) {
    super();
  }

  get destroyed(): boolean {
    return this.closed || this.socket.destroyed;
  }

  get writableLength(): number {
    return this.socket.writableLength;
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
    if (data.length === 0 || this.framing === 'none') return this.socket.writableLength === 0;
    this.cork();
    if (this.framing === 'chunked') {
      this.socket.write(`${data.length.toString(16)}\r\n`, 'latin1');
      this.socket.write(data);
      return this.socket.write(CRLF);
    }
    return this.socket.write(data);
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (chunk !== undefined) this.write(chunk);
    else if (!this.headersSent) this.sendHead();
    this.writableEnded = true;
    if (this.destroyed) return this;
    if (this.framing === 'chunked') {
      this.cork();
      this.socket.write(LAST_CHUNK);
    }
    this.writableFinished = true;
    this.emit('finish');
    this.emit('close');
    this.ctx.onFinish();
    return this;
  }

  destroy(): this {
    this.socket.destroy();
    this.connectionClosed();
    return this;
  }

  /** The connection went away: a response not finished by then never will be. */
  connectionClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.writableFinished) this.emit('close');
  }

  /** The socket drained: transports waiting to write more are told. */
  drained(): void {
    this.emit('drain');
  }

  private sendHead(): void {
    this.headersSent = true;
    const noBody = this.ctx.head || this.status === 204 || this.status === 304 || this.status < 200;
    let hasLength = false;
    for (let i = 0; i < this.headers.length; i += 2) {
      if (this.headers[i]!.toLowerCase() === 'content-length') hasLength = true;
    }
    this.framing = noBody ? 'none' : hasLength ? 'length' : this.ctx.minor === 1 ? 'chunked' : 'close';
    const keepAlive = this.framing !== 'close' && this.ctx.keepAlive();
    let head = `HTTP/1.1 ${this.status} ${this.statusText || STATUS_CODES[this.status] || 'Unknown'}\r\n`;
    for (let i = 0; i + 1 < this.headers.length; i += 2)
      head += `${this.headers[i]}: ${this.headers[i + 1]}\r\n`;
    if (this.framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
    if (!keepAlive) head += 'Connection: close\r\n';
    else if (this.ctx.minor === 0) head += 'Connection: keep-alive\r\n';
    this.cork();
    this.socket.write(`${head}\r\n`, 'latin1');
  }

  /** Holds this tick's writes together; they leave as one when the tick ends. */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }
}

import { Readable, type Duplex } from 'node:stream';
import { DockwardError } from '../../errors.js';
import { errorBody, sendError } from '../http-errors.js';
import type { BodyBudget } from '../limits.js';
import type { RequestIO } from '../pipeline.js';
import type { RequestHead } from '../request-context.js';
import { ChunkedDecoder } from './chunked.js';
import { type HeadRefusal, type ParsedHead, parseRequestHead } from './request-head.js';
import { ResponseWriter } from './response.js';

export interface HttpLayerOptions {
  /** Largest request head (431 above). */
  maxHeadBytes: number;
  /** The whole head must arrive within this time from its first byte (or the connection's start). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: number;
  /**
   * A body read whole (for the policy, at most the body limit) must arrive within this time from
   * when its reading starts (408 after; 0: no limit). Streamed uploads are not cut: they go at
   * dockerd's pace and hold at most the upload queue.
   */
  bodyTimeoutMs: number;
  /** Bytes read ahead of the request in flight (pipelined requests) before reading stops. */
  readAheadBytes: number;
}

export const DEFAULT_HTTP_OPTIONS: HttpLayerOptions = {
  maxHeadBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 60_000,
  bodyTimeoutMs: 0,
  readAheadBytes: 64 * 1024,
};

/** Told about each request head that was refused before the pipeline saw it. */
export type OnBadRequest = (refusal: DockwardError) => void;

type Phase = 'idle' | 'head' | 'request' | 'hijacked' | 'closed';

const STATUS_CODE: Record<HeadRefusal['status'], DockwardError['code']> = {
  400: 'DW_E_BAD_REQUEST',
  417: 'DW_E_BAD_REQUEST',
  431: 'DW_E_HEADERS_TOO_LARGE',
  501: 'DW_E_BAD_REQUEST',
  505: 'DW_E_BAD_REQUEST',
};

/**
 * The gateway's own HTTP/1.1 server side on one decrypted (TLS) connection: it reads request
 * heads with the strict parser, hands each request to the pipeline as a `RequestIO`, reads the
 * body by its framing (Content-Length or chunked, never both) only as the pipeline asks, writes
 * the response through a `ResponseWriter`, and keeps the connection for the next request when
 * both sides allow it. One request at a time; bytes that arrive ahead of the next request are
 * kept up to `readAheadBytes`, then reading pauses (backpressure toward the client).
 */
export class HttpConnection {
  private phase: Phase = 'idle';
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /**
   * One timer per duration in use (head, keep-alive, body...), made once and refreshed: a
   * request re-arms the connection's clock twice, and a fresh setTimeout/clearTimeout pair each
   * time was measurable per request. `armedMs` says which one counts; the others fire for nothing.
   */
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private armedMs = 0;
  private armedFire: (() => void) | undefined;
  private current: HttpRequest | undefined;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onEnd = () => this.clientEnded();
  private readonly onClose = () => this.closed();
  private readonly onDrain = () => this.current?.writer?.drained();
  private readonly onHeadTimeout = () => this.headTimedOut();
  private readonly onKeepAliveTimeout = () => this.socket.end();

  constructor(
    readonly socket: Duplex,
    private readonly options: HttpLayerOptions,
    private readonly onRequest: (io: RequestIO) => void,
    private readonly onBadRequest: OnBadRequest,
    /** Memory the bodies read whole on this connection may hold (503 when it is spent). */
    readonly budget?: BodyBudget,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    // A fresh connection must send its first head in time, as any later one.
    this.arm(options.headersTimeoutMs, this.onHeadTimeout);
  }

  /** True when no request is in flight (stop() closes such connections at once). */
  get idle(): boolean {
    return this.phase === 'idle' && this.pendingBytes === 0;
  }

  /** Ends the connection if it is between requests. */
  closeIfIdle(): boolean {
    if (!this.idle) return false;
    this.socket.destroy();
    return true;
  }

  private data(chunk: Buffer): void {
    if (this.phase === 'closed' || this.phase === 'hijacked') return;
    if (this.phase === 'request' && this.current?.readingBody) {
      const used = this.current.feed(chunk);
      if (used < chunk.length) this.keep(chunk.subarray(used));
      return;
    }
    this.keep(chunk);
    if (this.phase === 'idle' || this.phase === 'head') this.parse();
  }

  private keep(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.phase === 'request' && this.pendingBytes > this.options.readAheadBytes) this.socket.pause();
  }

  private take(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  /** Tries to read a request head from what has arrived. */
  private parse(): void {
    if (this.pendingBytes === 0) return;
    const buf = this.take();
    const res = parseRequestHead(buf, this.options.maxHeadBytes);
    if (res.kind === 'incomplete') {
      // The head clock starts with its first byte; a head that came whole needs no clock (one
      // timer refresh less per request).
      if (this.phase === 'idle') {
        this.phase = 'head';
        this.arm(this.options.headersTimeoutMs, this.onHeadTimeout);
      }
      this.pending = [buf];
      this.pendingBytes = buf.length;
      return;
    }
    if (res.kind === 'refused') {
      const code = STATUS_CODE[res.refusal.status];
      const err = new DockwardError(code, res.refusal.reason);
      this.onBadRequest(err);
      this.refuseAndClose(res.refusal.status, err);
      return;
    }
    this.disarm();
    this.phase = 'request';
    const rest = buf.subarray(res.size);
    const request = new HttpRequest(this, res.head);
    this.current = request;
    if (rest.length > 0) {
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    this.onRequest(request);
  }

  /** Hands the buffered bytes to the body reader that just started. */
  drainPendingInto(request: HttpRequest): void {
    if (this.pendingBytes === 0) return;
    const buf = this.take();
    const used = request.feed(buf);
    if (used < buf.length) {
      this.pending = [buf.subarray(used)];
      this.pendingBytes = buf.length - used;
    }
  }

  /** The response is out. Keep the connection for the next request, or close it. */
  requestDone(request: HttpRequest): void {
    if (this.current !== request || this.phase !== 'request') return;
    this.disarm();
    this.current = undefined;
    if (!request.reusable || this.socket.destroyed) {
      this.phase = 'closed';
      this.socket.end();
      // Lingering close: what the client still sends (an unread body) is read and dropped, so the
      // close is not a reset that makes the client's kernel discard the answer before it is read.
      this.socket.resume();
      // A client that does not close its side after a Connection: close answer is closed for it.
      setTimeout(() => this.socket.destroy(), 2000).unref();
      return;
    }
    this.phase = 'idle';
    this.socket.resume();
    if (this.pendingBytes > 0) {
      setImmediate(() => this.parse());
    } else {
      this.arm(this.options.keepAliveTimeoutMs, this.onKeepAliveTimeout);
    }
  }

  /** Starts the clock of a body read whole; `stop` when it is whole or has failed. */
  bodyDeadline(request: HttpRequest): void {
    const ms = this.options.bodyTimeoutMs;
    this.arm(ms, () =>
      request.bodyFailed(
        new DockwardError(
          'DW_E_REQUEST_TIMEOUT',
          `the request body did not arrive within ${ms} ms (--body-timeout)`,
        ),
      ),
    );
  }

  stopBodyDeadline(): void {
    if (this.phase === 'request') this.disarm();
  }

  /** The pipeline takes the raw connection (hijack): the HTTP layer lets go of it. */
  release(): Duplex {
    this.phase = 'hijacked';
    this.clearTimers();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onClose);
    this.socket.off('drain', this.onDrain);
    if (this.pendingBytes > 0) this.socket.unshift(this.take());
    return this.socket;
  }

  refuseAndClose(status: number, err: DockwardError): void {
    this.phase = 'closed';
    this.disarm();
    const body = errorBody(err);
    if (this.socket.writable) {
      this.socket.end(
        `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Dockward-Error: ${err.code}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private headTimedOut(): void {
    if (this.pendingBytes > 0 || this.phase === 'head') {
      const err = new DockwardError('DW_E_REQUEST_TIMEOUT', 'the request headers did not arrive in time');
      this.onBadRequest(err);
      this.refuseAndClose(408, err);
    } else {
      this.phase = 'closed';
      this.socket.destroy();
    }
  }

  private clientEnded(): void {
    if (this.phase === 'request' && this.current) {
      this.current.clientEnded();
      // The client is gone (dockerd's Go server cancels a request on EOF too): a short answer
      // still has a moment to leave; a stream (events, logs -f) would otherwise hold its
      // connection, descriptors and stream slot until it next wrote, which may be never.
      if (!this.current.readingBody) this.arm(CLIENT_GONE_GRACE_MS, () => this.socket.destroy());
      return;
    }
    this.phase = 'closed';
    this.socket.end();
  }

  private closed(): void {
    this.phase = 'closed';
    this.clearTimers();
    this.current?.connectionClosed();
  }

  private arm(ms: number, fire: () => void): void {
    if (ms <= 0) {
      this.disarm();
      return;
    }
    this.armedMs = ms;
    this.armedFire = fire;
    const timer = this.timers.get(ms);
    if (timer) {
      timer.refresh();
      return;
    }
    const made = setTimeout(() => {
      const fire = this.armedFire;
      if (this.armedMs !== ms || !fire) return; // another clock counts now (or none)
      this.disarm();
      fire();
    }, ms);
    made.unref();
    this.timers.set(ms, made);
  }

  private disarm(): void {
    this.armedMs = 0;
    this.armedFire = undefined;
  }

  /** The connection is done with its clocks (closed or hijacked): no timer may hold it. */
  private clearTimers(): void {
    this.disarm();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

function statusText(status: number): string {
  return (
    {
      400: 'Bad Request',
      408: 'Request Timeout',
      417: 'Expectation Failed',
      431: 'Request Header Fields Too Large',
      501: 'Not Implemented',
      505: 'HTTP Version Not Supported',
    }[status] ?? 'Error'
  );
}

/** How long a response may still go out after the client ended its side of the connection. */
const CLIENT_GONE_GRACE_MS = 2000;

/** How much of an upload may wait for dockerd's socket before the client's is paused. */
const UPLOAD_QUEUE_BYTES = 1024 * 1024;

/** One request on an HttpConnection, as the pipeline sees it. */
class HttpRequest implements RequestIO {
  readonly head: RequestHead;
  readonly bodyless: boolean;
  writer: ResponseWriter | undefined;
  /** True while body bytes are being consumed (read, streamed or discarded). */
  readingBody = false;
  private bodyComplete: boolean;
  private remaining: number;
  private readonly decoder: ChunkedDecoder | undefined;
  private sink: ((piece: Buffer) => void) | undefined;
  private onBodyEnd: (() => void) | undefined;
  private onBodyError: ((err: Error) => void) | undefined;
  private bodyError: Error | undefined;
  private continueSent = false;
  private wholeBody: Promise<Buffer> | undefined;
  private stream: Readable | undefined;
  private closeAfter = false;
  private hijacked = false;

  constructor(
    private readonly conn: HttpConnection,
    private readonly parsed: ParsedHead,
  ) {
    this.head = {
      method: parsed.method,
      target: parsed.target,
      rawHeaders: parsed.rawHeaders,
      upgrade: parsed.upgrade,
    };
    this.bodyless = parsed.framing.kind === 'none';
    this.bodyComplete = this.bodyless;
    this.remaining = parsed.framing.kind === 'length' ? parsed.framing.length : 0;
    this.decoder = parsed.framing.kind === 'chunked' ? new ChunkedDecoder() : undefined;
  }

  get hasBody(): boolean {
    return !this.bodyless;
  }

  /** The connection may carry another request after this one. */
  get reusable(): boolean {
    return (
      this.parsed.keepAlive && this.bodyComplete && !this.closeAfter && !this.hijacked && !this.parsed.upgrade
    );
  }

  readBody(limit: number): Promise<Buffer> {
    this.wholeBody ??= new Promise<Buffer>((resolve, reject) => {
      if (this.bodyComplete) {
        resolve(Buffer.alloc(0));
        return;
      }
      if (this.parsed.framing.kind === 'length' && this.parsed.framing.length > limit) {
        this.closeAfter = true;
        reject(tooLarge(limit));
        return;
      }
      // The body held in memory counts against the gateway's budget until it is whole or failed:
      // a Content-Length is reserved at once, chunked pieces as they come.
      const budget = this.conn.budget;
      let reserved = 0;
      const reserve = (n: number): boolean => {
        if (!budget || n === 0) return true;
        if (!budget.take(n)) return false;
        reserved += n;
        return true;
      };
      const settle = () => {
        this.conn.stopBodyDeadline();
        if (reserved > 0) budget?.give(reserved);
        reserved = 0;
      };
      const fail = (err: Error) => {
        this.closeAfter = true;
        this.sink = () => undefined;
        settle();
        reject(err);
      };
      const chunked = this.parsed.framing.kind !== 'length';
      if (!chunked && !reserve(this.remaining)) {
        fail(busy());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      this.conn.bodyDeadline(this);
      this.consume(
        (piece) => {
          size += piece.length;
          if (size > limit) {
            fail(tooLarge(limit));
            return;
          }
          if (chunked && !reserve(piece.length)) {
            fail(busy());
            return;
          }
          chunks.push(Buffer.from(piece));
        },
        () => {
          settle();
          resolve(Buffer.concat(chunks, size));
        },
        fail,
      );
    });
    return this.wholeBody;
  }

  bodyStream(): Readable {
    if (this.stream) return this.stream;
    // A deep queue (as the old path's 1 MiB relay): pausing the client's socket at every 16 KiB
    // stopped and restarted an upload (docker load) for every TLS record.
    const stream = new Readable({
      highWaterMark: UPLOAD_QUEUE_BYTES,
      read: () => this.conn.socket.resume(),
    });
    this.stream = stream;
    if (this.bodyComplete) {
      stream.push(null);
      return stream;
    }
    this.consume(
      (piece) => {
        // Backpressure toward the client: stop reading its socket until the upload drains.
        if (!stream.push(piece)) this.conn.socket.pause();
      },
      () => stream.push(null),
      (err) => stream.destroy(err),
    );
    return stream;
  }

  discardBody(): void {
    if (this.bodyComplete || this.sink) return;
    // A body that will not be forwarded is not read either: the connection closes after the
    // answer, so its bytes can never be taken for the next request.
    this.closeAfter = true;
  }

  refuse(err: DockwardError): number {
    // After a refused upgrade the client may already be sending raw bytes: never reuse it.
    if (this.parsed.upgrade) this.closeAfter = true;
    return sendError(this.response(), err);
  }

  response(): ResponseWriter {
    this.writer ??= new ResponseWriter(this.conn.socket, {
      head: this.parsed.method === 'HEAD',
      minor: this.parsed.minor,
      keepAlive: () => this.reusable,
      onFinish: () => this.conn.requestDone(this),
    });
    return this.writer;
  }

  takeOver(): Duplex {
    this.hijacked = true;
    const socket = this.conn.release();
    (socket as Duplex & { allowHalfOpen: boolean }).allowHalfOpen = true;
    return socket;
  }

  /** Body bytes from the connection; returns how many belonged to this body. */
  feed(chunk: Buffer): number {
    if (this.bodyComplete || !this.sink) return 0;
    if (this.decoder) {
      let used: number;
      try {
        used = this.decoder.push(chunk, (piece) => this.sink?.(piece));
      } catch (err) {
        this.closeAfter = true;
        this.bodyFailed(
          new DockwardError('DW_E_BAD_REQUEST', `malformed chunked body: ${(err as Error).message}`),
        );
        return chunk.length;
      }
      if (this.decoder.done) this.finishBody();
      return used;
    }
    const n = Math.min(this.remaining, chunk.length);
    this.remaining -= n;
    this.sink(chunk.subarray(0, n));
    if (this.remaining === 0) this.finishBody();
    return n;
  }

  bodyFailed(err: Error): void {
    if (this.bodyComplete) return;
    this.bodyError = err;
    this.readingBody = false;
    const fail = this.onBodyError;
    this.onBodyError = undefined;
    this.onBodyEnd = undefined;
    fail?.(err);
  }

  clientEnded(): void {
    if (!this.bodyComplete) {
      this.closeAfter = true;
      this.bodyFailed(new DockwardError('DW_E_BAD_REQUEST', 'connection ended inside the request body'));
    } else {
      this.closeAfter = true;
    }
  }

  connectionClosed(): void {
    this.bodyFailed(new DockwardError('DW_E_BAD_REQUEST', 'connection closed inside the request body'));
    this.writer?.connectionClosed();
  }

  private consume(sink: (piece: Buffer) => void, end: () => void, fail: (err: Error) => void): void {
    if (this.bodyError) {
      fail(this.bodyError);
      return;
    }
    this.sink = sink;
    this.onBodyEnd = end;
    this.onBodyError = fail;
    this.readingBody = true;
    if (this.parsed.expectContinue && !this.continueSent && !this.writer?.headersSent) {
      this.continueSent = true;
      this.conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    this.conn.drainPendingInto(this);
  }

  private finishBody(): void {
    if (this.bodyComplete) return;
    this.bodyComplete = true;
    this.readingBody = false;
    const end = this.onBodyEnd;
    this.onBodyEnd = undefined;
    this.onBodyError = undefined;
    end?.();
  }
}

function busy(): DockwardError {
  return new DockwardError(
    'DW_E_GATEWAY_BUSY',
    'the gateway holds as many request bodies in memory as it allows (--body-memory); retry later',
  );
}

function tooLarge(limit: number): DockwardError {
  return new DockwardError('DW_E_BODY_TOO_LARGE', `request body over ${limit} bytes`);
}

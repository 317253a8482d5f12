import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Duplex } from 'node:stream';
import { DockwardError, describeError } from '../../errors.js';
import { downstreamResponseHeaders, rawResponseHead, upstreamRequestHeaders } from '../headers.js';
import { sendError, sendRawError } from '../http-errors.js';
import type { RequestContext } from '../request-context.js';
import type { Upstream } from '../upstream.js';

function unreachable(err: unknown): DockwardError {
  return new DockwardError('DW_E_UPSTREAM', `the Docker daemon is unreachable: ${describeError(err)}`, {
    cause: err,
  });
}

/**
 * Stage "forward": sends the canonical request upstream and streams the answer back with no
 * buffering and no idle timeout (events, logs -f, pull progress). A client that goes away takes
 * its upstream request with it, so no upstream socket is left open.
 *
 * Two transports, chosen by the request body. Requests with no body or a buffered (canonical)
 * one go through an undici pool driven by its low-level handler API: about half the CPU of
 * `http.request` per request, and the gateway's hot path is CPU-bound. A streamed upload
 * (`docker load`, a build context) goes through `http.request`, which passes it on at the
 * socket's pace: undici measured 5× slower there and buffered the upload (bench/streaming.ts).
 */
export function createForwardStage(upstream: () => Upstream) {
  return function forward(ctx: RequestContext, res: ServerResponse, done: () => void): void {
    const req = ctx.req;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done();
    };
    if (ctx.body) {
      ctx.bytesIn += ctx.body.length;
      forwardPooled(ctx, res, upstream(), ctx.body, finish);
      return;
    }
    const length = req.headers['content-length'];
    if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
      // No body (RFC 9112 §6.3): the request leaves now, head only, without waiting for 'end'.
      req.resume();
      forwardPooled(ctx, res, upstream(), null, finish);
      return;
    }
    forwardStreamedBody(ctx, res, upstream(), finish);
  };
}

/** A request whose body is absent or already in memory, through the undici pool. */
function forwardPooled(
  ctx: RequestContext,
  res: ServerResponse,
  up: Upstream,
  body: Buffer | null,
  finish: () => void,
): void {
  const c = ctx.canonical!;
  let abortUpstream: ((err?: Error) => void) | undefined;
  let resumeUpstream: (() => void) | undefined;
  let expected = -1;
  const fail = (err: unknown) => {
    ctx.error ??= describeError(err);
    if (!res.headersSent && !res.destroyed) ctx.status = sendError(res, unreachable(err));
    else res.destroy();
    finish();
  };
  // The client went away (or the response finished): nothing may stay open upstream.
  res.on('close', () => {
    if (!res.writableFinished) {
      ctx.error ??= 'client closed the connection';
      abortUpstream?.(new Error('client closed the connection'));
    }
    finish();
  });
  const handler: Dispatcher.DispatchHandlers = {
    onConnect(abort) {
      abortUpstream = abort;
    },
    onHeaders(statusCode, rawHeaders, resume, statusText) {
      if (statusCode < 200) return true; // 1xx: the final head follows
      resumeUpstream = resume;
      ctx.status = statusCode;
      const headers = rawHeaders.map((h) => h.toString('latin1'));
      res.writeHead(statusCode, statusText, downstreamResponseHeaders(headers));
      const length = headerValue(headers, 'content-length');
      // A stream (events, logs -f: no Content-Length) must show its headers before the first
      // event; a sized answer goes out with its body in one write.
      if (length === undefined) res.flushHeaders();
      expected = length === undefined ? -1 : Number(length);
      return true;
    },
    onData(chunk) {
      ctx.bytesOut += chunk.length;
      // The chunk that completes a sized body goes out with res.end(chunk): head, body and end
      // then leave in one TLS record and one write(2) instead of two or three.
      if (ctx.bytesOut === expected) {
        res.end(chunk);
        return true;
      }
      res.write(chunk);
      if (res.writableLength < RELAY_QUEUE_BYTES) return true;
      res.once('drain', () => resumeUpstream?.());
      return false;
    },
    onComplete() {
      if (!res.writableEnded) res.end();
      finish();
    },
    onError(err) {
      fail(err);
    },
  };
  try {
    up.pool.dispatch(
      {
        method: c.method as Dispatcher.HttpMethod,
        path: c.upstreamTarget,
        headers: withBodyLength(
          withoutExpect(upstreamRequestHeaders(ctx.req.rawHeaders, false)),
          body ?? undefined,
        ),
        body,
      },
      handler,
    );
  } catch (err) {
    fail(err);
  }
}

/** A streamed upload (no Content-Length known in memory), through `http.request`. */
function forwardStreamedBody(
  ctx: RequestContext,
  res: ServerResponse,
  up: Upstream,
  finish: () => void,
): void {
  const c = ctx.canonical!;
  const req = ctx.req;
  const upReq = httpRequest({
    ...up.requestOptions,
    agent: up.agent,
    method: c.method,
    path: c.upstreamTarget,
    headers: upstreamRequestHeaders(req.rawHeaders, false),
    setHost: false,
  });
  // Nagle only matters on a TCP upstream (a unix socket has none).
  if (up.requestOptions.socketPath === undefined) upReq.setNoDelay(true);
  upReq.on('error', (err) => {
    ctx.error = describeError(err);
    if (!res.headersSent) ctx.status = sendError(res, unreachable(err));
    else res.destroy();
    finish();
  });
  upReq.on('response', (upRes: IncomingMessage) => {
    ctx.status = upRes.statusCode ?? 502;
    res.writeHead(ctx.status, upRes.statusMessage, downstreamResponseHeaders(upRes.rawHeaders));
    if (upRes.headers['content-length'] === undefined) res.flushHeaders();
    upRes.on('data', (chunk: Buffer) => {
      ctx.bytesOut += chunk.length;
      res.write(chunk);
      if (res.writableLength >= RELAY_QUEUE_BYTES) {
        upRes.pause();
        res.once('drain', () => upRes.resume());
      }
    });
    upRes.on('end', () => {
      res.end();
      finish();
    });
    upRes.on('error', (err) => {
      ctx.error = describeError(err);
      res.destroy();
      finish();
    });
  });
  // The client went away (or the response finished): nothing may stay open upstream.
  res.on('close', () => {
    if (!res.writableFinished) {
      ctx.error ??= 'client closed the connection';
      upReq.destroy();
    }
    finish();
  });
  req.on('data', (chunk: Buffer) => {
    ctx.bytesIn += chunk.length;
    // A request body (docker load, build context) pauses at the socket's high-water mark: a
    // deeper queue toward dockerd measured no faster (bench/streaming.ts).
    if (!upReq.write(chunk)) {
      req.pause();
      upReq.once('drain', () => req.resume());
    }
  });
  req.on('end', () => upReq.end());
}

/** The first value of a header in a raw [name, value, ...] list. */
function headerValue(raw: readonly string[], lower: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

/** `Expect: 100-continue` was answered by the gateway's own server; the upstream hop has none. */
function withoutExpect(headers: string[]): string[] {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'expect') return [...headers.slice(0, i), ...headers.slice(i + 2)];
  }
  return headers;
}

/**
 * How much of a response body may wait for the client before dockerd's side is paused. A 64 KiB
 * chunk from the socket is already over a TLS socket's 16 KiB high-water mark, so pausing
 * whenever write() returns false stopped and restarted the reader for every chunk of a
 * `docker save`; a bounded deeper queue keeps it flowing.
 */
const RELAY_QUEUE_BYTES = 1024 * 1024;

function withBodyLength(headers: string[], body: Buffer | undefined): string[] {
  if (!body) return headers;
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === 'content-length') continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  out.push('Content-Length', String(body.length));
  return out;
}

/**
 * Forwards a request that hijacks the connection (attach, exec start, BuildKit session/grpc,
 * attach/ws): the request goes upstream on a fresh connection; the answer (101 Upgrade, or 200
 * and a raw stream for clients that did not ask to upgrade, or an error) is written verbatim,
 * then bytes flow both ways. Each direction's end is passed on as a half-close, so
 * `echo hi | docker exec -i C cat` still prints `hi` after stdin has ended.
 */
export function createHijackStage(upstream: () => Upstream) {
  return function forwardHijacked(
    ctx: RequestContext,
    client: Duplex,
    body: Buffer,
    askedUpgrade: boolean,
    done: () => void,
  ): void {
    const c = ctx.canonical!;
    const up = upstream();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done();
    };
    const headers = withBodyLength(upstreamRequestHeaders(ctx.req.rawHeaders, askedUpgrade), body);
    const upReq = httpRequest({
      ...up.requestOptions,
      agent: false,
      createConnection: () => up.connect(),
      method: c.method,
      path: c.upstreamTarget,
      headers,
      setHost: false,
    });
    ctx.bytesIn += body.length;
    const onClientGone = () => {
      if (!ctx.hijacked) {
        upReq.destroy();
        finish();
      }
    };
    client.once('close', onClientGone);
    upReq.on('error', (err) => {
      ctx.error = describeError(err);
      if (!ctx.hijacked) ctx.status = sendRawError(client, unreachable(err));
      finish();
    });
    upReq.on('upgrade', (upRes: IncomingMessage, upSocket: Duplex, upHead: Buffer) => {
      ctx.status = upRes.statusCode ?? 101;
      ctx.hijacked = true;
      client.write(
        rawResponseHead(ctx.status, upRes.statusMessage ?? 'Switching Protocols', upRes.rawHeaders),
      );
      if (upHead.length > 0) {
        ctx.bytesOut += upHead.length;
        client.write(upHead);
      }
      splice(ctx, client, upSocket, finish);
    });
    upReq.on('response', (upRes: IncomingMessage) => {
      ctx.status = upRes.statusCode ?? 502;
      const raw = /vnd\.docker\.(raw|multiplexed)-stream/.test(String(upRes.headers['content-type'] ?? ''));
      if (ctx.status === 200 && raw) {
        // dockerd hijacked without an upgrade: a 200 head, then raw bytes both ways until close.
        ctx.hijacked = true;
        client.write(rawResponseHead(200, upRes.statusMessage ?? 'OK', upRes.rawHeaders));
        upRes.on('data', (chunk: Buffer) => {
          ctx.bytesOut += chunk.length;
          client.write(chunk);
        });
        upRes.on('end', () => client.end());
        client.on('data', (chunk: Buffer) => {
          ctx.bytesIn += chunk.length;
          upRes.socket.write(chunk);
        });
        client.on('end', () => upRes.socket.end());
        const close = () => {
          client.destroy();
          upRes.socket.destroy();
          finish();
        };
        client.on('close', close);
        upRes.socket.on('close', close);
        return;
      }
      // An error or a plain answer: pass it on and close, as dockerd would.
      const chunks: Buffer[] = [];
      upRes.on('data', (chunk: Buffer) => chunks.push(chunk));
      upRes.on('end', () => {
        const bodyOut = Buffer.concat(chunks);
        ctx.bytesOut += bodyOut.length;
        const hdrs = downstreamResponseHeaders(upRes.rawHeaders).filter((_, i, a) =>
          i % 2 === 0
            ? a[i]!.toLowerCase() !== 'content-length'
            : a[i - 1]!.toLowerCase() !== 'content-length',
        );
        hdrs.push('Content-Length', String(bodyOut.length), 'Connection', 'close');
        client.end(
          Buffer.concat([
            Buffer.from(rawResponseHead(ctx.status ?? 502, upRes.statusMessage ?? '', hdrs)),
            bodyOut,
          ]),
        );
        finish();
      });
    });
    upReq.end(body);
  };
}

/**
 * Pipes two sockets both ways. Each end is passed on as a half-close (never a destroy, which
 * would drop bytes still queued); a socket that closes or fails takes the other with it after
 * its queued bytes had a chance to leave.
 */
function splice(ctx: RequestContext, client: Duplex, upstream: Duplex, done: () => void): void {
  let clientClosed = false;
  let upstreamClosed = false;
  const settle = () => {
    if (clientClosed && upstreamClosed) done();
  };
  const pump = (from: Duplex, to: Duplex, count: (n: number) => void) => {
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
  };
  pump(client, upstream, (n) => {
    ctx.bytesIn += n;
  });
  pump(upstream, client, (n) => {
    ctx.bytesOut += n;
  });
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => {
    clientClosed = true;
    // The client is gone: nothing more can be delivered to it.
    upstream.destroy();
    settle();
  });
  upstream.on('close', () => {
    upstreamClosed = true;
    // dockerd is done: let the queued output reach the client, then close it.
    client.end();
    setTimeout(() => client.destroy(), 30_000).unref();
    settle();
  });
  upstream.resume();
  client.resume();
}

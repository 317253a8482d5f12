import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { describeError } from '../../errors.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../headers.js';
import { sendError } from '../http-errors.js';
import type { ResponseSink } from '../http/response.js';
import type { RequestContext } from '../request-context.js';
import type { Upstream } from '../upstream.js';
import { RELAY_QUEUE_BYTES, unreachable } from './common.js';

/**
 * Transport "streamed": an upload whose body is not in memory (`docker load`, a build context),
 * through `http.request`, which passes it on at the socket's pace: undici measured 5× slower
 * here and buffered the upload (bench/streaming.ts).
 */
export function forwardStreamed(
  ctx: RequestContext,
  req: Readable,
  res: ResponseSink,
  up: Upstream,
  finish: () => void,
): void {
  const c = ctx.canonical!;
  const upReq = httpRequest({
    ...up.requestOptions,
    agent: up.agent,
    method: c.method,
    path: c.upstreamTarget,
    headers: upstreamRequestHeaders(ctx.head.rawHeaders, false),
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

import type { Dispatcher } from 'undici';
import { describeError } from '../../errors.js';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../headers.js';
import { sendError } from '../http-errors.js';
import type { ResponseSink } from '../http/response.js';
import { headerValue, type RequestContext } from '../request-context.js';
import type { Upstream } from '../upstream.js';
import { RELAY_QUEUE_BYTES, unreachable, withBodyLength, withoutExpect } from './common.js';

/**
 * Transport "pooled": a request whose body is absent or already in memory (the canonical body
 * the policy checked), through the undici pool driven by its low-level handler API: about half
 * the CPU of `http.request` per request, and the gateway's hot path is CPU-bound. The answer is
 * streamed back with no buffering and no idle timeout (events, logs -f, pull progress); a client
 * that goes away takes its upstream request with it.
 */
export function forwardPooled(
  ctx: RequestContext,
  res: ResponseSink,
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
          withoutExpect(upstreamRequestHeaders(ctx.head.rawHeaders, false)),
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

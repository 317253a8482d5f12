import type { Readable } from 'node:stream';
import { DockwardError, describeError } from '../../errors.js';
import { upstreamRequestHeaders } from '../headers.js';
import { sendError } from '../http-errors.js';
import type { ResponseSink } from '../http/response.js';
import { headerValue, type RequestContext } from '../request-context.js';
import { formatRequestHead, UpstreamExchange } from '../upstream-http/exchange.js';
import type { Upstream } from '../upstream.js';
import { RELAY_QUEUE_BYTES, relayResponse, unreachable, withoutExpect } from './common.js';

/**
 * Transport "streamed": an upload whose body is not in memory (`docker load`, a build context),
 * relayed on a persistent upstream connection as it arrives. A Content-Length is passed on; a
 * chunked body (the server side decoded and checked it) is chunk-encoded again by the gateway,
 * so what was checked is what is sent. One tick's writes leave as one; at most RELAY_QUEUE_BYTES
 * wait for dockerd before the client's side is paused.
 */
export function forwardStreamed(
  ctx: RequestContext,
  req: Readable,
  res: ResponseSink,
  up: Upstream,
  finish: () => void,
): void {
  const c = ctx.canonical!;
  const headers = withoutExpect(upstreamRequestHeaders(ctx.head.rawHeaders, false));
  const chunked = headerValue(headers, 'content-length') === undefined;
  if (chunked) headers.push('Transfer-Encoding', 'chunked');
  let exchange: UpstreamExchange | undefined;
  res.on('close', () => {
    if (!res.writableFinished) {
      ctx.error ??= 'client closed the connection';
      exchange?.abort();
      req.destroy();
    }
    finish();
  });
  const ex = new UpstreamExchange(
    up.pool,
    c.method,
    formatRequestHead(c.method, c.upstreamTarget, headers),
    null,
    { chunked },
    relayResponse(ctx, res, finish, () => exchange),
  );
  exchange = ex;
  let waiting = false;
  req.on('data', (chunk: Buffer) => {
    ctx.bytesIn += chunk.length;
    ex.write(chunk);
    if (!waiting && ex.writableLength >= RELAY_QUEUE_BYTES) {
      waiting = true;
      req.pause();
      ex.onceDrain(() => {
        waiting = false;
        req.resume();
      });
    }
  });
  req.on('end', () => ex.end());
  // The client's body failed (malformed chunk, body timeout): dockerd must not see the rest.
  req.on('error', (err) => {
    ctx.error ??= describeError(err);
    ex.abort();
    if (!res.headersSent && !res.destroyed) {
      ctx.status = sendError(res, err instanceof DockwardError ? err : unreachable(err));
    } else res.destroy();
    finish();
  });
}

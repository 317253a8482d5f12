import { upstreamRequestHeaders } from '../headers.js';
import type { ResponseSink } from '../http/response.js';
import type { RequestContext } from '../request-context.js';
import { formatRequestHead, UpstreamExchange } from '../upstream-http/exchange.js';
import type { Upstream } from '../upstream.js';
import { relayResponse, withBodyLength, withoutExpect } from './common.js';

/**
 * Transport "pooled": a request whose body is absent or already in memory (the canonical body
 * the policy checked), on a persistent upstream connection: head and body leave in one write,
 * the answer is streamed back with no buffering beyond a bound and no idle timeout (events,
 * logs -f, pull progress); a client that goes away takes its upstream request with it.
 */
export function forwardPooled(
  ctx: RequestContext,
  res: ResponseSink,
  up: Upstream,
  body: Buffer | null,
  finish: () => void,
): void {
  const c = ctx.canonical!;
  let exchange: UpstreamExchange | undefined;
  // The client went away (or the response finished): nothing may stay open upstream.
  res.on('close', () => {
    if (!res.writableFinished) {
      ctx.error ??= 'client closed the connection';
      exchange?.abort();
    }
    finish();
  });
  const headers = withBodyLength(
    withoutExpect(upstreamRequestHeaders(ctx.head.rawHeaders, false)),
    body ?? undefined,
  );
  exchange = new UpstreamExchange(
    up.pool,
    c.method,
    formatRequestHead(c.method, c.upstreamTarget, headers),
    body,
    null,
    relayResponse(ctx, res, finish, () => exchange),
  );
}

import type { RequestContext } from '../request-context.js';
import type { RequestIO } from '../pipeline.js';
import { hijacks } from '../stages/canonicalize.js';
import type { Upstream } from '../upstream.js';
import { once } from './common.js';
import { forwardHijacked } from './hijacked.js';
import { forwardPooled } from './pooled.js';
import { forwardStreamed } from './streamed.js';

/**
 * Stage "forward": picks the transport for a checked, recorded request.
 * - hijacked: the request upgrades (101) or hijacks without asking (exec/attach: 200 then raw
 *   bytes); its body is read whole first by the one body reader, then the sockets are spliced;
 * - pooled: no body, or the canonical body the policy read (in memory);
 * - streamed: an upload of any size, passed on at the socket's pace.
 */
export function forward(ctx: RequestContext, io: RequestIO, up: Upstream, done: () => void): void {
  if (hijacks(io.head, ctx.canonical!)) {
    // The canonicalize stage read the body whole (the one body reader, the one limit).
    forwardHijacked(ctx, io.takeOver(), ctx.body ?? Buffer.alloc(0), up, done);
    return;
  }
  const finish = once(done);
  const res = io.response();
  if (ctx.body) {
    ctx.bytesIn += ctx.body.length;
    forwardPooled(ctx, res, up, ctx.body, finish);
    return;
  }
  if (io.bodyless) {
    // No body (RFC 9112 §6.3): the request leaves now, head only, without waiting for 'end'.
    io.discardBody();
    forwardPooled(ctx, res, up, null, finish);
    return;
  }
  forwardStreamed(ctx, io.bodyStream(), res, up, finish);
}

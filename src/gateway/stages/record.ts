import { type AuditSink, NULL_AUDIT_SINK } from '../audit-sink.js';
import { headerValue, type RequestContext } from '../request-context.js';

/**
 * Stage "record": the decision record, handed to the OS before anything is forwarded, so every
 * request that reached dockerd has a record even if the gateway is killed right after. Resolves
 * once the record is written; undefined when there is no audit log (nothing to wait for).
 */
export function recordDecision(
  sink: AuditSink,
  ctx: RequestContext,
  refusal?: { rule?: string; reason: string },
): Promise<void> | undefined {
  // No audit log: no record to build (its fields cost more than the rest of a small request).
  if (sink === NULL_AUDIT_SINK) return undefined;
  const c = ctx.canonical;
  const d = ctx.decision;
  const userAgent = headerValue(ctx.head.rawHeaders, 'user-agent');
  return sink.decision({
    requestId: ctx.requestId,
    connId: ctx.conn.connId,
    client: ctx.conn.client,
    identity: ctx.conn.identity,
    method: ctx.head.method,
    rawPath: ctx.head.target,
    canonicalPath: c?.path ?? '',
    ...(c?.apiVersion ? { apiVersion: c.apiVersion } : {}),
    endpoint: c?.route?.endpoint.name ?? null,
    decision: refusal || !d?.allow ? 'deny' : 'allow',
    ...(d?.rule || refusal?.rule ? { rule: refusal?.rule ?? d?.rule } : {}),
    ...(refusal ? { reason: refusal.reason } : d ? { reason: d.reason } : {}),
    ...(userAgent ? { userAgent } : {}),
  });
}

/** The completion record: status, bytes and duration, once the response or stream has ended. */
export function recordCompletion(sink: AuditSink, ctx: RequestContext): void {
  if (sink === NULL_AUDIT_SINK) return;
  sink.completion({
    requestId: ctx.requestId,
    connId: ctx.conn.connId,
    status: ctx.status ?? 0,
    bytesIn: ctx.bytesIn,
    bytesOut: ctx.bytesOut,
    durationMs: Number(process.hrtime.bigint() - ctx.startedAt) / 1e6,
    ...(ctx.hijacked ? { hijacked: true } : {}),
    ...(ctx.error ? { error: ctx.error } : {}),
  });
}

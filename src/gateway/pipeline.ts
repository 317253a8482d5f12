/**
 * The gateway's request path, in one place. A connection passes
 *
 *   admit → identify                                    (once per connection, gateway.ts)
 *
 * and then every request on it, plain or upgrading alike:
 *
 *   canonicalize (path, then body when the policy reads it) → decide → own → record → forward
 *
 * `check` is the pure part (canonicalize + decide): `policy explain` and the policy tests run it
 * too, so what they show is what the gateway does. `Pipeline.run` adds the effects: the refusal,
 * the audit record, the transport. The HTTP layer hands each request over as a `RequestIO`: the
 * parsed head, the one body reader (with the one body limit) and the ways to answer.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ROUTE_TABLE, type RouteTable } from '../docker/endpoints/index.js';
import { DockwardError, describeError, toHttpStatus } from '../errors.js';
import { DEFAULT_BODY_LIMIT } from '../policy/canonical-body.js';
import type { Decider, Decision, Explanation, PolicyIdentity } from '../policy/decision.js';
import type { JsonCostLimits } from '../text/json-cost.js';
import type { AuditSink } from './audit-sink.js';
import type { RecordRateLimiter } from './record-rate.js';
import type { CanonicalRequest } from './canonical-request.js';
import { forward } from './forward/index.js';
import type { ResponseSink } from './http/response.js';
import type { KeyedCounter } from './limits.js';
import type { GatewayMetrics } from './metrics.js';
import type { ConnectionInfo, RequestContext, RequestHead } from './request-context.js';
import {
  type CanonicalBodyResult,
  canonicalizeBody,
  canonicalizePath,
  hijacks,
} from './stages/canonicalize.js';
import { decide, deniedError } from './stages/decide.js';
import { guardFetch, type ResolveHost } from './stages/fetch-guard.js';
import { checkOwned, labelOwned } from './stages/own.js';
import { LABELLED_BODIES } from './ownership/owner-label.js';
import type { Ownership } from './ownership/ownership.js';
import { BODY_REFERENCES } from './ownership/references.js';
import { recordCompletion, recordDecision } from './stages/record.js';
import type { Upstream } from './upstream.js';

/** The stages, in the order they run (connection-level first). */
export const STAGES = ['admit', 'identify', 'canonicalize', 'decide', 'own', 'record', 'forward'] as const;

/** One request as the HTTP layer delivers it to the pipeline. */
export interface RequestIO {
  readonly head: RequestHead;
  /** True when the request has no body at all (no Content-Length > 0, no Transfer-Encoding). */
  readonly bodyless: boolean;
  /**
   * The whole body, de-chunked, within `limit` bytes (DW_E_BODY_TOO_LARGE above; DW_E_BAD_REQUEST
   * when the connection ends inside it). The only body reader: plain and upgrade requests alike.
   */
  readBody(limit: number): Promise<Buffer>;
  /** The body as a stream, for an upload forwarded at the socket's pace. */
  bodyStream(): Readable;
  /** Reads and drops a body that will not be forwarded. */
  discardBody(): void;
  /** Answers with a Docker-style JSON error; returns the status sent. */
  refuse(err: DockwardError): number;
  /** The response of an ordinary request. */
  response(): ResponseSink;
  /** The raw connection, for a hijacked request (its body has been read). */
  takeOver(): Duplex;
}

export interface CheckDeps {
  routes: RouteTable;
  decider: Decider;
  bodyLimit: number;
  /** Keys and depth a JSON body may have (checked before it is parsed). */
  jsonCost?: JsonCostLimits;
  /** Ask the decider for its reasoning (`policy explain`). */
  explain?: boolean;
  /** How fetch-guard resolves a listed fetch host (DNS by default; tests pass their own). */
  resolveHost?: ResolveHost;
}

export type Checked =
  | {
      ok: true;
      canonical: CanonicalRequest;
      decision: Decision | Explanation;
      /** Set when the policy read the body: what is forwarded. */
      body?: CanonicalBodyResult;
    }
  | {
      ok: false;
      error: DockwardError;
      canonical?: CanonicalRequest;
      decision?: Decision | Explanation;
      body?: CanonicalBodyResult;
    };

/** canonicalize (path, body) → decide: the verdict for one request, no side effect but the read. */
export async function check(
  deps: CheckDeps,
  identity: PolicyIdentity,
  head: RequestHead,
  readBody: (limit: number) => Promise<Buffer>,
): Promise<Checked> {
  return checkNow(deps, identity, head, readBody);
}

/**
 * `check` without a promise when nothing has to be waited for (no body to read, no fetch host to
 * resolve): the common small request then goes through the pipeline in one synchronous run, with
 * no microtask hop per stage.
 */
export function checkNow(
  deps: CheckDeps,
  identity: PolicyIdentity,
  head: RequestHead,
  readBody: (limit: number) => Promise<Buffer>,
): Checked | Promise<Checked> {
  const path = canonicalizePath(head, deps.routes);
  if (!path.ok)
    return { ok: false, error: path.error, ...(path.canonical ? { canonical: path.canonical } : {}) };
  const canonical = path.canonical;
  const endpoint = canonical.route!.endpoint;
  // Create and reference bodies are read whatever the policy: the owner label goes into them and
  // an `own` role's references are checked in them.
  const readsBody =
    deps.decider.needsBody(endpoint) ||
    LABELLED_BODIES.has(endpoint.name) ||
    BODY_REFERENCES.has(endpoint.name);
  // A hijacked request's body (exec start's JSON) is read whole before the connection is
  // spliced; otherwise only a policy that reads this endpoint's body costs a wait here.
  if (readsBody || hijacks(head, canonical)) {
    return checkWithBody(deps, identity, head, canonical, readsBody, readBody);
  }
  return decided(deps, identity, canonical, undefined);
}

async function checkWithBody(
  deps: CheckDeps,
  identity: PolicyIdentity,
  head: RequestHead,
  canonical: CanonicalRequest,
  readsBody: boolean,
  readBody: (limit: number) => Promise<Buffer>,
): Promise<Checked> {
  let raw: Buffer;
  try {
    raw = await readBody(deps.bodyLimit);
  } catch (err) {
    const error =
      err instanceof DockwardError ? err : new DockwardError('DW_E_BAD_REQUEST', describeError(err));
    return { ok: false, error, canonical };
  }
  let body: CanonicalBodyResult;
  if (readsBody) {
    const res = canonicalizeBody(canonical.route!.endpoint, raw, head, deps.bodyLimit, deps.jsonCost);
    if (res instanceof DockwardError) return { ok: false, error: res, canonical };
    body = res;
  } else {
    body = { bytes: raw, value: undefined, changed: false };
  }
  return decided(deps, identity, canonical, body);
}

/** decide (then fetch-guard when the decision lists fetch hosts) and the owner label. */
function decided(
  deps: CheckDeps,
  identity: PolicyIdentity,
  canonical: CanonicalRequest,
  body: CanonicalBodyResult | undefined,
): Checked | Promise<Checked> {
  const verdict = decide(deps.decider, identity, canonical, body?.value, deps.explain);
  if (!verdict.error && verdict.decision.fetchHosts) {
    return guardFetch(verdict.decision, deps.resolveHost).then((refused) => {
      if (refused) {
        verdict.decision = { ...verdict.decision, allow: false, ...refused };
        verdict.error = deniedError(refused.rule, refused.reason);
      }
      return verdictOf(verdict, identity, canonical, body);
    });
  }
  return verdictOf(verdict, identity, canonical, body);
}

function verdictOf(
  verdict: ReturnType<typeof decide>,
  identity: PolicyIdentity,
  canonical: CanonicalRequest,
  body: CanonicalBodyResult | undefined,
): Checked {
  if (verdict.error) {
    return {
      ok: false,
      error: verdict.error,
      canonical,
      decision: verdict.decision,
      ...(body ? { body } : {}),
    };
  }
  const owned = labelOwned(verdict.decision, identity, canonical, body);
  if (owned instanceof DockwardError) return { ok: false, error: owned, canonical };
  return { ok: true, canonical, decision: verdict.decision, ...(owned ? { body: owned } : {}) };
}

export interface PipelineDeps {
  routes: RouteTable;
  decider: () => Decider;
  audit: () => AuditSink;
  upstream: () => Upstream;
  metrics: GatewayMetrics;
  logger: Logger;
  bodyLimit?: number;
  /** Owner lookups for `own` roles; without it such a role is refused whatever it names. */
  ownership?: () => Ownership | undefined;
  jsonCost?: JsonCostLimits;
  /** Streams open per identity (events, logs, attach, exec...): 429 at the limit. */
  streams?: KeyedCounter;
  /** Per-identity request rate (`--audit-rate`); none: no limit. */
  recordRate?: RecordRateLimiter;
}

/** The per-request stages with their effects, for the gateway's connections. */
export class Pipeline {
  private readonly bodyLimit: number;
  private readonly unrecorded = new WeakSet<RequestContext>();
  private lastCheckDeps: CheckDeps | undefined;

  constructor(private readonly deps: PipelineDeps) {
    this.bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  }

  /**
   * Runs one request through every stage. Whatever ends it (answer, refusal, a stage that
   * throws), it completes exactly once; a stage that throws refuses it, never forwards it.
   * A stage that has nothing to wait for runs at once: a small request is checked, recorded and
   * forwarded in one synchronous run (the stages return a promise only when they must wait).
   */
  run(conn: ConnectionInfo, io: RequestIO): void {
    const ctx: RequestContext = {
      requestId: randomUUID(),
      conn,
      head: io.head,
      startedAt: process.hrtime.bigint(),
      bytesIn: 0,
      bytesOut: 0,
    };
    conn.active++;
    let completed = false;
    const done = () => {
      if (completed) return;
      completed = true;
      this.complete(ctx);
    };
    const failed = (err: unknown) => {
      ctx.status ??= 500;
      ctx.error ??= describeError(err);
      this.deps.logger.error({ err: describeError(err) }, 'request failed inside the gateway: refused');
      if (!ctx.hijacked)
        io.refuse(new DockwardError('DW_E_INTERNAL', 'the gateway could not handle this request'));
      done();
    };
    try {
      this.stages(ctx, io, done)?.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  private stages(ctx: RequestContext, io: RequestIO, done: () => void): Promise<void> | undefined {
    const over = this.deps.recordRate ? this.overRate(ctx, io) : undefined;
    if (over) return over.then(() => done());
    const checked = checkNow(this.checkDeps(this.deps.decider()), ctx.conn.identity, io.head, (limit) =>
      io.readBody(limit),
    );
    if (checked instanceof Promise) return checked.then((c) => this.checked(ctx, io, done, c));
    return this.checked(ctx, io, done, checked);
  }

  /** decide has spoken: refuse, or go on to own → record → forward. */
  private checked(
    ctx: RequestContext,
    io: RequestIO,
    done: () => void,
    checked: Checked,
  ): Promise<void> | undefined {
    if (checked.canonical) ctx.canonical = checked.canonical;
    if (checked.decision) ctx.decision = checked.decision;
    if (!checked.ok) return this.refuseWith(ctx, io, done, checked.error);
    // Only an `own` role checks owners: others skip the stage (and its wait).
    if (checked.decision.own) {
      return checkOwned(
        this.deps.ownership?.(),
        checked.decision,
        ctx.conn.identity,
        checked.canonical,
        checked.body?.value,
      ).then((refusal) => this.owned(ctx, io, done, checked, refusal));
    }
    return this.owned(ctx, io, done, checked, undefined);
  }

  private owned(
    ctx: RequestContext,
    io: RequestIO,
    done: () => void,
    checked: Checked & { ok: true },
    ownRefusal: DockwardError | undefined,
  ): Promise<void> | undefined {
    if (ownRefusal) {
      ctx.decision = {
        ...checked.decision,
        allow: false,
        rule: `${checked.decision.role}/own`,
        reason: ownRefusal.message,
      };
      return this.refuseWith(ctx, io, done, ownRefusal);
    }
    const streamLimit = this.deps.streams;
    const streams = checked.canonical.route!.endpoint.streams;
    if (streamLimit && (streams === 'response' || streams === 'both')) {
      // A stream holds a connection and a descriptor upstream for as long as it lasts.
      const who = ctx.conn.identity.cn;
      if (!streamLimit.take(who)) {
        const err = new DockwardError(
          'DW_E_LIMIT_REACHED',
          `${who} has as many streams open as the gateway allows (--max-streams-per-identity)`,
        );
        return this.refuseWith(ctx, io, done, err);
      }
      ctx.streamSlot = who; // given back when the request completes
    }
    if (checked.body) {
      ctx.body = checked.body.bytes;
      if (checked.body.value !== undefined) ctx.bodyValue = checked.body.value;
    }
    // No record, no request: the audit log is part of the security decision.
    const unrecorded = (err: unknown) => {
      const e = new DockwardError('DW_E_INTERNAL', `cannot write the audit record: ${describeError(err)}`);
      ctx.status = io.refuse(e);
      done();
    };
    let recorded: Promise<void> | undefined;
    try {
      recorded = recordDecision(this.deps.audit(), ctx);
    } catch (err) {
      unrecorded(err);
      return undefined;
    }
    if (recorded) return recorded.then(() => forward(ctx, io, this.deps.upstream(), done), unrecorded);
    forward(ctx, io, this.deps.upstream(), done);
    return undefined;
  }

  /** A refusal: its record (awaited), the Docker-style answer, the body left unread. */
  private async refuseWith(
    ctx: RequestContext,
    io: RequestIO,
    done: () => void,
    err: DockwardError,
  ): Promise<void> {
    await this.refuse(ctx, err);
    ctx.status = io.refuse(err);
    io.discardBody();
    done();
  }

  /** The same object for every request while the decider is the same (not one per request). */
  private checkDeps(decider: Decider): CheckDeps {
    if (this.lastCheckDeps?.decider !== decider) {
      this.lastCheckDeps = {
        routes: this.deps.routes,
        decider,
        bodyLimit: this.bodyLimit,
        ...(this.deps.jsonCost ? { jsonCost: this.deps.jsonCost } : {}),
      };
    }
    return this.lastCheckDeps;
  }

  private async refuse(ctx: RequestContext, err: DockwardError): Promise<void> {
    const reason =
      err.code === 'DW_E_DENIED'
        ? 'policy'
        : err.code === 'DW_E_UNKNOWN_ENDPOINT'
          ? 'unknown-endpoint'
          : err.code === 'DW_E_LIMIT_REACHED' || err.code === 'DW_E_GATEWAY_BUSY'
            ? 'limit'
            : 'bad-request';
    this.deps.metrics.denied.inc({ reason });
    this.deps.logger.info(
      { requestId: ctx.requestId, cn: ctx.conn.identity.cn, code: err.code, msg: err.message },
      'refused',
    );
    await recordDecision(this.deps.audit(), ctx, {
      // A limit refuses what the policy allowed: the record names the limit, not the allow rule.
      ...(ctx.decision?.rule && err.code !== 'DW_E_LIMIT_REACHED'
        ? { rule: ctx.decision.rule }
        : { rule: err.code }),
      reason: err.message,
    })?.catch((e: unknown) =>
      this.deps.logger.error({ err: describeError(e) }, 'cannot write the audit record of a refusal'),
    );
    ctx.status = toHttpStatus(err);
  }

  /**
   * Refuses (429) a request over its identity's rate before any parsing; records one summarizing
   * decision per identity and second, none for the rest (a flood cannot rotate history away).
   * Undefined when the request is within the rate (no wait), else the refusal under way.
   */
  private overRate(ctx: RequestContext, io: RequestIO): Promise<void> | undefined {
    const limiter = this.deps.recordRate!;
    const id = ctx.conn.identity;
    const verdict = limiter.take(id.fingerprint ?? `${id.cn}/${id.serial}`);
    if (verdict.ok) return undefined;
    return this.refuseOverRate(ctx, io, limiter.perSecond, verdict.summary);
  }

  private async refuseOverRate(
    ctx: RequestContext,
    io: RequestIO,
    perSecond: number,
    summary: { refused: number; sinceMs: number } | undefined,
  ): Promise<void> {
    const id = ctx.conn.identity;
    const err = new DockwardError(
      'DW_E_RATE_LIMITED',
      `too many requests from ${id.cn}: over ${perSecond} per second (the gateway's --audit-rate); retry later`,
    );
    this.deps.metrics.denied.inc({ reason: 'rate' });
    if (summary) {
      const { refused, sinceMs } = summary;
      await recordDecision(this.deps.audit(), ctx, {
        rule: 'gateway/audit-rate',
        reason: `${refused} request${refused === 1 ? '' : 's'} of ${id.cn} refused over --audit-rate ${perSecond}/s${sinceMs > 0 ? ` in the last ${(sinceMs / 1000).toFixed(1)} s` : ''} (this one included; only this record is written for them)`,
      })?.catch((e: unknown) =>
        this.deps.logger.error({ err: describeError(e) }, 'cannot write the audit record of a refusal'),
      );
    } else {
      this.unrecorded.add(ctx);
    }
    ctx.status = io.refuse(err);
    io.discardBody();
  }

  private complete(ctx: RequestContext): void {
    ctx.conn.active--;
    if (ctx.streamSlot !== undefined) this.deps.streams?.give(ctx.streamSlot);
    const endpoint = ctx.canonical?.route?.endpoint.name ?? 'unknown';
    // A request refused before the policy spoke (bad request, unknown endpoint) counts as denied.
    const decision = ctx.decision?.allow === true ? 'allow' : 'deny';
    this.deps.metrics.countRequest(endpoint, ctx.head.method, ctx.status ?? 0, decision);
    this.deps.metrics.duration.observe({ endpoint }, Number(process.hrtime.bigint() - ctx.startedAt) / 1e9);
    // A refusal summed up by an earlier rate record gets no completion record either.
    if (!this.unrecorded.delete(ctx)) recordCompletion(this.deps.audit(), ctx);
  }
}

// --- `policy explain` and the policy tests ---------------------------------------------------

/** One request from its raw parts, body already whole (de-chunked). */
export interface RawRequest {
  method: string;
  /** The request target exactly as sent (`/v%31.41/containers/create?name=x`). */
  target: string;
  /** Header names in any case. */
  headers?: Readonly<Record<string, string | undefined>>;
  body?: Uint8Array;
}

export interface EvaluateOptions {
  routes?: RouteTable;
  bodyLimit?: number;
  /** Ask the decider for its reasoning (needs a compiled policy). */
  explain?: boolean;
  /** How a listed fetch host is resolved (DNS by default). */
  resolveHost?: ResolveHost;
}

export type RequestVerdict =
  | {
      /** Refused before the policy decides: 400 malformed, 413 too large, 403 unknown endpoint. */
      outcome: 'refuse';
      status: number;
      code: string;
      reason: string;
      canonical?: CanonicalRequest;
    }
  | {
      outcome: 'allow' | 'deny';
      status: 200 | 403;
      decision: Decision | Explanation;
      canonical: CanonicalRequest;
      /** Set when the policy read the body: what would be forwarded. */
      body?: { bytes: Buffer; changed: boolean };
    };

/** The verdict the gateway's pipeline gives one request (its `check`, with an in-memory body). */
export async function evaluateRequest(
  decider: Decider,
  identity: PolicyIdentity,
  req: RawRequest,
  options: EvaluateOptions = {},
): Promise<RequestVerdict> {
  const rawHeaders: string[] = [];
  for (const [k, v] of Object.entries(req.headers ?? {})) if (v !== undefined) rawHeaders.push(k, v);
  const head: RequestHead = { method: req.method, target: req.target, rawHeaders, upgrade: false };
  const body = Buffer.from(req.body ?? new Uint8Array(0));
  const checked = await check(
    {
      routes: options.routes ?? ROUTE_TABLE,
      decider,
      bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
      ...(options.explain ? { explain: true } : {}),
      ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
    },
    identity,
    head,
    async () => body,
  );
  if (checked.ok) {
    return {
      outcome: 'allow',
      status: 200,
      decision: checked.decision,
      canonical: checked.canonical,
      ...(checked.body ? { body: { bytes: checked.body.bytes, changed: checked.body.changed } } : {}),
    };
  }
  if (checked.decision && checked.canonical) {
    return {
      outcome: 'deny',
      status: 403,
      decision: checked.decision,
      canonical: checked.canonical,
      ...(checked.body ? { body: { bytes: checked.body.bytes, changed: checked.body.changed } } : {}),
    };
  }
  return {
    outcome: 'refuse',
    status: toHttpStatus(checked.error),
    code: checked.error.code,
    reason: checked.error.message,
    ...(checked.canonical ? { canonical: checked.canonical } : {}),
  };
}

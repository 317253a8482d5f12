/**
 * One request from its raw parts to a verdict, the way the gateway takes it: canonical path
 * (src/gateway/canonical-request.ts), endpoint, canonical body when the policy needs it, then
 * the decision. `policy explain` and the bypass-corpus test use it, so what they show is what
 * the gateway does. Pure: the body must already have been read in full (Content-Length or
 * chunked; the HTTP layer refuses both at once).
 */
import { ROUTE_TABLE, type RouteTable } from '../docker/endpoints/index.js';
import { type CanonicalRequest, canonicalize } from '../gateway/canonical-request.js';
import { canonicalBody } from './canonical-body.js';
import type { Decider, Decision, Explanation, PolicyIdentity } from './decision.js';

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (`/v%31.41/containers/create?name=x`). */
  target: string;
  /** Header names in any case. */
  headers?: Readonly<Record<string, string | undefined>>;
  /** The whole body, de-chunked. */
  body?: Uint8Array;
}

export interface EvaluateOptions {
  routes?: RouteTable;
  bodyLimit?: number;
  /** Ask the decider for its reasoning (needs a compiled policy). */
  explain?: boolean;
}

export type RequestVerdict =
  | {
      /** Refused before the policy decides: 400 malformed, 413 too large, 403 unknown endpoint. */
      outcome: 'refuse';
      status: 400 | 403 | 413;
      code: 'DW_E_BAD_REQUEST' | 'DW_E_BODY_TOO_LARGE' | 'DW_E_UNKNOWN_ENDPOINT';
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

function header(headers: RawRequest['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** Canonicalizes and decides one request as the gateway would. */
export function evaluateRequest(
  decider: Decider,
  identity: PolicyIdentity,
  req: RawRequest,
  options: EvaluateOptions = {},
): RequestVerdict {
  const routes = options.routes ?? ROUTE_TABLE;
  const c = canonicalize(req.method, req.target, routes);
  if (!c.ok) return { outcome: 'refuse', status: 400, code: 'DW_E_BAD_REQUEST', reason: c.reason };
  const canonical = c.request;
  const route = canonical.route;
  if (!route) {
    return {
      outcome: 'refuse',
      status: 403,
      code: 'DW_E_UNKNOWN_ENDPOINT',
      reason: `${canonical.method} ${canonical.path} is not a Docker Engine API endpoint dockward knows`,
      canonical,
    };
  }
  let body: { bytes: Buffer; changed: boolean } | undefined;
  let value: unknown;
  if (decider.needsBody(route.endpoint)) {
    const res = canonicalBody(
      route.endpoint,
      req.body ?? new Uint8Array(0),
      header(req.headers, 'content-type'),
      options.bodyLimit !== undefined ? { limit: options.bodyLimit } : {},
    );
    if (!res.ok)
      return { outcome: 'refuse', status: res.status, code: res.code, reason: res.reason, canonical };
    body = { bytes: res.bytes, changed: res.changed };
    value = res.value;
  }
  const input = {
    identity,
    endpoint: route.endpoint,
    method: canonical.method,
    path: canonical.path,
    params: route.params,
    query: canonical.query,
    ...(value !== undefined ? { body: value } : {}),
  };
  const decision = options.explain && decider.explain ? decider.explain(input) : decider.decide(input);
  return {
    outcome: decision.allow ? 'allow' : 'deny',
    status: decision.allow ? 200 : 403,
    decision,
    canonical,
    ...(body ? { body } : {}),
  };
}

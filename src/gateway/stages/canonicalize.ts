import type { Endpoint, RouteTable } from '../../docker/endpoints/index.js';
import { DockwardError } from '../../errors.js';
import { canonicalBody } from '../../policy/canonical-body.js';
import type { JsonCostLimits } from '../../text/json-cost.js';
import { type CanonicalRequest, canonicalize } from '../canonical-request.js';
import { headerValue, type RequestHead } from '../request-context.js';

/**
 * Stage "canonicalize", path part: the request as dockerd's router will see it. Refuses what
 * cannot be canonicalized (400), unknown endpoints (403: unknown means denied) and an `Upgrade`
 * on an endpoint that does not hijack (400), so a proxy-level upgrade can never smuggle a stream.
 */
export function canonicalizePath(
  head: RequestHead,
  routes: RouteTable,
):
  | { ok: true; canonical: CanonicalRequest }
  | { ok: false; canonical?: CanonicalRequest; error: DockwardError } {
  const res = canonicalize(head.method, head.target, routes);
  if (!res.ok) return { ok: false, error: new DockwardError('DW_E_BAD_REQUEST', res.reason) };
  const canonical = res.request;
  const route = canonical.route;
  if (!route) {
    return {
      ok: false,
      canonical,
      error: new DockwardError(
        'DW_E_UNKNOWN_ENDPOINT',
        `${canonical.method} ${canonical.path} is not a Docker Engine API endpoint dockward knows`,
      ),
    };
  }
  if (head.upgrade && !route.endpoint.hijack) {
    return {
      ok: false,
      canonical,
      error: new DockwardError('DW_E_BAD_REQUEST', `${route.endpoint.name} does not upgrade the connection`),
    };
  }
  const form = formContentType(head.rawHeaders);
  if (form) {
    // dockerd's handlers read parameters with Go's FormValue, which can parse such a body and
    // prefer its values to the query the policy checked (`remote=`, `fromSrc=`, `networkmode=`).
    // No Docker client sends one, so it is refused rather than reasoned about.
    return {
      ok: false,
      canonical,
      error: new DockwardError(
        'DW_E_BAD_REQUEST',
        `a ${form} body is not accepted: dockerd would read request parameters from it; send them in the query`,
      ),
    };
  }
  if (head.upgrade && headerValue(head.rawHeaders, 'transfer-encoding') !== undefined) {
    return {
      ok: false,
      canonical,
      error: new DockwardError('DW_E_BAD_REQUEST', 'a chunked body on an upgrade request is not accepted'),
    };
  }
  return { ok: true, canonical };
}

/** The form media type of any Content-Type header (Go reads the first; every one is checked). */
function formContentType(raw: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'content-type') continue;
    const type = raw[i + 1]!.split(';')[0]!.trim().toLowerCase();
    if (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data') return type;
  }
  return undefined;
}

/** The canonical body: the bytes forwarded and the value the policy reads. */
export interface CanonicalBodyResult {
  bytes: Buffer;
  value: unknown;
  changed: boolean;
}

/**
 * Stage "canonicalize", body part: the whole body (already read within the limit by the HTTP
 * layer's one body reader) replaced by its canonical form, which is what gets forwarded, so
 * dockerd executes exactly what was checked.
 */
export function canonicalizeBody(
  endpoint: Endpoint,
  body: Uint8Array,
  head: RequestHead,
  limit: number,
  cost?: JsonCostLimits,
): CanonicalBodyResult | DockwardError {
  const res = canonicalBody(endpoint, body, headerValue(head.rawHeaders, 'content-type'), {
    limit,
    ...(cost ? { cost } : {}),
  });
  if (!res.ok) return new DockwardError(res.code, res.reason);
  return { bytes: res.bytes, value: res.value, changed: res.changed };
}

/** True when the connection is handed over after this request (101, or 200 then raw bytes). */
export function hijacks(head: RequestHead, canonical: CanonicalRequest): boolean {
  return head.upgrade || canonical.route?.endpoint.hijack === 'tcp';
}

import type { RouteMatch, RouteTable } from '../docker/endpoints/index.js';

/**
 * A request as dockerd's router will see it. dockerd routes on the percent-decoded path, with or
 * without a `/vX.Y` prefix, and answers non-canonical paths with a redirect; path filters that
 * look at the raw text were bypassed by `/v%31.24/...` and `/%63ontainers/...`. So the gateway
 * decides on this canonical form and forwards exactly this form.
 */
export interface CanonicalRequest {
  method: string;
  rawTarget: string;
  /** `1.41` when the path had a `/v1.41` prefix. */
  apiVersion: string | undefined;
  /** Decoded, without the version prefix: what the route table matches. */
  path: string;
  query: URLSearchParams;
  /** The request target sent upstream: version prefix + re-encoded path + re-serialized query. */
  upstreamTarget: string;
  route: RouteMatch | undefined;
}

export type CanonicalizeResult = { ok: true; request: CanonicalRequest } | { ok: false; reason: string };

const VERSION_PREFIX = /^\/v([0-9]+\.[0-9]+)(\/.*)?$/;
// Characters a path segment may carry unencoded (RFC 3986 pchar minus '%').
const PCHAR_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;
const ALL_PCHAR_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/** Canonicalizes a request line's method and target, or says why it is refused (HTTP 400). */
export function canonicalize(method: string, rawTarget: string, routes: RouteTable): CanonicalizeResult {
  if (!rawTarget.startsWith('/')) {
    // absolute-form (`http://other-host/...`) and asterisk-form are never forwarded
    return {
      ok: false,
      reason: `request target must be a path starting with "/", got "${truncate(rawTarget)}"`,
    };
  }
  if (rawTarget.includes('#'))
    return { ok: false, reason: 'request target must not contain a fragment ("#")' };
  const q = rawTarget.indexOf('?');
  const rawPath = q === -1 ? rawTarget : rawTarget.slice(0, q);
  const rawQuery = q === -1 ? '' : rawTarget.slice(q + 1);

  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, reason: 'path has a malformed percent-encoding' };
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return { ok: false, reason: 'path contains control characters' };
  if (/\/\/|\/\.\.?(\/|$)/.test(decoded)) {
    // dockerd answers these with a 301 to the cleaned path; a proxy must not guess which one it meant
    return {
      ok: false,
      reason: `non-canonical path "${truncate(decoded)}" (contains "//", "/./" or "/../")`,
    };
  }

  let apiVersion: string | undefined;
  let path = decoded;
  const m = VERSION_PREFIX.exec(decoded);
  if (m) {
    apiVersion = m[1];
    path = m[2] ?? '/';
  } else if (/^\/v[0-9.]+(\/|$)/.test(decoded)) {
    // dockerd's router takes `/v{version:[0-9.]+}` and then rejects a malformed version
    return { ok: false, reason: `malformed API version in "${truncate(decoded)}"` };
  }

  if (rawQuery.includes(';')) {
    // Go's net/url refuses ';' as a separator (dockerd answers 400); no parser differential here
    return { ok: false, reason: 'query string must not contain ";"' };
  }
  const query = new URLSearchParams(rawQuery);
  const encodedPath = encodePath(path);
  const serializedQuery = query.toString();
  const upstreamTarget = `${apiVersion ? `/v${apiVersion}` : ''}${encodedPath}${serializedQuery ? `?${serializedQuery}` : ''}`;
  return {
    ok: true,
    request: {
      method,
      rawTarget,
      apiVersion,
      path,
      query,
      upstreamTarget,
      route: routes.match(method, path),
    },
  };
}

/** Percent-encodes a decoded path so that decoding it again gives the same path. */
export function encodePath(path: string): string {
  // Most paths need no encoding at all: every character is one a segment may carry as is.
  if (ALL_PCHAR_SAFE.test(path)) return path;
  let out = '';
  for (const ch of path) {
    if (ch === '/' || PCHAR_SAFE.test(ch)) out += ch;
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

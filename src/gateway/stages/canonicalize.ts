import type { RouteTable } from '../../docker/endpoints/index.js';
import { DockwardError } from '../../errors.js';
import { canonicalize } from '../canonical-request.js';
import type { RequestContext } from '../request-context.js';

/**
 * Stage "canonicalize": the request as dockerd's router will see it. Refuses what cannot be
 * canonicalized (400), unknown endpoints (403: unknown means denied) and an `Upgrade` on an
 * endpoint that does not hijack (400), so a proxy-level upgrade can never smuggle a stream.
 */
export function createCanonicalizeStage(routes: () => RouteTable) {
  return function canonicalizeRequest(ctx: RequestContext, upgrade: boolean): DockwardError | undefined {
    const res = canonicalize(ctx.req.method ?? '', ctx.req.url ?? '', routes());
    if (!res.ok) return new DockwardError('DW_E_BAD_REQUEST', res.reason);
    ctx.canonical = res.request;
    const route = res.request.route;
    if (!route) {
      return new DockwardError(
        'DW_E_UNKNOWN_ENDPOINT',
        `${res.request.method} ${res.request.path} is not a Docker Engine API endpoint dockward knows`,
      );
    }
    if (upgrade && !route.endpoint.hijack) {
      return new DockwardError('DW_E_BAD_REQUEST', `${route.endpoint.name} does not upgrade the connection`);
    }
    if (ctx.req.headers['transfer-encoding'] && upgrade) {
      return new DockwardError('DW_E_BAD_REQUEST', 'a chunked body on an upgrade request is not accepted');
    }
    return undefined;
  };
}

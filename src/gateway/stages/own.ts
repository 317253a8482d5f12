import { DockwardError } from '../../errors.js';
import type { Decision, PolicyIdentity } from '../../policy/decision.js';
import { type CanonicalRequest, encodePath } from '../canonical-request.js';
import {
  FILTERED_LISTS,
  filterOwnList,
  LABELLED_BODIES,
  LABELLED_QUERIES,
  labelBody,
  labelBuildQuery,
  labelsCreations,
  ownerName,
} from '../ownership/owner-label.js';
import type { Ownership } from '../ownership/ownership.js';
import { objectRefs } from '../ownership/references.js';
import type { CanonicalBodyResult } from './canonicalize.js';

/**
 * Stage "own", rewrite part (pure, after decide): what a non-admin identity creates gets its
 * owner label, and an `own` role's lists and prunes get a label filter. It edits the canonical
 * request and body the policy checked, so what is forwarded is still what was checked plus the
 * label. Returns the body to forward (unchanged when nothing applies).
 */
export function labelOwned(
  decision: Decision,
  identity: PolicyIdentity,
  canonical: CanonicalRequest,
  body: CanonicalBodyResult | undefined,
): CanonicalBodyResult | undefined | DockwardError {
  const endpoint = canonical.route!.endpoint;
  const owner = ownerName(identity);
  try {
    let queryChanged = false;
    if (labelsCreations(decision) && LABELLED_QUERIES.has(endpoint.name)) {
      labelBuildQuery(canonical.query, owner);
      queryChanged = true;
    }
    if (decision.own && FILTERED_LISTS.has(endpoint.name)) {
      filterOwnList(canonical.query, owner);
      queryChanged = true;
    }
    if (queryChanged) {
      const q = canonical.query.toString();
      canonical.upstreamTarget = `${canonical.apiVersion ? `/v${canonical.apiVersion}` : ''}${encodePath(canonical.path)}${q ? `?${q}` : ''}`;
    }
    if (labelsCreations(decision) && LABELLED_BODIES.has(endpoint.name)) {
      // The pipeline reads these bodies whatever the policy (see check()); none means refused.
      if (!body || body.value === undefined)
        return new DockwardError('DW_E_BAD_REQUEST', `${endpoint.name} needs a JSON object body`);
      return labelBody(endpoint, body, owner);
    }
    return body;
  } catch (err) {
    if (err instanceof DockwardError) return err;
    throw err;
  }
}

/**
 * Stage "own", lookup part (after decide, before record): for a role limited to its own objects,
 * every object the request names must carry the client's owner label. Fails closed: no
 * ownership service, or a lookup that fails, refuses.
 */
export async function checkOwned(
  ownership: Ownership | undefined,
  decision: Decision,
  identity: PolicyIdentity,
  canonical: CanonicalRequest,
  bodyValue: unknown,
): Promise<DockwardError | undefined> {
  if (!decision.own) return undefined;
  const route = canonical.route!;
  const refs = objectRefs(route.endpoint, route.params, canonical.query, bodyValue);
  if (refs.length === 0) return undefined;
  if (!ownership)
    return new DockwardError(
      'DW_E_DENIED',
      `role ${decision.role} is limited to its own objects, which this gateway cannot check`,
    );
  try {
    return await ownership.check(refs, ownerName(identity));
  } catch (err) {
    if (err instanceof DockwardError) return err;
    throw err;
  }
}

import { DockwardError } from '../../errors.js';
import type { Decider, Decision, Explanation, PolicyIdentity } from '../../policy/decision.js';
import { truncateField } from '../audit-log/bound.js';
import type { CanonicalRequest } from '../canonical-request.js';

/**
 * Stage "decide": the policy's verdict for the canonical request (and body value, when the
 * policy read it). Any failure denies: a policy that throws has not allowed anything.
 */
export function decide(
  decider: Decider,
  identity: PolicyIdentity,
  canonical: CanonicalRequest,
  bodyValue: unknown,
  explain = false,
): { decision: Decision | Explanation; error?: DockwardError } {
  const route = canonical.route!;
  let decision: Decision | Explanation;
  try {
    const input = {
      identity,
      endpoint: route.endpoint,
      method: canonical.method,
      path: canonical.path,
      params: route.params,
      query: canonical.query,
      ...(bodyValue !== undefined ? { body: bodyValue } : {}),
    };
    decision = explain && decider.explain ? decider.explain(input) : decider.decide(input);
  } catch (err) {
    decision = { allow: false, role: '?', rule: 'error', reason: `policy error: ${String(err)}` };
  }
  if (decision.allow) return { decision };
  return {
    decision,
    error: deniedError(decision.rule, decision.reason),
  };
}

/** A reason quotes what the request held (a bind path, an image name): the client gets at most this much of it. */
const CLIENT_REASON_BYTES = 15 * 1024; // under the record's 16 KiB: the record keeps the count cut

/**
 * The refusal a client gets: the rule and its reason, cut with a marker past 15 KiB so that a
 * request cannot make its own refusal larger than itself (the audit record is cut the same way).
 */
export function deniedError(rule: string, reason: string): DockwardError {
  return new DockwardError('DW_E_DENIED', `denied by ${rule}: ${truncateField(reason, CLIENT_REASON_BYTES)}`);
}

import { DockwardError } from '../../errors.js';
import type { Decider, Decision, Explanation, PolicyIdentity } from '../../policy/decision.js';
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
    error: new DockwardError('DW_E_DENIED', `denied by ${decision.rule}: ${decision.reason}`),
  };
}

import type { Decider } from '../../policy/decision.js';
import { DockwardError } from '../../errors.js';
import type { RequestContext } from '../request-context.js';

/** Stage "decide": the policy's verdict for the canonical request. Any failure denies. */
export function createDecideStage(decider: () => Decider) {
  return function decide(ctx: RequestContext): DockwardError | undefined {
    const c = ctx.canonical!;
    const route = c.route!;
    try {
      ctx.decision = decider().decide({
        identity: ctx.conn.identity,
        endpoint: route.endpoint,
        method: c.method,
        path: c.path,
        params: route.params,
        query: c.query,
        ...(ctx.bodyValue !== undefined ? { body: ctx.bodyValue } : {}),
      });
    } catch (err) {
      // A policy that throws has not allowed anything.
      ctx.decision = { allow: false, role: '?', rule: 'error', reason: `policy error: ${String(err)}` };
    }
    if (ctx.decision.allow) return undefined;
    return new DockwardError('DW_E_DENIED', `denied by ${ctx.decision.rule}: ${ctx.decision.reason}`);
  };
}

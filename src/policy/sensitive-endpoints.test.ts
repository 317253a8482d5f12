// Driven from the route table itself: a route added later with `sensitive` or `adminOnly` is
// covered without touching this file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Endpoint, ROUTES } from '../docker/endpoints/index.js';
import { evaluateRequest } from '../gateway/pipeline.js';
import { builtinDecider } from './builtin-roles.js';
import type { PolicyIdentity } from './decision.js';
import { input } from './test-support.js';

const policy = builtinDecider();
const who = (ou: string): PolicyIdentity => ({ cn: `c-${ou}`, ou: [ou], serial: '01', sans: [] });

// The operator's documented lifecycle areas: their sensitive reads (logs, attach, archive,
// export, image save, exec) are the operator's job. Every other sensitive route is refused.
const OPERATOR_SENSITIVE_AREAS = new Set<Endpoint['area']>(['containers', 'exec', 'images']);

const adminOnly = ROUTES.filter((e) => e.adminOnly);
const sensitive = ROUTES.filter((e) => e.sensitive || e.adminOnly);

/** A concrete path for a route template (`{id}` -> `x`). */
function concrete(e: Endpoint): string {
  return e.path.replace(/\{[A-Za-z0-9]+[*+]?\}/g, 'x');
}

describe('sensitive and admin-only routes against the built-in roles', () => {
  it('the route table marks every debug route admin-only', () => {
    const debug = ROUTES.filter((e) => e.area === 'debug');
    assert.ok(debug.length >= 7);
    assert.deepEqual(
      debug.filter((e) => !e.adminOnly).map((e) => e.name),
      [],
    );
  });

  for (const e of sensitive) {
    it(`readonly is refused ${e.name} (${e.method} ${e.path})`, () => {
      const d = policy.decide(input(e.name, { identity: who('readonly') }));
      assert.equal(d.allow, false, `${e.name} allowed by ${d.rule}`);
    });
  }

  for (const e of adminOnly) {
    for (const role of ['operator', 'readonly']) {
      for (const prefix of ['', '/v1.41', '/v1.48']) {
        it(`${role} is refused ${e.method} ${prefix}${concrete(e)} with a 403, admin is not`, async () => {
          const req = { method: e.method, target: `${prefix}${concrete(e)}` };
          const denied = await evaluateRequest(policy, who(role), req);
          assert.equal(denied.status, 403);
          assert.equal(denied.outcome, 'deny');
          const allowed = await evaluateRequest(policy, who('admin'), req);
          assert.equal(allowed.outcome, 'allow');
        });
      }
    }
  }

  for (const e of sensitive.filter((x) => !OPERATOR_SENSITIVE_AREAS.has(x.area) || x.adminOnly)) {
    it(`operator is refused ${e.name} (${e.method} ${e.path})`, () => {
      const d = policy.decide(input(e.name, { identity: who('operator') }));
      assert.equal(d.allow, false, `${e.name} allowed by ${d.rule}`);
    });
  }

  it('refuses paths below /debug the table does not know, for every role', async () => {
    for (const target of [
      '/debug/pprof',
      '/debug/pprof/goroutine/x',
      '/debug/other',
      '/v1.41/debug/vars/x',
    ]) {
      for (const role of ['admin', 'operator', 'readonly']) {
        const v = await evaluateRequest(policy, who(role), { method: 'GET', target });
        assert.equal(v.status, 403, `${role} ${target}`);
      }
    }
    const post = await evaluateRequest(policy, who('operator'), {
      method: 'POST',
      target: '/debug/pprof/symbol',
    });
    assert.equal(post.status, 403);
  });
});

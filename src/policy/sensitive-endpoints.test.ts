// Driven from the route table itself: a route added later with `sensitive` or `adminOnly` is
// covered without touching this file.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Endpoint, ROUTES } from '../docker/endpoints/index.js';
import { evaluateRequest } from '../gateway/pipeline.js';
import { builtinDecider } from './builtin-roles.js';
import { compilePolicy } from './compile.js';
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

describe('admin-only routes against custom roles: only a rule that names one grants it', () => {
  const custom = (allow: string) =>
    compilePolicy(`version: 1\ndefaultRole: r\nroles:\n  r:\n    allow:\n${allow}`, 'custom.yaml');
  const anyone: PolicyIdentity = { cn: 'someone', ou: [], serial: '02', sans: [] };
  const wildcards: [string, string][] = [
    ['endpoints: ["*"]', '      - id: all\n        endpoints: ["*"]\n'],
    ['endpoints: ["debug.*"]', '      - id: debug\n        endpoints: ["debug.*"]\n'],
    ['endpoints: ["debug.pprof.?????"]', '      - id: five\n        endpoints: ["debug.pprof.?????"]\n'],
    ['methods: [GET, POST] alone', '      - id: gets\n        methods: [GET, POST]\n'],
    ['paths: ["/debug/**"]', '      - id: bare\n        paths: ["/debug/**"]\n'],
  ];
  for (const [title, allow] of wildcards) {
    it(`a role with ${title} is refused every admin-only route, naming why`, async () => {
      const p = custom(allow);
      for (const e of adminOnly) {
        const d = p.decide(input(e.name, { identity: anyone }));
        assert.equal(d.allow, false, `${e.name} allowed by ${d.rule}`);
        assert.equal(d.rule, 'r/default-deny');
        assert.match(
          d.reason,
          /an admin-only endpoint: a wildcard never grants one; only a rule that names it does/,
        );
        const v = await evaluateRequest(p, anyone, { method: e.method, target: `/v1.41${concrete(e)}` });
        assert.equal(v.status, 403, `${e.method} ${concrete(e)}`);
      }
    });
  }

  it('a role with endpoints: ["*"] still reaches everything else', () => {
    const p = custom(wildcards[0]![1]);
    for (const name of ['container.create', 'system.ping', 'image.list']) {
      assert.equal(p.decide(input(name, { identity: anyone })).allow, true, name);
    }
  });

  it('a rule that names an admin-only endpoint grants exactly that one', () => {
    const p = custom('      - id: pprof\n        endpoints: ["*", debug.pprof.index]\n');
    assert.equal(p.decide(input('debug.pprof.index', { identity: anyone })).allow, true);
    assert.equal(p.decide(input('debug.pprof.profile', { identity: anyone })).allow, false);
  });

  it('a deny wildcard still covers admin-only routes (for a role extending admin)', () => {
    const p = compilePolicy(
      'version: 1\ndefaultRole: r\nroles:\n  r:\n    extends: admin\n    deny:\n      - id: no-debug\n        endpoints: ["debug.*"]\n',
      'deny.yaml',
    );
    assert.equal(p.decide(input('debug.vars', { identity: anyone })).allow, false);
    assert.equal(p.decide(input('debug.vars', { identity: who('admin') })).allow, false);
  });
});

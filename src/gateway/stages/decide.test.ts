import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTE_TABLE } from '../../docker/endpoints/index.js';
import { builtinDecider } from '../../policy/builtin-roles.js';
import type { Decider } from '../../policy/decision.js';
import { OPERATOR } from '../../policy/test-support.js';
import { canonicalize } from '../canonical-request.js';
import { decide } from './decide.js';

function canonical(method: string, target: string) {
  const r = canonicalize(method, target, ROUTE_TABLE);
  assert.ok(r.ok);
  return r.request;
}

describe('stage decide', () => {
  const decider = builtinDecider();

  it('allows what the role allows', () => {
    const r = decide(decider, OPERATOR, canonical('GET', '/containers/json'), undefined);
    assert.equal(r.decision.allow, true);
    assert.equal(r.error, undefined);
  });

  it('denies with DW_E_DENIED naming the rule, from the body value', () => {
    const r = decide(decider, OPERATOR, canonical('POST', '/containers/create'), {
      Image: 'busybox',
      HostConfig: { Privileged: true },
    });
    assert.equal(r.decision.allow, false);
    assert.equal(r.error?.code, 'DW_E_DENIED');
    assert.match(r.error?.message ?? '', /^denied by /);
  });

  it('denies when the policy throws (fail closed)', () => {
    const broken: Decider = {
      decide: () => {
        throw new Error('boom');
      },
      needsBody: () => false,
      describe: () => 'broken',
    };
    const r = decide(broken, OPERATOR, canonical('GET', '/_ping'), undefined);
    assert.equal(r.decision.allow, false);
    assert.equal(r.decision.rule, 'error');
    assert.match(r.error?.message ?? '', /policy error: Error: boom/);
  });
});

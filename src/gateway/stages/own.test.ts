import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinDecider } from '../../policy/builtin-roles.js';
import type { PolicyIdentity } from '../../policy/decision.js';
import { OWNER_LABEL } from '../ownership/owner-label.js';
import { Ownership } from '../ownership/ownership.js';
import { evaluateRequest } from '../pipeline.js';
import { checkOwned } from './own.js';

const decider = builtinDecider();
const operator: PolicyIdentity = { cn: 'alice', ou: ['operator'], serial: '01', sans: [] };
const admin: PolicyIdentity = { cn: 'root-team', ou: ['admin'], serial: '02', sans: [] };
const json = { 'Content-Type': 'application/json' };

describe('stage own: labels on what is created', () => {
  it("labels an operator's container create with its CN, over a label it sent", async () => {
    const v = await evaluateRequest(decider, operator, {
      method: 'POST',
      target: '/v1.41/containers/create',
      headers: json,
      body: Buffer.from(`{"Image":"x","Labels":{"${OWNER_LABEL}":"root-team","a":"b"}}`),
    });
    assert.equal(v.outcome, 'allow');
    assert.ok(v.outcome === 'allow' && v.body);
    assert.deepEqual(JSON.parse(v.body.bytes.toString()).Labels, { [OWNER_LABEL]: 'alice', a: 'b' });
  });

  it('labels volumes, networks and built images too', async () => {
    for (const [target, body] of [
      ['/volumes/create', '{"Name":"v"}'],
      ['/networks/create', '{"Name":"n"}'],
    ] as const) {
      const v = await evaluateRequest(decider, operator, {
        method: 'POST',
        target,
        headers: json,
        body: Buffer.from(body),
      });
      assert.ok(v.outcome === 'allow' && v.body, target);
      assert.equal(JSON.parse(v.body.bytes.toString()).Labels[OWNER_LABEL], 'alice');
    }
    const b = await evaluateRequest(decider, operator, {
      method: 'POST',
      target: '/v1.41/build?t=img&labels=%7B%7D',
    });
    assert.equal(b.canonical?.query.get('labels'), JSON.stringify({ [OWNER_LABEL]: 'alice' }));
    assert.match(
      b.canonical?.upstreamTarget ?? '',
      /^\/v1\.41\/build\?t=img&labels=%7B%22io\.dockward\.owner%22%3A%22alice%22%7D$/,
    );
  });

  it("keeps admin's body as written (admin may create for others)", async () => {
    const v = await evaluateRequest(decider, admin, {
      method: 'POST',
      target: '/containers/create',
      headers: json,
      body: Buffer.from(`{"Image":"x","Labels":{"${OWNER_LABEL}":"alice"}}`),
    });
    assert.ok(v.outcome === 'allow' && v.body);
    assert.equal(JSON.parse(v.body.bytes.toString()).Labels[OWNER_LABEL], 'alice');
  });

  it("narrows an operator's container list to its own, and not admin's", async () => {
    const v = await evaluateRequest(decider, operator, { method: 'GET', target: '/containers/json?all=1' });
    assert.equal(
      v.canonical?.upstreamTarget,
      `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: [`${OWNER_LABEL}=alice`] }))}`,
    );
    const a = await evaluateRequest(decider, admin, { method: 'GET', target: '/containers/json?all=1' });
    assert.equal(a.canonical?.upstreamTarget, '/containers/json?all=1');
  });
});

describe('stage own: checks', () => {
  const inspect = async (target: string) => {
    const v = await evaluateRequest(decider, operator, { method: 'GET', target });
    assert.ok(v.outcome === 'allow');
    return v;
  };

  it('refuses an own role when no ownership service is there (fail closed)', async () => {
    const v = await inspect('/containers/x/json');
    const err = await checkOwned(undefined, v.decision, operator, v.canonical, undefined);
    assert.equal(err?.code, 'DW_E_DENIED');
  });

  it('refuses when the lookup fails, and passes requests that name nothing', async () => {
    const down = new Ownership(async () => {
      throw new Error('ECONNREFUSED');
    });
    const v = await inspect('/containers/x/json');
    assert.equal(
      (await checkOwned(down, v.decision, operator, v.canonical, undefined))?.code,
      'DW_E_UPSTREAM',
    );
    const list = await inspect('/containers/json');
    assert.equal(await checkOwned(down, list.decision, operator, list.canonical, undefined), undefined);
  });

  it('does not check admin at all', async () => {
    const v = await evaluateRequest(decider, admin, { method: 'GET', target: '/containers/x/json' });
    assert.ok(v.outcome === 'allow');
    assert.equal(await checkOwned(undefined, v.decision, admin, v.canonical, undefined), undefined);
  });
});

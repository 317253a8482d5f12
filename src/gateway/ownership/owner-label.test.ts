import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTES } from '../../docker/endpoints/index.js';
import { DockwardError } from '../../errors.js';
import { canonicalBody } from '../../policy/canonical-body.js';
import { filterOwnList, labelBody, labelBuildQuery, OWNER_LABEL } from './owner-label.js';

const create = ROUTES.find((r) => r.name === 'container.create')!;

function canonical(text: string) {
  const res = canonicalBody(create, Buffer.from(text), 'application/json');
  assert.ok(res.ok);
  return { bytes: res.bytes, value: res.value, changed: res.changed };
}

describe('labelBody', () => {
  it('adds the owner label and keeps the other labels and exact number text', () => {
    const out = labelBody(
      create,
      canonical('{"Image":"x","Labels":{"team":"a"},"HostConfig":{"Memory":9007199254740993}}'),
      'alice',
    );
    const text = out.bytes.toString();
    assert.match(text, /"Memory":9007199254740993/);
    assert.deepEqual({ ...(out.value as { Labels: object }).Labels }, { team: 'a', [OWNER_LABEL]: 'alice' });
    assert.equal(JSON.parse(text).Labels[OWNER_LABEL], 'alice');
  });

  it('overwrites an owner label the client sent, whatever the key case of Labels', () => {
    const out = labelBody(create, canonical(`{"Image":"x","labels":{"${OWNER_LABEL}":"boss"}}`), 'alice');
    const parsed = JSON.parse(out.bytes.toString());
    assert.deepEqual(parsed.Labels, { [OWNER_LABEL]: 'alice' });
    assert.equal(parsed.labels, undefined);
  });

  it('adds Labels to a body without any', () => {
    const out = labelBody(create, canonical('{"Image":"x"}'), 'bob');
    assert.deepEqual(JSON.parse(out.bytes.toString()), { Image: 'x', Labels: { [OWNER_LABEL]: 'bob' } });
  });
});

describe('labelBuildQuery', () => {
  it('sets the owner in the labels JSON and refuses a malformed one', () => {
    const q = new URLSearchParams({ t: 'img', labels: JSON.stringify({ a: 'b', [OWNER_LABEL]: 'boss' }) });
    labelBuildQuery(q, 'alice');
    assert.deepEqual(JSON.parse(q.get('labels')!), { a: 'b', [OWNER_LABEL]: 'alice' });
    const empty = new URLSearchParams();
    labelBuildQuery(empty, 'alice');
    assert.deepEqual(JSON.parse(empty.get('labels')!), { [OWNER_LABEL]: 'alice' });
    assert.throws(() => labelBuildQuery(new URLSearchParams('labels=%7Bnope'), 'a'), DockwardError);
    assert.throws(() => labelBuildQuery(new URLSearchParams('labels=%7B%7D&labels=%7B%7D'), 'a'), /twice/);
  });
});

describe('filterOwnList', () => {
  it('adds a label filter in either of dockerd forms, so a client filter only narrows', () => {
    const q = new URLSearchParams();
    filterOwnList(q, 'alice');
    assert.deepEqual(JSON.parse(q.get('filters')!), { label: [`${OWNER_LABEL}=alice`] });
    const arr = new URLSearchParams({ filters: JSON.stringify({ label: ['team=a'], status: ['running'] }) });
    filterOwnList(arr, 'alice');
    assert.deepEqual(JSON.parse(arr.get('filters')!), {
      label: ['team=a', `${OWNER_LABEL}=alice`],
      status: ['running'],
    });
    const old = new URLSearchParams({
      filters: JSON.stringify({ label: { [`${OWNER_LABEL}=boss`]: true } }),
    });
    filterOwnList(old, 'alice');
    assert.deepEqual(JSON.parse(old.get('filters')!).label, {
      [`${OWNER_LABEL}=boss`]: true,
      [`${OWNER_LABEL}=alice`]: true,
    });
    assert.throws(() => filterOwnList(new URLSearchParams({ filters: '[1]' }), 'a'), DockwardError);
  });
});

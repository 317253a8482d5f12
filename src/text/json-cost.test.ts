import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonCostExceeded } from './json-cost.js';

const cost = (text: string, maxKeys = 3, maxDepth = 3) =>
  jsonCostExceeded(Buffer.from(text), { maxKeys, maxDepth });

describe('JSON cost pre-scan', () => {
  it('counts object keys and array items, not empty containers', () => {
    assert.equal(cost('{"a":1,"b":[],"c":{}}'), undefined);
    assert.match(cost('{"a":1,"b":2,"c":3,"d":4}') ?? '', /more than 3 keys/);
    assert.equal(cost('[1,2,3]'), undefined);
    assert.match(cost('[1,2,3,4]') ?? '', /more than 3 keys/);
    assert.equal(cost('[ ]'), undefined);
    assert.match(cost('[[1],[2]]') ?? '', /more than 3 keys/);
  });

  it('ignores structure inside strings, escapes included', () => {
    assert.equal(cost('{"a":"{[:,,,:]}","b":"\\\\\\":,,"}'), undefined);
  });

  it('limits nesting', () => {
    assert.equal(cost('[[[1]]]', 10), undefined);
    assert.match(cost('[[[[1]]]]', 10) ?? '', /deeper than 3 levels/);
    assert.match(cost('{"a":{"b":{"c":{}}}}', 10) ?? '', /deeper than 3 levels/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordRateLimiter } from './record-rate.js';

describe('per-identity record rate', () => {
  it('allows a burst of ten times the rate, then refuses with one summary per second', () => {
    let now = 0;
    const rl = new RecordRateLimiter(5, 1000, () => now);
    for (let i = 0; i < 50; i++) assert.equal(rl.take('mallory').ok, true, `request ${i} in the burst`);
    const first = rl.take('mallory');
    assert.deepEqual(first, { ok: false, summary: { refused: 1, sinceMs: 0 } });
    for (let i = 0; i < 99; i++) assert.deepEqual(rl.take('mallory'), { ok: false });
    now = 100; // 0.1 s: half a token back, still refused and not summarized
    assert.deepEqual(rl.take('mallory'), { ok: false });
    now = 1000; // five tokens back
    for (let i = 0; i < 4; i++) assert.equal(rl.take('mallory').ok, true);
    now = 1001;
    assert.equal(rl.take('mallory').ok, true);
    const later = rl.take('mallory');
    assert.deepEqual(later, { ok: false, summary: { refused: 101, sinceMs: 1001 } });
  });

  it("keeps one identity's flood from touching another's budget", () => {
    const rl = new RecordRateLimiter(1, 1000, () => 0);
    for (let i = 0; i < 30; i++) rl.take('mallory');
    assert.equal(rl.take('alice').ok, true);
  });
});

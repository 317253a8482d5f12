import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { longestGap } from './rotate-native.js';

describe('longestGap (API downtime from the /_ping successes)', () => {
  it('is the largest distance between two consecutive successes', () => {
    assert.equal(longestGap([0, 25, 50, 820, 845]), 770);
  });
  it('is 0 with fewer than two successes', () => {
    assert.equal(longestGap([]), 0);
    assert.equal(longestGap([10]), 0);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultWorkers, MAX_DEFAULT_WORKERS } from './workers.js';

test('default workers: the cores less one (dockerd keeps a core), from 1 to the cap', () => {
  assert.equal(defaultWorkers(1), 1);
  assert.equal(defaultWorkers(2), 1);
  assert.equal(defaultWorkers(3), 2);
  assert.equal(defaultWorkers(5), 4);
  assert.equal(defaultWorkers(64), MAX_DEFAULT_WORKERS);
});

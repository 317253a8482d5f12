import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestName, editDistance } from './closest-name.js';

describe('closest name', () => {
  it('counts a swap of two neighbouring letters as one edit', () => {
    assert.equal(editDistance('tlsverify', 'tlsverfiy'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('suggests a plausible typo, ignoring case and leading dashes, and nothing for an unrelated word', () => {
    assert.equal(closestName('--Privilegd', ['privileged', 'pid_mode']), 'privileged');
    assert.equal(closestName('network', ['privileged', 'pid_mode']), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandWord, loadProgram } from './program.js';

describe('the program loads only the group argv names', () => {
  it('finds the command word past global options and their values', () => {
    assert.equal(commandWord(['gateway', '--listen', 'x']), 'gateway');
    assert.equal(commandWord(['--home', 'gateway', 'pki', 'init']), 'pki');
    assert.equal(commandWord(['--log-format', 'json', '--json', 'hosts', 'list']), 'hosts');
    assert.equal(commandWord(['--home=/x', 'audit']), 'audit');
    assert.equal(commandWord(['--help']), undefined);
    assert.equal(commandWord([]), undefined);
  });

  it('registers one group for a known command and all of them otherwise', async () => {
    const one = await loadProgram(['--home', '/tmp/x', 'audit-log', 'verify', 'f']);
    assert.deepEqual(
      one.commands.map((c) => c.name()),
      ['audit-log'],
    );
    const all = (await loadProgram(['--help'])).commands.map((c) => c.name());
    assert.ok(all.length >= 13, `every group for the top-level help: ${all.join(', ')}`);
    assert.ok(all.includes('gateway') && all.includes('console'));
    assert.deepEqual(
      (await loadProgram(['gatway'])).commands.length,
      all.length,
      'an unknown command loads every group, so commander can suggest the right name',
    );
  });
});

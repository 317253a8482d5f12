import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileAllowlist, LOOPBACK_ONLY } from '../allowlist.js';
import { admit } from './admit.js';

describe('stage admit', () => {
  const loopback = compileAllowlist(LOOPBACK_ONLY);

  it('admits an allowed address', () => {
    assert.equal(admit(loopback, '127.0.0.1', false), undefined);
    assert.equal(
      admit(loopback, '::ffff:127.0.0.1', false) === undefined,
      loopback.allows('::ffff:127.0.0.1'),
    );
  });

  it('refuses an address outside the list, and one it cannot read', () => {
    assert.equal(admit(loopback, '198.18.0.1', false), 'address not in --allow');
    assert.equal(admit(loopback, undefined, false), 'address not in --allow');
  });

  it('refuses everyone while the gateway stops', () => {
    assert.equal(admit(loopback, '127.0.0.1', true), 'gateway stopping');
  });
});

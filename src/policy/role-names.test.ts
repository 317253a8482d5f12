import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockwardError } from '../errors.js';
import { compilePolicy } from './compile.js';
import { checkRoleName, knownRoles } from './role-names.js';

const POLICY = `version: 1
identities:
  - match: { ou: "ci" }
    role: ci
roles:
  ci:
    allow:
      - id: ping
        endpoints: [system.ping]
`;

describe('role names for a certificate OU', () => {
  it('knows the built-in roles, and a policy file adds its own', () => {
    assert.deepEqual(knownRoles(), ['readonly', 'operator', 'admin']);
    assert.ok(knownRoles(compilePolicy(POLICY, 'p.yaml')).includes('ci'));
  });

  it('refuses a typo with the list and the closest name', () => {
    assert.throws(
      () => checkRoleName('admn', knownRoles()),
      (err: unknown) =>
        err instanceof DockwardError &&
        err.code === 'DW_E_ROLE_UNKNOWN' &&
        /"admn" is not a role \(did you mean "admin"\?\): the roles are readonly, operator, admin/.test(
          err.message,
        ) &&
        /--force/.test(err.hint ?? ''),
    );
  });

  it('refuses a policy role without the policy, accepts it with the policy, and names no far-off role', () => {
    assert.throws(() => checkRoleName('ci', knownRoles()), /is not a role/);
    assert.doesNotThrow(() => checkRoleName('ci', knownRoles(compilePolicy(POLICY, 'p.yaml')), 'p.yaml'));
    assert.throws(
      () => checkRoleName('zzzzzzzz', knownRoles()),
      (err: unknown) => err instanceof Error && !/did you mean/.test(err.message),
    );
  });
});

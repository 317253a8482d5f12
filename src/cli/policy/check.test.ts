import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DockwardError } from '../../errors.js';
import { bodyFile, EXAMPLE, fixture, policy } from './test-support.js';

describe('dockward policy check', () => {
  it('prints a summary of a valid file', async () => {
    const r = await policy('policy', 'check', EXAMPLE);
    assert.equal(r.error, undefined);
    assert.match(r.stdout, /example\.yaml: valid/);
    assert.match(r.stdout, /identities {5}4 \(the first that matches gives the role\)/);
    assert.match(r.stdout, /ci {13}extends operator; 5 allow; 9 deny/);
    assert.match(
      r.stdout,
      /body checked {3}container\.create, container\.exec, container\.start, container\.update, service\.create, service\.update, volume\.create/,
    );
  });

  it('prints the summary as JSON with --json', async () => {
    const r = await policy('--json', 'policy', 'check', EXAMPLE);
    const data = JSON.parse(r.stdout) as {
      identities: number;
      defaultRole: string;
      roles: { name: string }[];
    };
    assert.equal(data.identities, 4);
    assert.equal(data.defaultRole, 'readonly');
    assert.deepEqual(
      data.roles.map((x) => x.name),
      ['readonly', 'operator', 'admin', 'ci', 'web'],
    );
  });

  it('--strict passes the shipped example and the built-in roles', async () => {
    for (const file of [EXAMPLE, 'builtin']) {
      const r = await policy('policy', 'check', file, '--strict');
      assert.equal(r.error, undefined, String(r.error));
      assert.match(r.stdout, /strict {9}no role other than admin reaches host power/);
    }
  });

  it('--strict fails with DW_E_POLICY naming each way a role reaches host power', async () => {
    const file = bodyFile(
      'open.yaml',
      'version: 1\ndefaultRole: web\nroles:\n  web:\n    allow:\n      - id: create\n        endpoints: [container.create]\n',
    );
    const plain = await policy('policy', 'check', file);
    assert.equal(plain.error, undefined);
    const r = await policy('policy', 'check', file, '--strict');
    assert.ok(r.error instanceof DockwardError);
    assert.equal(r.error.code, 'DW_E_POLICY');
    assert.match(r.error.message, /role web reaches privileged \(allowed by web\/create\)/);
    assert.match(r.error.message, /role web reaches capability DAC_READ_SEARCH/);
  });

  it('checks the built-in roles with "builtin"', async () => {
    const r = await policy('policy', 'check', 'builtin');
    assert.match(r.stdout, /^builtin: valid/);
  });

  it('fails with DW_E_POLICY (exit 2) naming file:line:col and the fix', async () => {
    const file = fixture('invalid.yaml');
    const r = await policy('policy', 'check', file);
    assert.ok(r.error instanceof DockwardError);
    assert.equal(r.error.code, 'DW_E_POLICY');
    assert.equal(r.error.kind, 'usage');
    assert.match(
      r.error.message,
      new RegExp(
        `${file}:12:11: roles\\.ci\\.deny\\[0\\]\\.when: unknown key "hostmounts" \\(did you mean "hostMounts"\\?\\)`,
      ),
    );
    assert.match(r.error.hint ?? '', /allowed here: privileged, capAdd/);
  });

  it('fails with DW_E_FILE for a file that does not exist', async () => {
    const r = await policy('policy', 'check', join(tmpdir(), 'dw-no-such-dir', 'nope.yaml'));
    assert.ok(r.error instanceof DockwardError);
    assert.equal(r.error.code, 'DW_E_FILE');
  });
});

describe('docs/policy.md', () => {
  it('shows the example policy that the tests compile', () => {
    const doc = readFileSync(new URL('../../../docs/policy.md', import.meta.url), 'utf8');
    assert.ok(
      doc.includes(readFileSync(EXAMPLE, 'utf8')),
      'docs/policy.md must contain test/fixtures/policy/example.yaml verbatim',
    );
  });
});

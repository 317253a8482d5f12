import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../index.js';
import { snapshotTree } from '../pki/test-support.js';

const base = mkdtempSync(join(tmpdir(), 'dw-cli-'));
after(() => rmSync(base, { recursive: true, force: true }));

/** Runs the CLI in-process, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  });
  return { code, stdout, stderr };
}

describe('dockward pki (CLI)', () => {
  const home = join(base, 'home');

  it('refuses to issue before `pki init` with exit 2, a code and a fix', async () => {
    const r = await cli('--home', home, 'pki', 'issue', 'client', 'alice');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no CA in .* \[DW_E_CA_MISSING\]/);
    assert.match(r.stderr, /fix: .*dockward pki init/);
  });

  it('creates the CA, issues, and lists as JSON', async () => {
    assert.equal((await cli('--home', home, 'pki', 'init')).code, 0);
    assert.equal((await cli('--home', home, 'pki', 'issue', 'client', 'alice', '--ou', 'operator')).code, 0);
    const r = await cli('--home', home, '--json', 'pki', 'list');
    assert.equal(r.code, 0);
    const data = JSON.parse(r.stdout) as {
      certs: { name: string; kind: string; ou: string; status: string; daysLeft: number }[];
    };
    assert.deepEqual(
      data.certs.map((c) => [c.name, c.kind, c.ou, c.status]),
      [['alice', 'client', 'operator', 'valid']],
    );
    assert.ok(data.certs[0]!.daysLeft >= 89);
  });

  it('accepts --json after the subcommand too', async () => {
    const r = await cli('pki', 'list', '--home', home, '--json');
    assert.equal(r.code, 0);
    assert.doesNotThrow(() => JSON.parse(r.stdout));
  });

  const bad: [string, string[], string][] = [
    ['a malformed SAN', ['pki', 'issue', 'server', 's', '--san', 'DNS:no_underscore'], 'DW_E_SAN_INVALID'],
    ['an unknown key type', ['pki', 'issue', 'client', 'k', '--key-type', 'dsa-1024'], 'DW_E_KEY_TYPE'],
    ['a duplicate name', ['pki', 'issue', 'client', 'alice'], 'DW_E_CERT_EXISTS'],
    ['days that are not a number', ['pki', 'issue', 'client', 'd', '--days', 'ten'], 'DW_E_DURATION'],
    ['revoke of an unknown name', ['pki', 'revoke', 'ghost'], 'DW_E_CERT_UNKNOWN'],
    ['renew of an unknown name', ['pki', 'renew', 'ghost'], 'DW_E_CERT_UNKNOWN'],
    ['renew with neither a name nor --within', ['pki', 'renew'], 'DW_E_USAGE'],
    ['renew with a malformed window', ['pki', 'renew', '--within', 'soon'], 'DW_E_DURATION'],
    ['an unknown revocation reason', ['pki', 'revoke', 'alice', '--reason', 'because'], 'DW_E_USAGE'],
    ['a second init', ['pki', 'init'], 'DW_E_CA_EXISTS'],
  ];
  for (const [what, argv, code] of bad) {
    it(`exits 2 with ${code} on ${what}, and writes nothing`, async () => {
      const snap = snapshotTree(home);
      const r = await cli('--home', home, ...argv);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`\\[${code}\\]`));
      assert.match(r.stderr, /fix: /);
      assert.equal(snapshotTree(home), snap);
    });
  }

  it('exits 2 on an unknown command or flag', async () => {
    assert.equal((await cli('--home', home, 'pki', 'frobnicate')).code, 2);
    assert.equal((await cli('--home', home, 'pki', 'list', '--no-such-flag')).code, 2);
  });

  it('exits 0 for --help and --version', async () => {
    assert.equal((await cli('--help')).code, 0);
    assert.equal((await cli('--version')).code, 0);
  });
});

describe('a command that prints its result and then fails (--json)', () => {
  it('keeps stdout one JSON document: the report, with the failure on stderr and exit 1', async () => {
    const root = new URL('../../test/fixtures/audit/hosts-multiline', import.meta.url).pathname;
    const r = await cli('--json', 'audit', '--root', root, '--fail-on', 'high');
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { findings: { id: string; status: string }[] };
    assert.equal(report.findings.find((f) => f.id === 'tcp-without-tls')?.status, 'fail');
    assert.match(r.stderr, /\[DW_E_AUDIT_FAILED\]/);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { bindIo } from './context.js';
import { parseRequestLine, policyCommand } from './policy.js';

const fixture = (name: string) => new URL(`../../test/fixtures/policy/${name}`, import.meta.url).pathname;
const EXAMPLE = fixture('example.yaml');
const work = mkdtempSync(join(tmpdir(), 'dw-policy-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function bodyFile(name: string, content: string): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

/** Runs `dockward policy ...` in-process (program.ts registers the command; this builds a root of its own). */
async function policy(...argv: string[]): Promise<{ stdout: string; stderr: string; error?: unknown }> {
  let stdout = '';
  let stderr = '';
  const root = new Command('dockward').option('--json').option('--home <dir>').exitOverride();
  const cmd = policyCommand();
  cmd.exitOverride();
  for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeErr: (s) => (stderr += s) });
  root.addCommand(cmd);
  bindIo(root, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  try {
    await root.parseAsync(argv, { from: 'user' });
    return { stdout, stderr };
  } catch (error) {
    return { stdout, stderr, error };
  }
}

/** `dockward policy explain builtin --identity o --request REQUEST ...more`. */
function explainAsO(request: string, ...more: string[]): ReturnType<typeof policy> {
  return policy('policy', 'explain', 'builtin', '--identity', 'o', '--request', request, ...more);
}

describe('dockward policy check', () => {
  it('prints a summary of a valid file', async () => {
    const r = await policy('policy', 'check', EXAMPLE);
    assert.equal(r.error, undefined);
    assert.match(r.stdout, /example\.yaml: valid/);
    assert.match(r.stdout, /identities {5}4 \(the first that matches gives the role\)/);
    assert.match(r.stdout, /ci {13}extends operator; 5 allow; 10 deny/);
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
    const r = await policy('policy', 'check', join(work, 'nope.yaml'));
    assert.ok(r.error instanceof DockwardError);
    assert.equal(r.error.code, 'DW_E_FILE');
  });
});

describe('dockward policy explain', () => {
  it('explains a denial: decision, role, rule, reason, the docker CLI message and every rule consulted', async () => {
    const body = bodyFile('priv.json', '{"Image":"testbox","hostconfig":{"privileged":true}}');
    const r = await policy(
      'policy',
      'explain',
      'builtin',
      '--identity',
      'olivia',
      '--ou',
      'operator',
      '--request',
      'POST /v%31.41/containers/create',
      '--body',
      body,
    );
    assert.equal(r.error, undefined);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'decision  deny (HTTP 403)');
    assert.equal(lines[1], 'role      operator (via identities[1] (ou=operator))');
    assert.match(lines[2]!, /^rule {6}operator\/no-privileged {2}\(builtin:\d+:\d+\)$/);
    assert.equal(
      lines[3],
      'reason    privileged containers and execs are not allowed for operators; HostConfig.Privileged is true',
    );
    assert.equal(
      lines[4],
      'request   POST /v%31.41/containers/create -> container.create (path /containers/create, API 1.41)',
    );
    assert.equal(
      lines[5],
      'body      read and canonicalized: 52 bytes (rewritten: this is what would be forwarded)',
    );
    assert.equal(lines[6], '          {"Image":"testbox","HostConfig":{"Privileged":true}}');
    assert.equal(
      lines[7],
      'docker    Error response from daemon: dockward: denied by operator/no-privileged: privileged containers and execs are not allowed for operators; HostConfig.Privileged is true',
    );
    assert.equal(lines[8], 'rules consulted (denies first; * made the decision):');
    assert.match(
      lines[9]!,
      /^ {2}\* deny {3}operator\/no-privileged +applies +HostConfig\.Privileged is true$/,
    );
    assert.match(r.stdout, / {4}allow {2}operator\/containers +applies/);
  });

  it('explains an allow and the role chosen by the default', async () => {
    const body = bodyFile('plain.json', '{"Image":"busybox","Labels":{"team":"web"}}');
    const r = await policy(
      'policy',
      'explain',
      EXAMPLE,
      '--identity',
      'w1',
      '--san',
      'DNS:app.web.example.com',
      '--request',
      'POST /v1.41/containers/create?name=web-1',
      '--body',
      body,
    );
    assert.match(r.stdout, /^decision {2}allow\n/);
    assert.match(r.stdout, /role {6}web \(via identities\[2\] \(san=DNS:\*\.web\.example\.com\)\)/);
    assert.match(r.stdout, /rule {6}web\/web-containers {2}\(.*example\.yaml:\d+:\d+\)/);
    assert.match(r.stdout, /body {6}read and canonicalized: 43 bytes \(forwarded unchanged\)/);
    assert.doesNotMatch(r.stdout, /Error response/);
  });

  it('explains a refusal before the policy, with the status the gateway answers', async () => {
    const body = bodyFile('dup.json', '{"HostConfig":{},"hostconfig":{"Privileged":true}}');
    const r = await explainAsO('POST /containers/create', '--ou', 'operator', '--body', body);
    assert.match(r.stdout, /^decision {2}refused before the policy \(HTTP 400, DW_E_BAD_REQUEST\)\n/);
    assert.match(
      r.stdout,
      /reason {4}the body has the key "hostconfig" twice \(same field as "HostConfig"\)/,
    );
    assert.match(r.stdout, /docker {4}Error response from daemon: dockward: the body has the key/);
  });

  it('refuses a non-canonical path as the gateway does', async () => {
    const r = await explainAsO('GET //containers/json');
    assert.match(r.stdout, /refused before the policy \(HTTP 400, DW_E_BAD_REQUEST\)/);
    assert.match(r.stdout, /non-canonical path/);
  });

  it('reports an unknown endpoint as the gateway does (403)', async () => {
    const r = await explainAsO('GET /v1.41/nothing');
    assert.match(r.stdout, /refused before the policy \(HTTP 403, DW_E_UNKNOWN_ENDPOINT\)/);
  });

  it('refuses a create without a body, as the gateway would (the policy needs it)', async () => {
    const r = await explainAsO('POST /containers/create', '--ou', 'operator');
    assert.match(r.stdout, /reason {4}container\.create needs a JSON object body/);
  });

  it('says when the body is not read for an endpoint', async () => {
    const r = await explainAsO('GET /v1.41/containers/json');
    assert.match(r.stdout, /decision {2}allow/);
    assert.match(r.stdout, /rule {6}readonly\/harmless-reads/);
    assert.match(r.stdout, /body {6}not read: this policy has no body rule for this endpoint/);
  });

  it('prints the verdict as JSON with --json, including the canonical body', async () => {
    const body = bodyFile('caps.json', '{"Image":"x","HostConfig":{"CapAdd":"sys_admin"}}');
    const r = await policy(
      '--json',
      'policy',
      'explain',
      'builtin',
      '--identity',
      'o',
      '--ou',
      'operator',
      '--request',
      'POST /v1.41/containers/create',
      '--body',
      body,
    );
    const data = JSON.parse(r.stdout) as {
      outcome: string;
      status: number;
      request: { endpoint: string; apiVersion: string; path: string };
      decision: { rule: string; role: string; trace: { rule: string; decisive: boolean }[] };
      body: { canonical: string; changed: boolean };
      message: string;
    };
    assert.equal(data.outcome, 'deny');
    assert.equal(data.status, 403);
    assert.deepEqual(data.request.endpoint, 'container.create');
    assert.equal(data.decision.rule, 'operator/no-extra-capabilities');
    assert.equal(data.decision.trace.filter((t) => t.decisive).length, 1);
    assert.equal(data.body.canonical, '{"Image":"x","HostConfig":{"CapAdd":["sys_admin"]}}');
    assert.match(
      data.message,
      /^dockward: denied by operator\/no-extra-capabilities: .*adds capability SYS_ADMIN/,
    );
  });

  it('exits 1 with --exit-code when the request would be denied, and 0 when allowed', async () => {
    const denied = await explainAsO('POST /v1.41/swarm/init', '--exit-code');
    assert.ok(denied.error instanceof DockwardError);
    assert.equal(denied.error.code, 'DW_E_DENIED');
    const allowed = await explainAsO('GET /_ping', '--exit-code');
    assert.equal(allowed.error, undefined);
  });

  it('refuses a malformed --request', () => {
    assert.throws(
      () => parseRequestLine('/containers/json'),
      (e: unknown) => e instanceof DockwardError && e.code === 'DW_E_USAGE',
    );
    assert.deepEqual(parseRequestLine(' get /_ping '), { method: 'GET', target: '/_ping' });
  });
});

describe('docs/policy.md', () => {
  it('shows the example policy that the tests compile', () => {
    const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
    assert.ok(
      doc.includes(readFileSync(EXAMPLE, 'utf8')),
      'docs/policy.md must contain test/fixtures/policy/example.yaml verbatim',
    );
  });
});

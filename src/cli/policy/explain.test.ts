import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockwardError } from '../../errors.js';
import { parseRequestLine } from './explain.js';
import { bodyFile, EXAMPLE, explainAsO, policy } from './test-support.js';

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
    // a non-admin identity's create gets its owner label (docs/policy.md, Ownership)
    assert.match(
      r.stdout,
      /body {6}read and canonicalized: 68 bytes \(rewritten: this is what would be forwarded\)/,
    );
    assert.match(r.stdout, /"Labels":\{"team":"web","io\.dockward\.owner":"w1"\}/);
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

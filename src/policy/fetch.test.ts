import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateRequest } from '../gateway/pipeline.js';
import type { ResolveHost } from '../gateway/stages/fetch-guard.js';
import { builtinDecider } from './builtin-roles.js';
import { checkPolicy } from './compile.js';
import type { PolicyIdentity } from './decision.js';
import { fetchTargets, forbiddenAddress, forbiddenAddresses, remoteHost } from './fetch.js';
import { input } from './test-support.js';

const who = (ou: string): PolicyIdentity => ({ cn: `c-${ou}`, ou: [ou], serial: '01', sans: [] });
const builtin = builtinDecider();

const POLICY = `version: 1
identities:
  - match: { ou: ci }
    role: ci
  - match: { ou: kid }
    role: kid
roles:
  ci:
    extends: operator
    fetch: { allow: [git.example.com, "*.registry.example.com", lo.example.com, 10.1.2.3, gone.example.com] }
  kid:
    extends: ci
`;
const compiled = checkPolicy(POLICY, 'fetch.yaml');
assert.ok(compiled.ok, compiled.ok ? '' : JSON.stringify(compiled.issues));
const policy = compiled.policy;

const DNS: Record<string, string[]> = {
  'git.example.com': ['203.0.113.7', '2001:db8::7'],
  'a.registry.example.com': ['203.0.113.8'],
  'lo.example.com': ['203.0.113.9', '127.0.0.1'],
};
const resolveHost: ResolveHost = async (host) => {
  const a = DNS[host];
  if (!a) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
  return a;
};

describe('server-side fetch targets', () => {
  const cases: [string, string, string[]][] = [
    ['build', 'remote=http://127.0.0.1:8080/x', ['127.0.0.1']],
    ['build', 'remote=https://GIT.example.com/r.git%23main', ['git.example.com']],
    ['build', 'remote=git@git.example.com:team/r.git', ['git.example.com']],
    ['build', 'remote=github.com/moby/moby', ['github.com']],
    ['build', 'remote=git://[::1]/x', ['::1']],
    ['build', 'remote=client-session', []],
    ['build', '', []],
    ['build', 'REMOTE=http://127.0.0.1/&remote=client-session', ['127.0.0.1']],
    ['image.create', 'fromSrc=-&repo=x', []],
    ['image.create', 'fromSrc=http://169.254.169.254/latest', ['169.254.169.254']],
    ['image.create', 'fromSrc=127.0.0.1:9000/x.tar', ['127.0.0.1']],
    ['image.create', 'fromImage=busybox', []],
    ['plugin.pull', 'remote=localhost:5000/p', ['localhost']],
    ['plugin.privileges', 'remote=vieux/sshfs', ['docker.io']],
    ['plugin.upgrade', 'remote=127.0.0.1:5000/p:2', ['127.0.0.1']],
  ];
  for (const [endpoint, query, hosts] of cases) {
    it(`${endpoint}?${query} fetches from [${hosts.join(', ')}]`, () => {
      const targets = fetchTargets(input(endpoint, { query }));
      assert.deepEqual(
        targets.map((t) => t.host),
        hosts,
      );
    });
  }

  it('reads no host from a remote it does not understand (only fetch: any allows it)', () => {
    assert.equal(remoteHost('ftp-ish:thing'), undefined);
    assert.deepEqual(
      fetchTargets(input('build', { query: 'remote=weird' })).map((t) => t.host),
      [undefined],
    );
  });
});

describe('forbidden addresses', () => {
  const blocked = forbiddenAddresses(['192.0.2.10', 'fe80::1%eth0']);
  for (const a of [
    '127.0.0.1',
    '127.9.9.9',
    '0.0.0.0',
    '169.254.169.254',
    '::1',
    '::',
    'fe80::5',
    '::ffff:127.0.0.1',
    '192.0.2.10',
    '224.0.0.1',
  ]) {
    it(`refuses ${a}`, () => assert.ok(forbiddenAddress(a, blocked)));
  }
  for (const a of ['203.0.113.7', '10.1.2.3', '2001:db8::7']) {
    it(`lets ${a} through`, () => assert.equal(forbiddenAddress(a, blocked), undefined));
  }
});

describe('server-side fetch decisions', () => {
  const run = (p: typeof policy, ou: string, method: string, target: string) =>
    evaluateRequest(p, who(ou), { method, target }, { resolveHost });

  it('refuses build?remote=URL for operator by default, naming the rule', async () => {
    const v = await run(builtin, 'operator', 'POST', '/v1.41/build?remote=http://127.0.0.1:8080/x');
    assert.equal(v.status, 403);
    assert.ok(v.outcome === 'deny');
    assert.equal(v.decision.rule, 'operator/no-server-fetch');
  });

  it('refuses images/create?fromSrc=URL for operator, allows fromSrc=- (an upload)', async () => {
    const url = await run(builtin, 'operator', 'POST', '/images/create?fromSrc=http://127.0.0.1:1/&repo=x');
    assert.equal(url.status, 403);
    const upload = await run(builtin, 'operator', 'POST', '/images/create?fromSrc=-&repo=x');
    assert.equal(upload.outcome, 'allow');
  });

  it('keeps docker build (remote=client-session, or a context tar) working for operator', async () => {
    assert.equal(
      (await run(builtin, 'operator', 'POST', '/build?remote=client-session&t=x')).outcome,
      'allow',
    );
    assert.equal((await run(builtin, 'operator', 'POST', '/build?t=x')).outcome, 'allow');
  });

  it('refuses a form body on any endpoint (400): the Go FormValue can read parameters from one', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'Multipart/Form-Data; boundary=x']) {
      const v = await evaluateRequest(builtin, who('operator'), {
        method: 'POST',
        target: '/build?t=x',
        headers: { 'Content-Type': type },
        body: Buffer.from('remote=http://127.0.0.1:1/'),
      });
      assert.equal(v.status, 400, type);
    }
  });

  it('lets admin fetch anywhere, loopback included', async () => {
    const v = await run(builtin, 'admin', 'POST', '/build?remote=http://127.0.0.1:8080/x');
    assert.equal(v.outcome, 'allow');
    const p = await run(builtin, 'admin', 'POST', '/plugins/pull?remote=127.0.0.1:5000/p');
    assert.equal(p.outcome, 'allow');
  });

  it('allows a listed host whose every address is public', async () => {
    for (const t of [
      '/build?remote=https://git.example.com/r.git',
      '/build?remote=git@a.registry.example.com:r',
    ]) {
      const v = await run(policy, 'ci', 'POST', t);
      assert.equal(v.outcome, 'allow', t);
    }
  });

  it('inherits fetch.allow through extends', async () => {
    const v = await run(policy, 'kid', 'POST', '/build?remote=https://git.example.com/r.git');
    assert.equal(v.outcome, 'allow');
  });

  const refused: [string, RegExp][] = [
    ['/build?remote=https://evil.example.net/x', /ci\/fetch-host-not-listed/],
    ['/build?remote=https://lo.example.com/x', /ci\/fetch-address: .*127\.0\.0\.1 is loopback/],
    ['/build?remote=https://gone.example.com/x', /ci\/fetch-address: cannot resolve gone\.example\.com/],
    ['/build?remote=https://10.1.2.3/x&remote=http://127.0.0.1/', /ci\/fetch-host-not-listed/],
    ['/build?remote=weird', /ci\/fetch-host-not-listed: .*cannot read/],
    ['/plugins/pull?remote=x', /ci\/default-deny/],
  ];
  for (const [target, why] of refused) {
    it(`refuses POST ${target} for a role with a fetch list`, async () => {
      const v = await run(policy, 'ci', 'POST', target);
      assert.equal(v.status, 403);
      assert.ok(v.outcome === 'deny');
      assert.match(`${v.decision.rule}: ${v.decision.reason}`, why);
    });
  }

  it('refuses a listed IP literal when it is one of the forbidden addresses', async () => {
    const p = checkPolicy(
      'version: 1\ndefaultRole: r\nroles:\n  r:\n    extends: operator\n    fetch: { allow: ["127.0.0.1"] }\n',
      'p.yaml',
    );
    assert.ok(p.ok);
    const v = await evaluateRequest(p.policy, who('x'), {
      method: 'POST',
      target: '/build?remote=http://127.0.0.1:1/',
    });
    assert.ok(v.outcome === 'deny');
    assert.equal(v.decision.rule, 'r/fetch-address');
  });

  it('shows the fetch check in policy explain', async () => {
    const v = await evaluateRequest(
      builtin,
      who('operator'),
      { method: 'POST', target: '/build?remote=http://x/' },
      { explain: true },
    );
    assert.ok(v.outcome === 'deny' && 'trace' in v.decision);
    assert.ok(v.decision.trace.some((t) => t.rule === 'operator/no-server-fetch' && t.decisive));
  });

  it('rejects a fetch host with a scheme or a port in the policy', () => {
    const p = checkPolicy('version: 1\nroles:\n  r:\n    fetch: { allow: ["http://x"] }\n', 'p.yaml');
    assert.equal(p.ok, false);
  });
});

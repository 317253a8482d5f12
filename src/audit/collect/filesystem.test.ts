import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runRules } from '../engine.js';
import type { AuditFacts, AuditReport, Finding } from '../model.js';
import { collectFilesystemFacts } from './filesystem.js';

const FIXTURES = new URL('../../../test/fixtures/audit/', import.meta.url).pathname;
const NOW = new Date('2025-06-01T00:00:00Z');
const temps: string[] = [];
const servers: Server[] = [];

after(async () => {
  for (const s of servers) s.close();
  for (const t of temps) await fs.rm(t, { recursive: true, force: true });
});

/** A fresh copy of a fixture case (with common/etc) in a temp folder standing for `/`. */
async function tree(name: string): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'dw-audit-'));
  temps.push(dir);
  await fs.cp(join(FIXTURES, 'common'), dir, { recursive: true });
  await fs.cp(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** Listens on a unix socket at `<root><path>` (sockets cannot live in git). */
async function socketAt(root: string, path: string, mode: number, gid = 0): Promise<void> {
  const full = join(root, path);
  await fs.mkdir(join(full, '..'), { recursive: true });
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(full, resolve));
  await fs.chmod(full, mode);
  await fs.chown(full, 0, gid);
}

async function audit(root: string, now = NOW): Promise<{ facts: AuditFacts; report: AuditReport }> {
  const fsFacts = await collectFilesystemFacts({ root, now });
  const facts: AuditFacts = {
    target: { kind: 'root', root },
    now,
    ...fsFacts,
    listeners: { state: 'missing', reason: 'offline tree: nothing to probe' },
    engine: { state: 'missing', reason: 'offline tree: no daemon' },
    firewall: { state: 'missing', reason: 'offline tree: firewall not read here' },
  };
  return { facts, report: runRules(facts) };
}

function find(report: AuditReport, id: string): Finding {
  const f = report.findings.find((x) => x.id === id);
  assert.ok(f, `no finding ${id}`);
  return f;
}

function openssl(args: string[], cwd: string): void {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
}

/** A CA and a server certificate made with the real openssl. */
async function makeCerts(
  dir: string,
  server: { bits: number; days: number; digest: string; san: string },
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca-key.pem',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=test-ca',
      '-days',
      '3650',
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-newkey',
      `rsa:${server.bits}`,
      '-nodes',
      '-keyout',
      'key.pem',
      '-out',
      'server.csr',
      '-subj',
      '/CN=docker',
    ],
    dir,
  );
  await fs.writeFile(join(dir, 'ext.cnf'), `subjectAltName=${server.san}\n`);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-days',
      String(server.days),
      `-${server.digest}`,
      '-extfile',
      'ext.cnf',
      '-out',
      'cert.pem',
    ],
    dir,
  );
  for (const f of ['server.csr', 'ext.cnf', 'ca.srl']) await fs.rm(join(dir, f), { force: true });
  await fs.chmod(join(dir, 'key.pem'), 0o400);
  for (const f of ['ca.pem', 'cert.pem']) await fs.chmod(join(dir, f), 0o444);
}

describe('the docker-bench defects, on fixture trees', () => {
  it('sees a tcp host in a multi-line hosts array without TLS', async () => {
    const { report } = await audit(await tree('hosts-multiline'));
    const tls = find(report, 'tls-auth');
    assert.equal(tls.status, 'fail');
    assert.match(tls.evidence.join('\n'), /tcp:\/\/0\.0\.0\.0:2375.*file:\/etc\/docker\/daemon\.json:3/);
    const plain = find(report, 'tcp-without-tls');
    assert.equal(plain.status, 'fail');
    assert.match(plain.evidence[0]!, /^from configuration: /);
    assert.equal(find(report, 'icc-restricted').evidence[0], 'icc: false (file:/etc/docker/daemon.json:2)');
  });

  it('reads --tlscacert /path written with a space in ExecStart', async () => {
    const root = await tree('tlscacert-space');
    await makeCerts(join(root, 'etc/docker/tls'), {
      bits: 2048,
      days: 365,
      digest: 'sha256',
      san: 'IP:10.0.0.5',
    });
    const { facts, report } = await audit(root, new Date());
    assert.equal(find(report, 'tls-auth').status, 'pass');
    assert.match(
      find(report, 'tls-auth').evidence.join('\n'),
      /--tlscacert \/etc\/docker\/tls\/ca\.pem \(flag:\/lib\/systemd\/system\/docker\.service:6\)/,
    );
    assert.equal(find(report, 'tlscacert-mode').status, 'pass');
    assert.equal(find(report, 'tlskey-mode').status, 'pass');
    assert.equal(find(report, 'cert-san-mismatch').status, 'pass');
    assert.equal(find(report, 'cert-weak-key').status, 'pass');
    assert.ok(facts.certs.state === 'ok' && facts.certs.value.some((c) => c.role === 'tlscacert' && c.isCa));
    // The CA key left next to the server's files is found by its public key.
    const caKey = find(report, 'ca-key-on-host');
    assert.equal(caKey.status, 'fail');
    assert.match(caKey.evidence[0]!, /\/etc\/docker\/tls\/ca-key\.pem is a CA private key/);
  });

  it('reads tlsverify set in daemon.json', async () => {
    const { report } = await audit(await tree('tlsverify-file'));
    assert.equal(find(report, 'tls-auth').status, 'pass');
    assert.equal(find(report, 'tcp-without-tls').status, 'pass');
    assert.equal(find(report, 'tls-without-verify').status, 'pass');
  });

  it('fails a docker.sock at mode 0606 ("at most 660" is about bits)', async () => {
    const root = await tree('hosts-multiline');
    await socketAt(root, '/var/run/docker.sock', 0o606, 999);
    const { report } = await audit(root);
    const f = find(report, 'docker-sock-mode');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /\/var\/run\/docker\.sock: mode 0606: others can read\/write/);
    assert.equal(find(report, 'docker-sock-owner').status, 'pass');
    const group = find(report, 'docker-group-members');
    assert.equal(group.status, 'warn');
    assert.match(group.evidence[0]!, /group docker: alice, bob/);
  });

  it('passes /etc/docker at mode 0700 and fails it at 0775', async () => {
    const root = await tree('hosts-multiline');
    await fs.chmod(join(root, 'etc/docker'), 0o700);
    assert.equal(find((await audit(root)).report, 'etc-docker-mode').status, 'pass');
    await fs.chmod(join(root, 'etc/docker'), 0o775);
    assert.equal(find((await audit(root)).report, 'etc-docker-mode').status, 'fail');
  });

  it('sees a drop-in that adds -H tcp://0.0.0.0:2375', async () => {
    const { report } = await audit(await tree('dropin-tcp'));
    const f = find(report, 'tcp-without-tls');
    assert.equal(f.status, 'fail');
    assert.match(
      f.evidence[0]!,
      /tcp:\/\/0\.0\.0\.0:2375.*flag:\/etc\/systemd\/system\/docker\.service\.d\/10-remote\.conf:3/,
    );
    const unitFiles = find(report, 'docker-service-mode').evidence.join('\n');
    assert.match(unitFiles, /10-remote\.conf/);
  });

  it('sees socket activation with ListenStream=2375', async () => {
    const { facts, report } = await audit(await tree('socket-activation'));
    assert.deepEqual(facts.socketUnit.state === 'ok' && facts.socketUnit.value, {
      path: '/lib/systemd/system/docker.socket',
      listenStreams: ['/run/docker.sock', '2375'],
    });
    const f = find(report, 'tcp-without-tls');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /ListenStream=2375/);
    assert.equal(find(report, 'docker-socket-unit-mode').status, 'pass');
  });
});

describe('bad input', () => {
  it('reports a malformed daemon.json as a failing audit-input finding with file:line:col', async () => {
    const { report } = await audit(await tree('malformed'));
    const input = find(report, 'audit-input');
    assert.equal(input.status, 'fail');
    assert.match(input.evidence[0]!, /^config: \/etc\/docker\/daemon\.json:3:\d+: /);
    assert.equal(find(report, 'icc-restricted').status, 'skip');
    assert.ok(!report.findings.some((f) => f.area === 'daemon-config' && f.status === 'pass'));
  });

  it('reports an unreadable daemon.json (a folder in its place) as audit-input, not a pass', async () => {
    const root = await tree('hosts-multiline');
    await fs.rm(join(root, 'etc/docker/daemon.json'));
    await fs.mkdir(join(root, 'etc/docker/daemon.json'));
    const { report } = await audit(root);
    const input = find(report, 'audit-input');
    assert.match(input.evidence[0]!, /\/etc\/docker\/daemon\.json: cannot read/);
    assert.equal(find(report, 'tls-auth').status, 'skip');
  });

  it('reports a certificate file that is not PEM as an unreadable input', async () => {
    const root = await tree('tlsverify-file');
    await fs.mkdir(join(root, 'etc/docker/tls'), { recursive: true });
    await fs.writeFile(
      join(root, 'etc/docker/tls/ca.pem'),
      '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n',
    );
    const { report } = await audit(root);
    assert.match(
      find(report, 'audit-input').evidence.join('\n'),
      /certs: \/etc\/docker\/tls\/ca\.pem: not a readable PEM certificate/,
    );
  });

  it('treats an empty tree as nothing to judge, never as a crash', async () => {
    const root = await fs.mkdtemp(join(tmpdir(), 'dw-audit-empty-'));
    temps.push(root);
    const { report } = await audit(root);
    assert.equal(find(report, 'docker-service-owner').status, 'info');
    assert.equal(find(report, 'tls-auth').status, 'pass');
  });
});

describe('certificates made with openssl', () => {
  it('finds a 1024-bit RSA key and a SHA-1 signature', async () => {
    const root = await tree('tlsverify-file');
    await makeCerts(join(root, 'etc/docker/tls'), {
      bits: 1024,
      days: 365,
      digest: 'sha1',
      san: 'IP:10.0.0.5',
    });
    const f = find((await audit(root, new Date())).report, 'cert-weak-key');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence.join('\n'), /RSA 1024-bit key/);
    assert.match(f.evidence.join('\n'), /sha1WithRSAEncryption signature/);
  });

  it('finds an expired certificate and one expiring within 30 days', async () => {
    const root = await tree('tlsverify-file');
    await makeCerts(join(root, 'etc/docker/tls'), {
      bits: 2048,
      days: 10,
      digest: 'sha256',
      san: 'IP:10.0.0.5',
    });
    const soon = await audit(root, new Date());
    assert.equal(find(soon.report, 'cert-expiring').status, 'warn');
    assert.equal(find(soon.report, 'cert-expired').status, 'pass');
    const later = await audit(root, new Date(Date.now() + 11 * 86_400_000));
    assert.equal(find(later.report, 'cert-expired').status, 'fail');
  });

  it('warns when the daemon binds 0.0.0.0 and lists what the certificate covers', async () => {
    const root = await tree('tlsverify-file');
    await makeCerts(join(root, 'etc/docker/tls'), {
      bits: 2048,
      days: 365,
      digest: 'sha256',
      san: 'DNS:docker.lan,IP:10.0.0.5',
    });
    const f = find((await audit(root, new Date())).report, 'cert-san-mismatch');
    assert.equal(f.status, 'warn');
    assert.match(f.evidence[0]!, /covers only: docker\.lan, 10\.0\.0\.5/);
  });

  it('fails a certificate that does not cover the listen address', async () => {
    const root = await tree('tlscacert-space');
    await makeCerts(join(root, 'etc/docker/tls'), {
      bits: 2048,
      days: 365,
      digest: 'sha256',
      san: 'IP:10.0.0.9',
    });
    assert.equal(find((await audit(root, new Date())).report, 'cert-san-mismatch').status, 'fail');
  });

  it('finds a client key readable by others in a home folder', async () => {
    const root = await tree('hosts-multiline');
    await fs.mkdir(join(root, 'home/alice/.docker'), { recursive: true });
    await fs.writeFile(join(root, 'home/alice/.docker/key.pem'), 'x');
    await fs.chmod(join(root, 'home/alice/.docker/key.pem'), 0o644);
    const f = find((await audit(root)).report, 'client-key-exposed');
    assert.equal(f.status, 'fail');
    assert.equal(f.remediation, 'chmod 600 /home/alice/.docker/key.pem');
  });
});

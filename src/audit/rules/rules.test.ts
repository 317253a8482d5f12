import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { harden } from '../../daemon/harden.js';
import { runRules } from '../engine.js';
import type { AuditFacts, CertFact, Finding } from '../model.js';
import { ALL_RULES } from './index.js';
import { container, effective, factsWith, file, NOW, ok } from './test-support.js';

function finding(facts: AuditFacts, id: string): Finding {
  const f = runRules(facts).findings.find((x) => x.id === id);
  assert.ok(f, `no finding ${id}`);
  return f;
}

const STOCK_AFTER_DROP_IN = ['/usr/bin/dockerd', '--containerd=/run/containerd/containerd.sock'];

describe('the remote-tls hardened profile', () => {
  it('fails no daemon-config or listener rule', () => {
    const hardened = harden({}, 'remote-tls');
    const report = runRules(factsWith({ config: ok(effective(hardened.result, STOCK_AFTER_DROP_IN)) }));
    const failing = report.findings
      .filter((f) => f.status === 'fail' && (f.area === 'daemon-config' || f.area === 'listeners'))
      .map((f) => f.id);
    assert.deepEqual(failing, []);
    // No authorization plugin is a warning (CIS 2.12): the gateway's policy is the answer.
    assert.equal(report.findings.find((f) => f.id === 'authz-plugin')?.status, 'warn');
  });

  it('passes icc, userns-remap, no-new-privileges, live-restore, tls-auth and the listener rules', () => {
    const report = runRules(
      factsWith({ config: ok(effective(harden({}, 'remote-tls').result, STOCK_AFTER_DROP_IN)) }),
    );
    for (const id of [
      'icc-restricted',
      'userns-remap',
      'no-new-privileges',
      'live-restore',
      'tls-auth',
      'tcp-without-tls',
      'tls-without-verify',
      'no-experimental',
    ])
      assert.equal(report.findings.find((f) => f.id === id)?.status, 'pass', id);
  });
});

describe('daemon configuration rules', () => {
  it('fails icc by default and says it is dockerd default', () => {
    const f = finding(factsWith({ config: ok(effective({})) }), 'icc-restricted');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.evidence, ['icc: true (dockerd default)']);
    assert.match(f.remediation, /"icc":false/);
  });

  it('reads icc from a flag and names the unit it came from', () => {
    const f = finding(
      factsWith({ config: ok(effective({}, ['/usr/bin/dockerd', '--icc=false'])) }),
      'icc-restricted',
    );
    assert.equal(f.status, 'pass');
    assert.match(f.evidence[0]!, /--icc=false \(flag:\/lib\/systemd\/system\/docker.service:12\)/);
  });

  it('fails tls-auth for a tcp host in a hosts array without TLS', () => {
    const f = finding(
      factsWith({ config: ok(effective({ hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2375'] })) }),
      'tls-auth',
    );
    assert.equal(f.status, 'fail');
    assert.equal(f.evidence[0], 'TLS is off');
    assert.match(f.evidence[1]!, /tcp:\/\/0.0.0.0:2375/);
  });

  it('fails tls-auth when TLS is on without client verification', () => {
    const cfg = { hosts: ['tcp://0.0.0.0:2376'], tls: true, tlsverify: false, tlscert: '/c', tlskey: '/k' };
    const f = finding(factsWith({ config: ok(effective(cfg)) }), 'tls-auth');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /not verified/);
  });

  it('passes tls-auth with no tcp listener', () => {
    assert.equal(finding(factsWith({ config: ok(effective({})) }), 'tls-auth').status, 'pass');
  });

  it('ignores loopback insecure registries and fails others', () => {
    assert.equal(
      finding(
        factsWith({ config: ok(effective({ 'insecure-registries': ['127.0.0.0/8'] })) }),
        'no-insecure-registries',
      ).status,
      'pass',
    );
    assert.equal(
      finding(
        factsWith({ config: ok(effective({ 'insecure-registries': ['reg.lan:5000'] })) }),
        'no-insecure-registries',
      ).status,
      'fail',
    );
  });

  it('fails a seccomp profile set to unconfined', () => {
    assert.equal(
      finding(factsWith({ config: ok(effective({ 'seccomp-profile': 'unconfined' })) }), 'seccomp-profile')
        .status,
      'fail',
    );
  });

  it('reports manual checks as info, never as fail', () => {
    const report = runRules(factsWith({ config: ok(effective({})) }));
    for (const id of ['rootless-mode', 'default-ulimits', 'remote-logging'])
      assert.equal(report.findings.find((f) => f.id === id)?.status, 'info', id);
  });
});

describe('listener rules', () => {
  it('decides tcp-without-tls from configuration when nothing was probed, and says so', () => {
    const f = finding(
      factsWith({ config: ok(effective({ hosts: ['tcp://127.0.0.1:2375'] })) }),
      'tcp-without-tls',
    );
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /^from configuration: tcp:\/\/127.0.0.1:2375 without TLS/);
  });

  it('counts ListenStream=2375 of docker.socket when dockerd is socket-activated', () => {
    const facts = factsWith({
      config: ok(effective({}, ['/usr/bin/dockerd', '-H', 'fd://'])),
      socketUnit: ok({
        path: '/lib/systemd/system/docker.socket',
        listenStreams: ['/run/docker.sock', '2375'],
      }),
    });
    const f = finding(facts, 'tcp-without-tls');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /ListenStream=2375 \(\/lib\/systemd\/system\/docker.socket\)/);
    assert.equal(finding(facts, 'tls-auth').status, 'fail');
  });

  it('prefers what a probe saw over the configuration', () => {
    const facts = factsWith({
      config: ok(effective({})),
      listeners: ok([{ address: '127.0.0.1', port: 2375, seenIn: ['process'], plainHttpPing: true }]),
    });
    const f = finding(facts, 'tcp-without-tls');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /answered GET \/_ping over plain HTTP/);
  });

  it('fails tls-without-verify when a handshake without a client certificate was accepted', () => {
    const facts = factsWith({
      listeners: ok([
        {
          address: '127.0.0.1',
          port: 2376,
          seenIn: ['process'],
          plainHttpPing: false,
          tlsWithoutClientCert: 'accepted',
        },
      ]),
    });
    assert.equal(finding(facts, 'tls-without-verify').status, 'fail');
    assert.equal(finding(facts, 'tcp-without-tls').status, 'pass');
  });
});

describe('daemon file rules', () => {
  it('fails a socket at 0606 against "at most 0660" (bits, not decimal numbers)', () => {
    const f = finding(factsWith({ files: ok([file({ mode: 0o606 })]) }), 'docker-sock-mode');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /mode 0606: others can read\/write \(at most 0660\)/);
    assert.equal(f.remediation, 'chmod 600 /var/run/docker.sock');
  });

  it('fails a unit file at 0607 and passes /etc/docker at 0700', () => {
    const facts = factsWith({
      files: ok([
        file({
          path: '/lib/systemd/system/docker.service',
          role: 'docker.service',
          type: 'file',
          mode: 0o607,
          gid: 0,
          group: 'root',
        }),
        file({
          path: '/etc/docker',
          role: 'etc-docker',
          type: 'directory',
          mode: 0o700,
          gid: 0,
          group: 'root',
        }),
      ]),
    });
    assert.equal(finding(facts, 'docker-service-mode').status, 'fail');
    assert.equal(finding(facts, 'etc-docker-mode').status, 'pass');
    assert.equal(finding(facts, 'etc-docker-owner').status, 'pass');
  });

  it('accepts root:docker on the socket and fails another owner', () => {
    assert.equal(finding(factsWith({ files: ok([file({})]) }), 'docker-sock-owner').status, 'pass');
    const f = finding(factsWith({ files: ok([file({ uid: 1000, owner: 'bob' })]) }), 'docker-sock-owner');
    assert.equal(f.status, 'fail');
    assert.equal(f.remediation, 'chown root:docker /var/run/docker.sock');
  });

  it('fails a 0400 key that an ACL opens to another user', () => {
    const key = file({
      path: '/etc/docker/tls/key.pem',
      role: 'tlskey',
      type: 'file',
      mode: 0o400,
      gid: 0,
      group: 'root',
      acl: ['user:bob:r--'],
    });
    const f = finding(factsWith({ files: ok([key]) }), 'tlskey-mode');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /ACL grants user:bob:r--/);
  });

  it('reports a file that is not there as info', () => {
    const facts = factsWith({
      files: ok([file({ path: '/etc/sysconfig/docker', role: 'etc-sysconfig-docker', exists: false })]),
    });
    assert.equal(finding(facts, 'etc-sysconfig-docker-mode').status, 'info');
  });
});

const cert = (over: Partial<CertFact>): CertFact => ({
  path: '/etc/docker/tls/cert.pem',
  role: 'tlscert',
  subject: 'CN=docker',
  issuer: 'CN=ca',
  isCa: false,
  notBefore: '2025-01-01T00:00:00.000Z',
  notAfter: '2026-01-01T00:00:00.000Z',
  dnsNames: ['docker.lan'],
  ipAddresses: ['10.0.0.5'],
  keyAlgorithm: 'EC',
  signatureAlgorithm: 'ecdsa-with-SHA256',
  bundleSize: 1,
  ...over,
});

describe('certificate rules', () => {
  it('fails an expired certificate and warns about one expiring within 30 days', () => {
    const facts = factsWith({
      certs: ok([
        cert({ notAfter: '2025-05-01T00:00:00.000Z' }),
        cert({ path: '/b.pem', notAfter: '2025-06-11T00:00:00.000Z' }),
      ]),
    });
    assert.equal(finding(facts, 'cert-expired').status, 'fail');
    const soon = finding(facts, 'cert-expiring');
    assert.equal(soon.status, 'warn');
    assert.match(soon.evidence[0]!, /in 10 days/);
    assert.ok(NOW < new Date('2025-06-11'));
  });

  it('fails RSA 1024 and SHA-1 signatures but not a root self-signature', () => {
    const facts = factsWith({
      certs: ok([
        cert({ keyAlgorithm: 'RSA', keyBits: 1024, signatureAlgorithm: 'sha256WithRSAEncryption' }),
        cert({ path: '/s.pem', signatureAlgorithm: 'sha1WithRSAEncryption' }),
        cert({
          path: '/ca.pem',
          role: 'tlscacert',
          isCa: true,
          subject: 'CN=ca',
          issuer: 'CN=ca',
          signatureAlgorithm: 'sha1WithRSAEncryption',
        }),
      ]),
    });
    const f = finding(facts, 'cert-weak-key');
    assert.equal(f.status, 'fail');
    assert.equal(f.evidence.length, 2);
  });

  it('fails a server certificate that does not cover the listen address, warns for 0.0.0.0', () => {
    const certs = ok([cert({})]);
    const bad = finding(
      factsWith({ config: ok(effective({ hosts: ['tcp://10.0.0.9:2376'], tlsverify: true })), certs }),
      'cert-san-mismatch',
    );
    assert.equal(bad.status, 'fail');
    assert.match(bad.evidence[0]!, /covers docker.lan, 10.0.0.5/);
    const wild = finding(
      factsWith({ config: ok(effective({ hosts: ['tcp://0.0.0.0:2376'], tlsverify: true })), certs }),
      'cert-san-mismatch',
    );
    assert.equal(wild.status, 'warn');
    const good = finding(
      factsWith({ config: ok(effective({ hosts: ['tcp://10.0.0.5:2376'], tlsverify: true })), certs }),
      'cert-san-mismatch',
    );
    assert.equal(good.status, 'pass');
  });

  it('fails tlscacert pointing at the system bundle', () => {
    const f = finding(
      factsWith({ config: ok(effective({ tlscacert: '/etc/ssl/certs/ca-certificates.crt' })) }),
      'tlscacert-system-bundle',
    );
    assert.equal(f.status, 'fail');
  });
});

describe('key and group rules', () => {
  it('fails a CA key on the host and a client key readable by others', () => {
    const facts = factsWith({
      keys: ok([
        { path: '/etc/docker/tls/ca-key.pem', isCaKey: true, role: 'ca-key', mode: 0o600 },
        { path: '/home/bob/.docker/key.pem', isCaKey: false, role: 'client-key', mode: 0o644 },
      ]),
    });
    assert.equal(finding(facts, 'ca-key-on-host').status, 'fail');
    const f = finding(facts, 'client-key-exposed');
    assert.equal(f.status, 'fail');
    assert.equal(f.remediation, 'chmod 600 /home/bob/.docker/key.pem');
  });

  it("fails a dockward home's CA key only where dockerd serves TLS (the admin machine may keep its CA)", () => {
    const keys = ok([
      {
        path: '/root/.dockward/pki/ca-key.pem',
        isCaKey: true,
        role: 'ca-key' as const,
        inDockwardHome: true,
        mode: 0o600,
      },
    ]);
    const tls = effective({
      hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2376'],
      tlsverify: true,
      tlscacert: '/etc/docker/tls/ca.pem',
      tlscert: '/etc/docker/tls/cert.pem',
      tlskey: '/etc/docker/tls/key.pem',
    });
    const onTlsHost = finding(factsWith({ keys, config: ok(tls) }), 'ca-key-on-host');
    assert.equal(onTlsHost.status, 'fail');
    assert.match(onTlsHost.evidence[0]!, /\/root\/\.dockward\/pki\/ca-key\.pem .*dockward home.*serves TLS/);
    const local = finding(factsWith({ keys, config: ok(effective({})) }), 'ca-key-on-host');
    assert.equal(local.status, 'pass');
    assert.match(local.evidence[0]!, /serves no TLS/);
  });

  it('lists docker group members as effectively root', () => {
    const f = finding(
      factsWith({ dockerGroup: ok({ group: 'docker', members: ['alice', 'bob'] }) }),
      'docker-group-members',
    );
    assert.equal(f.status, 'warn');
    assert.match(f.evidence[0]!, /alice, bob/);
  });
});

describe('container rules', () => {
  const engine = (containers: ReturnType<typeof container>[]) => ok({ info: {}, version: {}, containers });

  it('reports a stopped privileged container', () => {
    const f = finding(
      factsWith({ engine: engine([container({ privileged: true, running: false, name: '/p' })]) }),
      'container-privileged',
    );
    assert.equal(f.status, 'fail');
    assert.match(f.evidence[0]!, /^p \(aaaaaaaaaaaa, stopped, image busybox\): privileged/);
  });

  it('reports a docker.sock mount in 5.32 and sensitive-mount, also through its folder', () => {
    const facts = factsWith({
      engine: engine([
        container({ bindSources: ['/var/run/docker.sock'] }),
        container({ name: '/r', bindSources: ['/run'] }),
      ]),
    });
    assert.equal(finding(facts, 'docker-sock-mounted').evidence.length, 2);
    assert.equal(finding(facts, 'sensitive-mount').status, 'fail');
  });

  it('passes containers with no host namespaces, caps or mounts', () => {
    const report = runRules(
      factsWith({ config: ok(effective({ 'no-new-privileges': true })), engine: engine([container({})]) }),
    );
    for (const f of report.findings.filter((x) => x.area === 'containers'))
      assert.equal(f.status, 'pass', f.id);
  });

  it('flags host pid, network, ipc, uts, userns, seccomp unconfined, SYS_ADMIN and no no-new-privileges', () => {
    const c = container({
      pidMode: 'host',
      networkMode: 'host',
      ipcMode: 'host',
      utsMode: 'host',
      usernsMode: 'host',
      securityOpt: ['seccomp=unconfined'],
      capAdd: ['SYS_ADMIN'],
    });
    const report = runRules(factsWith({ engine: engine([c]) }));
    for (const id of [
      'container-host-pid',
      'container-host-network',
      'container-host-ipc',
      'container-host-uts',
      'container-host-userns',
      'container-seccomp-unconfined',
      'container-capabilities',
      'container-no-new-privileges',
    ])
      assert.equal(report.findings.find((f) => f.id === id)?.status, 'fail', id);
  });
});

it('every rule has a title, rationale and remediation', () => {
  for (const r of ALL_RULES) {
    assert.ok(r.title && r.rationale && r.remediation, r.id);
  }
});

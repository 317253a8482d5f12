// A real Debian host with systemd as PID 1 (test/hosts/lab.ts), driven as a user would: the
// `dockward` binary inside the host, the real docker CLI and openssl from the admin namespace
// across the lab's network. One boot serves every check; the reboot comes last.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandResult, Lab, type LabHost } from './lab.js';

const DAEMON_JSON = '/etc/docker/daemon.json';
const DROP_IN = '/etc/systemd/system/docker.service.d/90-dockward-hosts.conf';

function show(res: CommandResult): string {
  return `exit ${res.code} after ${res.ms} ms\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
}

describe('a systemd host on the lab network', () => {
  let lab: Lab;
  let h1: LabHost;
  let certs = '';
  let dockerConfig = '';
  let originalDaemonJson = '';

  before(async () => {
    lab = await Lab.start([{ name: 'h1', octet: 11 }]);
    h1 = lab.host('h1');
    certs = mkdtempSync(join(tmpdir(), 'dw-lab-admin-'));
    dockerConfig = mkdtempSync(join(tmpdir(), 'dw-lab-docker-config-'));
    originalDaemonJson = readFileSync(join(h1.root, DAEMON_JSON), 'utf8');
  });

  after(async () => {
    await lab?.stop();
    for (const d of [certs, dockerConfig]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /** The docker CLI in the admin namespace, with its own empty config (no contexts). */
  function docker(args: readonly string[]): CommandResult {
    return lab.admin(['docker', ...args], {
      env: { DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '' },
      timeoutMs: 60_000,
    });
  }

  function tlsFlags(): string[] {
    return [
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '--tlscert',
      join(certs, 'cert.pem'),
      '--tlskey',
      join(certs, 'key.pem'),
    ];
  }

  /** SHA-256 fingerprint of the certificate a TLS listener presents, read with openssl from the admin namespace. */
  function servedFingerprint(address: string): string {
    const res = lab.admin(
      [
        'sh',
        '-c',
        `openssl s_client -connect ${address}:2376 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`,
      ],
      { timeoutMs: 30_000 },
    );
    const fp = /Fingerprint=([0-9A-F:]+)/.exec(res.stdout)?.[1];
    assert.ok(fp, `openssl read a certificate from ${address}:2376: ${show(res)}`);
    return fp;
  }

  function fileFingerprint(path: string): string {
    const res = lab.admin(['openssl', 'x509', '-in', path, '-noout', '-fingerprint', '-sha256']);
    const fp = /Fingerprint=([0-9A-F:]+)/.exec(res.stdout)?.[1];
    assert.ok(fp, show(res));
    return fp;
  }

  it("shows systemctl status and docker.service's journal in daemon status, not another daemon's log file", () => {
    h1.exec(['sh', '-c', 'echo "another dockerd wrote this line" > /var/log/docker.log']);
    const res = h1.dockward(['daemon', 'status']);
    assert.equal(res.code, 0, show(res));
    assert.match(res.stdout, /managed by systemd \(docker\.service active\)/);
    assert.match(res.stdout, /^systemctl status docker\.service:$/m);
    assert.match(res.stdout, /Active: active \(running\)/);
    assert.match(res.stdout, /^last log lines \(journalctl -u docker\.service\):$/m);
    assert.match(res.stdout, /API listen on/, "dockerd's own lines from the journal");
    assert.doesNotMatch(res.stdout, /another dockerd wrote this line/);
    h1.exec(['rm', '-f', '/var/log/docker.log']);
  });

  it("rolls back a daemon.json dockerd refuses, quoting dockerd's own line, and docker.socket serves again", (t) => {
    h1.exec(['sh', '-c', `cat > /root/refused.json`], {
      input: `${JSON.stringify({ hosts: ['unix:///var/run/docker.sock'], bip: '198.19.255.1/24', 'dockward-lab-unknown': true }, null, 2)}\n`,
    });
    // --timeout 30: dockward waits at most 30 s for each start; a rollback that cannot bring
    // dockerd back within that ends in DW_E_ROLLBACK_FAILED, not in the rolled-back message.
    const res = h1.dockward([
      'daemon',
      'apply',
      '--config',
      DAEMON_JSON,
      '--from',
      '/root/refused.json',
      '--restart',
      'systemd',
      '--skip-checks',
      '--timeout',
      '30',
    ]);
    t.diagnostic(`apply + rollback took ${res.ms} ms`);
    t.diagnostic(
      res.stderr
        .split('\n')
        .filter((l) => /dockerd said|rolled back:/.test(l))
        .join(' | '),
    );
    assert.notEqual(res.code, 0, show(res));
    assert.match(
      res.stderr,
      /dockerd said: unable to configure the Docker daemon with file \/etc\/docker\/daemon\.json: the following directives don't match any configuration option: dockward-lab-unknown/,
      show(res),
    );
    assert.doesNotMatch(res.stderr, /Failed to start docker\.service/);
    assert.doesNotMatch(res.stderr, /DW_E_ROLLBACK_FAILED|rollback failed/, show(res));
    assert.match(res.stderr, /rolled back/);
    assert.equal(
      readFileSync(join(h1.root, DAEMON_JSON), 'utf8'),
      originalDaemonJson,
      'daemon.json restored',
    );
    assert.equal(h1.exec(['test', '-e', DROP_IN]).code, 1, 'the hosts drop-in is gone');
    assertServesThroughDockerSocket();
  });

  it('rolls back when the refused dockerd had bound /run/docker.sock itself and removed it on exit', (t) => {
    // dockerd binds its listeners, then fails creating the daemon: on exit it unlinks the socket
    // file it made, while docker.socket still "listens" on the old one.
    h1.exec(['sh', '-c', `cat > /root/refused-late.json`], {
      input: `${JSON.stringify({ hosts: ['unix:///var/run/docker.sock'], bip: '198.19.255.1/24', 'storage-driver': 'dockward-lab-none' }, null, 2)}\n`,
    });
    const res = h1.dockward([
      'daemon',
      'apply',
      '--config',
      DAEMON_JSON,
      '--from',
      '/root/refused-late.json',
      '--restart',
      'systemd',
      '--skip-checks',
      '--timeout',
      '30',
    ]);
    t.diagnostic(`apply + rollback took ${res.ms} ms`);
    assert.notEqual(res.code, 0, show(res));
    assert.match(
      res.stderr,
      /dockerd said: failed to start daemon: error initializing graphdriver: driver not supported/,
      show(res),
    );
    assert.doesNotMatch(res.stderr, /DW_E_ROLLBACK_FAILED|rollback failed/, show(res));
    assert.match(res.stderr, /rolled back/);
    assert.equal(readFileSync(join(h1.root, DAEMON_JSON), 'utf8'), originalDaemonJson);
    assertServesThroughDockerSocket();
  });

  /** dockerd answers on /var/run/docker.sock, and docker.socket starts it on a connection. */
  function assertServesThroughDockerSocket(): void {
    const active = h1.exec(['systemctl', 'is-active', 'docker.socket', 'docker.service']);
    assert.equal(active.stdout, 'active\nactive\n', show(active));
    const version = h1.exec([
      'docker',
      '-H',
      'unix:///var/run/docker.sock',
      'version',
      '--format',
      '{{.Server.Version}}',
    ]);
    assert.equal(version.code, 0, show(version));
    // Socket activation: with the service stopped, a client's connection starts it again.
    assert.equal(h1.exec(['systemctl', 'stop', 'docker.service']).code, 0);
    const activated = h1.exec(['docker', 'version', '--format', '{{.Server.Version}}']);
    assert.equal(activated.code, 0, `docker.socket started dockerd: ${show(activated)}`);
    assert.equal(h1.exec(['systemctl', 'is-active', 'docker.service']).stdout, 'active\n');
  }

  it('init --restart systemd inside the host: the admin reaches dockerd over TLS, a client without a certificate is refused', (t) => {
    const res = h1.dockward(['init', '--restart', 'systemd']);
    assert.equal(res.code, 0, show(res));
    const issued = join(h1.root, 'root/.dockward/pki/issued/h1-admin');
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) copyFileSync(join(issued, f), join(certs, f));
    chmodSync(join(certs, 'key.pem'), 0o600);

    const info = docker([...tlsFlags(), '-H', `tcp://${h1.ipv4}:2376`, 'info']);
    assert.equal(info.code, 0, show(info));
    assert.match(info.stdout, /Server Version: \d+\.\d+/);
    t.diagnostic(
      `docker --tlsverify -H tcp://${h1.ipv4}:2376 info: ${/Server Version: .*/.exec(info.stdout)?.[0]}, ${/Name: .*/.exec(info.stdout)?.[0]}`,
    );
    const v6 = docker([
      ...tlsFlags(),
      '-H',
      `tcp://[${h1.ipv6}]:2376`,
      'version',
      '--format',
      '{{.Server.Version}}',
    ]);
    assert.equal(v6.code, 0, `over IPv6 too: ${show(v6)}`);

    const anonymous = docker([
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '-H',
      `tcp://${h1.ipv4}:2376`,
      'info',
    ]);
    assert.notEqual(anonymous.code, 0, show(anonymous));
    assert.match(anonymous.stderr, /certificate|tls/i);
    assert.doesNotMatch(anonymous.stdout, /Server Version/);
    t.diagnostic(
      `without a client certificate: exit ${anonymous.code}: ${anonymous.stderr.trim().split('\n').at(-1)}`,
    );
  });

  it('serves the re-issued server certificate (new address) after init, checked by fingerprint from the admin namespace', (t) => {
    const before = servedFingerprint(h1.ipv4);
    const newAddress = '198.18.0.21';
    assert.equal(h1.exec(['ip', 'addr', 'add', `${newAddress}/24`, 'dev', 'eth0']).code, 0);

    const stale = h1.dockward(['init', '--restart', 'systemd']);
    assert.equal(stale.code, 2, show(stale));
    assert.match(
      stale.stderr,
      new RegExp(`server certificate "h1" exists without IP:${newAddress.replace(/\./g, '\\.')}`),
    );
    const revoke = h1.dockward(['pki', 'revoke', 'h1']);
    assert.equal(revoke.code, 0, show(revoke));

    const res = h1.dockward(['init', '--restart', 'systemd']);
    assert.equal(res.code, 0, show(res));
    const output = res.stdout + res.stderr;
    assert.doesNotMatch(output, /nothing to write or restart/);
    assert.match(output, /cert\.pem.* changed/);
    t.diagnostic(
      output
        .split('\n')
        .filter((l) => /changed|certificate served on/.test(l))
        .join(' | '),
    );

    const installed = fileFingerprint(join(h1.root, 'etc/docker/tls/cert.pem'));
    assert.notEqual(installed, before, 'a new certificate was installed');
    t.diagnostic(`before ${before}; installed ${installed}`);
    assert.equal(servedFingerprint(newAddress), installed, 'dockerd serves it on the new address');
    assert.equal(servedFingerprint(h1.ipv4), installed, 'and on the old one');
    const version = docker([
      ...tlsFlags(),
      '-H',
      `tcp://${newAddress}:2376`,
      'version',
      '--format',
      '{{.Server.Version}}',
    ]);
    assert.equal(version.code, 0, `the new address verifies as a SAN: ${show(version)}`);
  });

  it('comes back after a reboot with TLS on', async () => {
    const installed = fileFingerprint(join(h1.root, 'etc/docker/tls/cert.pem'));
    await h1.reboot();
    const info = docker([...tlsFlags(), '-H', `tcp://${h1.ipv4}:2376`, 'info']);
    assert.equal(info.code, 0, show(info));
    assert.match(info.stdout, /Server Version/);
    assert.equal(servedFingerprint(h1.ipv4), installed);
    const anonymous = docker([
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '-H',
      `tcp://${h1.ipv4}:2376`,
      'info',
    ]);
    assert.notEqual(anonymous.code, 0, show(anonymous));
  });
});

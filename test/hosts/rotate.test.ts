// Server-certificate rotation on a native-TLS host (test/hosts/lab.ts): host alpha is provisioned
// over ssh, runs a long-lived container with live-restore on, and `hosts renew --within 400d`
// rotates its server certificate: a new key made on the host, signed on the admin machine,
// installed with a real systemd restart. The new certificate is served (openssl from the admin
// namespace), the container keeps running (same id and StartedAt) and the downtime is printed.
// Then a `host install` whose apply fails leaves the TLS files byte-identical and the old
// certificate served; and the audit on the native host says revocation cannot be enforced there.
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandResult, Lab, type LabHost, REPO } from './lab.js';

function show(res: CommandResult): string {
  return `exit ${res.code} after ${res.ms} ms\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
}

describe('server-certificate rotation on a native-TLS host', () => {
  let lab: Lab;
  let a: LabHost;
  let work = '';
  let home = '';
  let dockerConfig = '';
  let knownHosts = '';
  let identity = '';
  let containerBefore = '';

  before(async () => {
    lab = await Lab.start([{ name: 'alpha', octet: 31 }]);
    a = lab.host('alpha');
    work = mkdtempSync(join(tmpdir(), 'dw-lab-rotate-'));
    home = join(work, 'home');
    dockerConfig = join(work, 'docker');
    knownHosts = join(work, 'known_hosts');
    identity = join(work, 'id_ed25519');
  });

  after(async () => {
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function admin(args: readonly string[]): CommandResult {
    const res = lab.admin(['node', join(REPO, 'bin/dockward.js'), ...args], {
      env: { DOCKWARD_HOME: home, DOCKER_CONFIG: dockerConfig, HOME: work },
      timeoutMs: 300_000,
    });
    console.log(`$ dockward ${args.join(' ')}\n${res.stdout}${res.stderr}`);
    return res;
  }

  function docker(args: readonly string[]): CommandResult {
    return lab.admin(['docker', '--context', 'alpha', ...args], {
      env: { DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '' },
      timeoutMs: 120_000,
    });
  }

  /** SHA-256 fingerprint (AA:BB:..) of the certificate served on 2376, read with openssl from the admin namespace. */
  function served(): string {
    const res = lab.admin([
      'sh',
      '-c',
      `openssl s_client -connect ${a.ipv4}:2376 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`,
    ]);
    const fp = /Fingerprint=([0-9A-F:]+)/.exec(res.stdout)?.[1];
    assert.ok(fp, show(res));
    return fp;
  }

  function tlsFiles(): string {
    const res = a.exec(['sh', '-c', 'cd /etc/docker/tls && sha256sum ca.pem cert.pem key.pem']);
    assert.equal(res.code, 0, show(res));
    return res.stdout;
  }

  it('provisions alpha over ssh and starts a long-running container with live-restore on', () => {
    assert.equal(admin(['pki', 'init']).code, 0);
    assert.equal(lab.admin(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', identity]).code, 0);
    const sshd = a.exec([
      'sh',
      '-c',
      'rm -f /etc/ssh/ssh_host_*_key* && ssh-keygen -A >/dev/null && systemctl restart ssh && systemctl is-active ssh',
    ]);
    assert.equal(sshd.code, 0, show(sshd));
    const hostKey = a.exec(['cat', '/etc/ssh/ssh_host_ed25519_key.pub']).stdout.trim();
    writeFileSync(knownHosts, `${a.ipv4} ${hostKey.split(' ').slice(0, 2).join(' ')}\n`);
    const auth = a.exec(['sh', '-c', 'umask 077; mkdir -p /root/.ssh && cat >> /root/.ssh/authorized_keys'], {
      input: readFileSync(`${identity}.pub`, 'utf8'),
    });
    assert.equal(auth.code, 0, show(auth));
    const prov = admin([
      'hosts',
      'provision',
      'alpha',
      '--ssh',
      `root@${a.ipv4}`,
      '--known-hosts',
      knownHosts,
      '--identity',
      identity,
      '--role',
      'admin',
    ]);
    assert.equal(prov.code, 0, show(prov));

    // The busybox test image, imported through the TLS API (no registry here).
    const root = join(work, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const applet of ['sh', 'sleep']) symlinkSync('busybox', join(root, 'bin', applet));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    const tar = lab.admin([
      'tar',
      '--numeric-owner',
      '--owner=0',
      '--group=0',
      '-C',
      root,
      '-cf',
      join(work, 'rootfs.tar'),
      '.',
    ]);
    assert.equal(tar.code, 0, show(tar));
    const imported = docker(['import', join(work, 'rootfs.tar'), 'testbox:latest']);
    assert.equal(imported.code, 0, show(imported));
    const live = docker(['info', '--format', '{{.LiveRestoreEnabled}}']);
    assert.equal(live.stdout.trim(), 'true', show(live));
    const run = docker(['run', '-d', '--name', 'longrun', 'testbox:latest', 'sleep', '100000']);
    assert.equal(run.code, 0, show(run));
    containerBefore = docker([
      'inspect',
      '--format',
      '{{.Id}} {{.State.StartedAt}}',
      'longrun',
    ]).stdout.trim();
    console.log(`container before: ${containerBefore}`);
    assert.match(containerBefore, /^[0-9a-f]{64} \S+$/);
  });

  it('hosts renew --dry-run lists the server certificate it would rotate; changes nothing', () => {
    const before = served();
    const res = admin(['hosts', 'renew', '--within', '400d', '--dry-run']);
    assert.equal(res.code, 0, show(res));
    assert.match(res.stdout, /alpha: server certificate \S+ \(native\) would rotate/);
    assert.equal(served(), before);
  });

  it('hosts renew --within 400d rotates the server certificate: new one served, container kept, downtime printed', () => {
    const oldServed = served();
    const oldKey = a.exec(['sha256sum', '/etc/docker/tls/key.pem']).stdout.split(' ')[0];
    const res = admin(['hosts', 'renew', '--within', '400d']);
    assert.equal(res.code, 0, show(res));
    assert.match(
      res.stdout,
      /alpha: server certificate \S+ \(native\) rotated: serial [0-9a-f]+ -> [0-9a-f]+/,
    );
    const downtime = /downtime\s+(\d+) ms/.exec(res.stdout);
    assert.ok(downtime, res.stdout);
    assert.match(res.stdout, /containers\s+1 kept running/);
    const newServed = served();
    assert.notEqual(newServed, oldServed);
    assert.match(res.stdout, new RegExp(`served\\s+SHA-256 ${newServed}`));
    // A new key, made on the host.
    assert.notEqual(a.exec(['sha256sum', '/etc/docker/tls/key.pem']).stdout.split(' ')[0], oldKey);
    const after = docker([
      'inspect',
      '--format',
      '{{.Id}} {{.State.StartedAt}} {{.State.Running}}',
      'longrun',
    ]);
    assert.equal(after.stdout.trim(), `${containerBefore} true`, show(after));
    console.log(`served before ${oldServed}\nserved after  ${newServed}\ndowntime ${downtime[1]} ms`);
    const status = admin(['hosts', 'status']);
    assert.equal(status.code, 0, show(status));
    const info = docker(['info', '--format', '{{.Name}}']);
    assert.equal(info.stdout.trim(), 'alpha', show(info));
  });

  it('a host install whose apply fails puts the previous TLS files back byte-identical; the old certificate is served', () => {
    const filesBefore = tlsFiles();
    const servedBefore = served();
    const req = a.dockward(['--json', 'host', 'request', '--san', `IP:${a.ipv4}`, '--out', '/root/bad.csr']);
    assert.equal(req.code, 0, show(req));
    writeFileSync(join(work, 'bad.csr'), a.exec(['cat', '/root/bad.csr']).stdout);
    const sign = admin([
      'pki',
      'sign',
      join(work, 'bad.csr'),
      '--name',
      'alpha-bad',
      '--out',
      join(work, 'bad/cert.pem'),
    ]);
    assert.equal(sign.code, 0, show(sign));
    for (const f of ['cert.pem', 'ca.pem']) {
      const copy = a.exec(['sh', '-c', `cat > /root/bad-${f}`], {
        input: readFileSync(join(work, 'bad', f), 'utf8'),
      });
      assert.equal(copy.code, 0, show(copy));
    }
    // 198.18.0.99 is no address of alpha: dockerd cannot bind it and does not start.
    const install = a.dockward([
      'host',
      'install',
      '--cert',
      '/root/bad-cert.pem',
      '--ca',
      '/root/bad-ca.pem',
      '--listen',
      '198.18.0.99:2376',
      '--timeout',
      '30',
    ]);
    console.log(
      `$ dockward host install --listen 198.18.0.99:2376 (on alpha)\n${install.stdout}${install.stderr}`,
    );
    assert.notEqual(install.code, 0, show(install));
    assert.match(install.stderr, /rolled back/);
    assert.match(
      install.stderr,
      /put back the previous \/etc\/docker\/tls\/ca\.pem, \/etc\/docker\/tls\/cert\.pem, \/etc\/docker\/tls\/key\.pem|put back the previous/,
    );
    assert.equal(tlsFiles(), filesBefore);
    console.log(`TLS files after the failed install (sha256sum):\n${filesBefore}`);
    assert.equal(served(), servedBefore);
    assert.equal(docker(['info', '--format', '{{.Name}}']).stdout.trim(), 'alpha');
  });

  it('the audit on the native host warns that revocation cannot be enforced there', () => {
    const audit = a.dockward(['audit', '--include', 'revocation-unenforceable']);
    console.log(`$ dockward audit --include revocation-unenforceable (on alpha)\n${audit.stdout}`);
    assert.match(audit.stdout, /revocation-unenforceable/);
    assert.match(audit.stdout, /warn/i);
    assert.match(audit.stdout, /moby#27778/);
  });
});

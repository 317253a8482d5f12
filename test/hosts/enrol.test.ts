// Enrolment that never moves a private key, on two real systemd hosts (test/hosts/lab.ts): host a
// by `hosts provision` over the system ssh from the admin namespace, host b by the offline
// `host request` / `pki sign` / `host install` path. Only CSRs and certificates cross the network;
// the search at the end shows no CA key on either host and that each serves the key it made.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandResult, Lab, type LabHost, REPO } from './lab.js';

function show(res: CommandResult): string {
  return `exit ${res.code} after ${res.ms} ms\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
}

describe('enrolment without moving a private key', () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;
  let work = '';
  let home = '';
  let dockerConfig = '';
  let knownHosts = '';
  let identity = '';
  /** bravo's SSH host key line, kept out of known_hosts until the refusal was shown. */
  let bravoHostKey = '';

  before(async () => {
    lab = await Lab.start([
      { name: 'alpha', octet: 21 },
      { name: 'bravo', octet: 22 },
    ]);
    a = lab.host('alpha');
    b = lab.host('bravo');
    work = mkdtempSync(join(tmpdir(), 'dw-lab-enrol-'));
    home = join(work, 'home');
    dockerConfig = join(work, 'docker');
    knownHosts = join(work, 'known_hosts');
    identity = join(work, 'id_ed25519');
  });

  after(async () => {
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** dockward on the admin machine (the admin namespace), with its own state folder: the CA lives here only. */
  function admin(args: readonly string[]): CommandResult {
    const res = lab.admin(['node', join(REPO, 'bin/dockward.js'), ...args], {
      env: { DOCKWARD_HOME: home, DOCKER_CONFIG: dockerConfig, HOME: work },
      timeoutMs: 240_000,
    });
    console.log(`$ dockward ${args.join(' ')}\n${res.stdout}${res.stderr}`);
    return res;
  }

  function docker(args: readonly string[]): CommandResult {
    return lab.admin(['docker', ...args], {
      env: { DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '' },
      timeoutMs: 60_000,
    });
  }

  /** SHA-256 of the DER public key of what the host serves on 2376, read with openssl from the admin namespace. */
  function servedKey(address: string): string {
    const res = lab.admin([
      'sh',
      '-c',
      `openssl s_client -connect ${address}:2376 </dev/null 2>/dev/null | openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum`,
    ]);
    const fp = /^([0-9a-f]{64})/.exec(res.stdout)?.[1];
    assert.ok(fp, show(res));
    return fp;
  }

  /** SHA-256 of the DER public key of a private key file on a host. */
  function hostKey(host: LabHost, path: string): string {
    const res = host.exec(['sh', '-c', `openssl pkey -in ${path} -pubout -outform DER | sha256sum`]);
    const fp = /^([0-9a-f]{64})/.exec(res.stdout)?.[1];
    assert.ok(fp, show(res));
    return fp;
  }

  /** Every private key file on the host's own file system, with its public key's SHA-256. */
  function privateKeysOn(host: LabHost): { path: string; publicKey: string }[] {
    const res = host.exec([
      'sh',
      '-c',
      `find / -xdev -type f \\( -name '*.pem' -o -name '*.key' -o -name '*_key' \\) 2>/dev/null | while read -r f; do
         grep -q 'PRIVATE KEY' "$f" 2>/dev/null || continue
         echo "$f $(openssl pkey -in "$f" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)"
       done`,
    ]);
    assert.equal(res.code, 0, show(res));
    console.log(`${host.name}: private keys found by find / -xdev:\n${res.stdout}`);
    return res.stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [path = '', publicKey = ''] = l.split(' ');
        return { path, publicKey };
      });
  }

  function startSshd(host: LabHost): string {
    // Fresh SSH host keys: the image's would be the same on every host.
    const res = host.exec([
      'sh',
      '-c',
      'rm -f /etc/ssh/ssh_host_*_key* && ssh-keygen -A >/dev/null && systemctl restart ssh && systemctl is-active ssh',
    ]);
    assert.equal(res.code, 0, show(res));
    // The host key read through the lab's own channel (the console, not the network): the
    // fingerprint check a person does before trusting a host.
    return host.exec(['cat', '/etc/ssh/ssh_host_ed25519_key.pub']).stdout.trim();
  }

  it('sets up the admin machine: a CA, an SSH key, and known_hosts with host alpha only', () => {
    assert.equal(admin(['pki', 'init']).code, 0);
    const keygen = lab.admin(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', identity]);
    assert.equal(keygen.code, 0, show(keygen));
    const pub = readFileSync(`${identity}.pub`, 'utf8');
    for (const host of [a, b]) {
      const hostKeyLine = startSshd(host);
      const auth = host.exec(
        ['sh', '-c', 'umask 077; mkdir -p /root/.ssh && cat >> /root/.ssh/authorized_keys'],
        { input: pub },
      );
      assert.equal(auth.code, 0, show(auth));
      if (host === a)
        writeFileSync(knownHosts, `${a.ipv4} ${hostKeyLine.split(' ').slice(0, 2).join(' ')}\n`);
      else bravoHostKey = `${b.ipv4} ${hostKeyLine.split(' ').slice(0, 2).join(' ')}\n`;
    }
  });

  it('refuses a host whose SSH key is not in known_hosts, with the ssh-keyscan hint, and runs nothing there', () => {
    const res = admin([
      'hosts',
      'provision',
      'bravo',
      '--ssh',
      `root@${b.ipv4}`,
      '--known-hosts',
      knownHosts,
      '--identity',
      identity,
    ]);
    assert.equal(res.code, 1, show(res));
    assert.match(res.stderr, /DW_E_SSH_HOST_KEY/);
    assert.match(res.stderr, /ssh-keyscan/);
    assert.equal(b.exec(['test', '-e', '/etc/docker/tls/request-key.pem']).code, 1);
  });

  it('says clearly when dockward is not installed on the host, and changes nothing there', () => {
    const kh = join(work, 'known_hosts.bravo');
    writeFileSync(kh, bravoHostKey);
    assert.equal(b.exec(['mv', '/usr/local/bin/dockward', '/usr/local/bin/dockward.away']).code, 0);
    try {
      const res = admin([
        'hosts',
        'provision',
        'bravo',
        '--ssh',
        `root@${b.ipv4}`,
        '--known-hosts',
        kh,
        '--identity',
        identity,
      ]);
      assert.equal(res.code, 1, show(res));
      assert.match(res.stderr, /dockward is not installed on 198\.18\.0\.22 \[DW_E_DEPENDENCY\]/);
      assert.equal(b.exec(['test', '-e', '/etc/docker/tls/request-key.pem']).code, 1);
    } finally {
      b.exec(['mv', '/usr/local/bin/dockward.away', '/usr/local/bin/dockward']);
    }
  });

  it('provisions host alpha over ssh; docker --context alpha info works from the admin namespace', () => {
    const res = admin([
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
    assert.equal(res.code, 0, show(res));
    assert.match(res.stderr, /ssh root@198\.18\.0\.21: dockward --json host request/);
    const info = docker(['--context', 'alpha', 'info', '--format', '{{.Name}}']);
    assert.equal(info.code, 0, show(info));
    assert.equal(info.stdout.trim(), 'alpha');
    // The served key is the one the host made and holds, 0400 root.
    assert.equal(servedKey(a.ipv4), hostKey(a, '/etc/docker/tls/key.pem'));
    const mode = a.exec(['stat', '-c', '%a %U', '/etc/docker/tls/key.pem', '/etc/docker/tls/cert.pem']);
    assert.equal(mode.stdout.trim(), '400 root\n444 root');
    assert.equal(a.exec(['test', '-e', '/etc/docker/tls/request-key.pem']).code, 1);
    const status = admin(['hosts', 'status']);
    assert.equal(status.code, 0, show(status));
    assert.match(status.stdout, /\balpha\s+tcp:\/\/198\.18\.0\.21:2376\s+yes\b.*\b36[45]d\b/);
  });

  it('enrols host bravo offline: host request, pki sign, host install; docker --tlsverify info works', () => {
    const req = b.dockward(['--json', 'host', 'request', '--san', `IP:${b.ipv4}`, '--out', '/root/b.csr']);
    assert.equal(req.code, 0, show(req));
    const requested = JSON.parse(req.stdout) as { publicKeyFingerprint: string; keyPath: string };
    assert.equal(requested.keyPath, '/etc/docker/tls/request-key.pem');
    assert.doesNotMatch(req.stdout + req.stderr, /PRIVATE KEY/);
    writeFileSync(join(work, 'b.csr'), b.exec(['cat', '/root/b.csr']).stdout);
    const sign = admin(['pki', 'sign', join(work, 'b.csr'), '--out', join(work, 'b/cert.pem')]);
    assert.equal(sign.code, 0, show(sign));
    for (const f of ['cert.pem', 'ca.pem']) {
      const copy = b.exec(['sh', '-c', `cat > /root/b-${f}`], {
        input: readFileSync(join(work, 'b', f), 'utf8'),
      });
      assert.equal(copy.code, 0, show(copy));
    }
    const install = b.dockward(['host', 'install', '--cert', '/root/b-cert.pem', '--ca', '/root/b-ca.pem']);
    console.log(`$ dockward host install (on b)\n${install.stdout}${install.stderr}`);
    assert.equal(install.code, 0, show(install));
    assert.equal(admin(['pki', 'issue', 'client', 'b-admin', '--ou', 'admin']).code, 0);
    const certs = join(home, 'pki/issued/b-admin');
    const info = docker([
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '--tlscert',
      join(certs, 'cert.pem'),
      '--tlskey',
      join(certs, 'key.pem'),
      '-H',
      `tcp://${b.ipv4}:2376`,
      'info',
      '--format',
      '{{.Name}}',
    ]);
    assert.equal(info.code, 0, show(info));
    assert.equal(info.stdout.trim(), 'bravo');
    assert.equal(servedKey(b.ipv4), requested.publicKeyFingerprint);
    assert.equal(hostKey(b, '/etc/docker/tls/key.pem'), requested.publicKeyFingerprint);
  });

  it('leaves no CA private key on either host; each holds only its own server key', () => {
    const ca = lab.admin([
      'sh',
      '-c',
      `openssl pkey -in ${join(home, 'pki/ca-key.pem')} -pubout -outform DER | sha256sum`,
    ]);
    const caKey = /^([0-9a-f]{64})/.exec(ca.stdout)?.[1];
    assert.ok(caKey, show(ca));
    console.log(`CA public key SHA-256 (admin machine): ${caKey}`);
    for (const host of [a, b]) {
      const keys = privateKeysOn(host);
      assert.ok(!keys.some((k) => k.publicKey === caKey), `${host.name} holds the CA key`);
      assert.ok(!keys.some((k) => /ca-key/.test(k.path)));
      const tlsKeys = keys.filter((k) => k.path.startsWith('/etc/docker/'));
      assert.deepEqual(
        tlsKeys.map((k) => k.path),
        ['/etc/docker/tls/key.pem'],
      );
      const served = servedKey(host.ipv4);
      console.log(`${host.name}: served certificate's public key SHA-256: ${served}`);
      assert.equal(tlsKeys[0]?.publicKey, served);
      const audit = host.dockward(['audit', '--include', 'ca-key-on-host']);
      assert.match(audit.stdout, /pass.*ca-key-on-host|ca-key-on-host.*pass/i, show(audit));
    }
  });

  it("fails the audit's ca-key-on-host once a dockward home with a CA sits on a TLS host", () => {
    assert.equal(b.dockward(['pki', 'init']).code, 0);
    const audit = b.dockward(['audit', '--include', 'ca-key-on-host']);
    console.log(`$ dockward audit --include ca-key-on-host (on b, after pki init there)\n${audit.stdout}`);
    assert.equal(audit.code, 1, show(audit));
    assert.match(audit.stdout, /\/root\/\.dockward\/pki\/ca-key\.pem/);
  });
});

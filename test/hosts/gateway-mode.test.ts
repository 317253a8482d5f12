// Issue 14, gateway mode from the admin machine: `hosts provision --mode native --allow` and
// `hosts provision --mode gateway` of two fresh systemd hosts (test/hosts/lab.ts), with no CA key
// on either; then a revocation on the admin machine reaching the gateway-mode host by itself
// (pki revoke pushes the CRL over ssh, the gateway reloads with --close-revoked): the revoked
// client's open `docker events` stream ends at once while another client's keeps running.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandResult, Lab, type LabHost, REPO } from './lab.js';

function show(res: CommandResult): string {
  return `exit ${res.code} after ${res.ms} ms\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
}

describe('hosts provision --mode gateway|native and revocation pushed to gateway-mode hosts', () => {
  let lab: Lab;
  let nat: LabHost;
  let gw: LabHost;
  let work = '';
  let home = '';
  let dockerConfig = '';
  let knownHosts = '';
  let identity = '';
  const streams: ChildProcess[] = [];

  before(async () => {
    lab = await Lab.start([
      { name: 'nat', octet: 41 },
      { name: 'gw', octet: 42 },
    ]);
    nat = lab.host('nat');
    gw = lab.host('gw');
    lab.addClient('stranger', 52);
    work = mkdtempSync(join(tmpdir(), 'dw-lab-gwmode-'));
    home = join(work, 'home');
    dockerConfig = join(work, 'docker');
    knownHosts = join(work, 'known_hosts');
    identity = join(work, 'id_ed25519');
  });

  after(async () => {
    for (const s of streams) s.kill('SIGKILL');
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** dockward on the admin machine, with its own state folder: the CA lives here only. */
  function admin(args: readonly string[]): CommandResult {
    const res = lab.admin(['node', join(REPO, 'bin/dockward.js'), ...args], {
      env: { DOCKWARD_HOME: home, DOCKER_CONFIG: dockerConfig, HOME: work },
      timeoutMs: 240_000,
    });
    console.log(`$ dockward ${args.join(' ')}\n${res.stdout}${res.stderr}`);
    return res;
  }

  /** The same, without blocking the event loop (streams are timed meanwhile). */
  function adminAsync(args: readonly string[]): Promise<CommandResult> {
    const started = Date.now();
    const child = spawn(
      'nsenter',
      [`--net=/run/netns/${lab.adminNs}`, '--', 'node', join(REPO, 'bin/dockward.js'), ...args],
      { env: { ...process.env, DOCKWARD_HOME: home, DOCKER_CONFIG: dockerConfig, HOME: work } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    return new Promise((resolve) =>
      child.on('close', (code) => {
        console.log(`$ dockward ${args.join(' ')}\n${stdout}${stderr}`);
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      }),
    );
  }

  function docker(args: readonly string[]): CommandResult {
    return lab.admin(['docker', ...args], {
      env: { DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '' },
      timeoutMs: 60_000,
    });
  }

  /** docker with an issued client certificate of the admin PKI, against a host's 2376. */
  function tlsArgs(cert: string, host: LabHost): string[] {
    const dir = join(home, 'pki/issued', cert);
    return [
      '--tlsverify',
      '--tlscacert',
      join(dir, 'ca.pem'),
      '--tlscert',
      join(dir, 'cert.pem'),
      '--tlskey',
      join(dir, 'key.pem'),
      '-H',
      `tcp://${host.ipv4}:2376`,
    ];
  }

  /** A long-running `docker events` from the admin namespace; resolves its exit time. */
  function eventsStream(cert: string, host: LabHost): { child: ChildProcess; ended: Promise<number> } {
    const child = spawn(
      'nsenter',
      [`--net=/run/netns/${lab.adminNs}`, '--', 'docker', ...tlsArgs(cert, host), 'events'],
      { env: { ...process.env, DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '' }, stdio: 'ignore' },
    );
    streams.push(child);
    const ended = new Promise<number>((resolve) => child.on('exit', () => resolve(Date.now())));
    return { child, ended };
  }

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

  function hostKey(host: LabHost, path: string): string {
    const res = host.exec(['sh', '-c', `openssl pkey -in ${path} -pubout -outform DER | sha256sum`]);
    const fp = /^([0-9a-f]{64})/.exec(res.stdout)?.[1];
    assert.ok(fp, show(res));
    return fp;
  }

  function provision(host: LabHost, extra: readonly string[]): CommandResult {
    return admin([
      'hosts',
      'provision',
      host.name,
      '--ssh',
      `root@${host.ipv4}`,
      '--known-hosts',
      knownHosts,
      '--identity',
      identity,
      '--role',
      'admin',
      ...extra,
    ]);
  }

  it('sets up the admin machine: a CA, an SSH key, and both hosts in known_hosts', () => {
    assert.equal(admin(['pki', 'init']).code, 0);
    const keygen = lab.admin(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', identity]);
    assert.equal(keygen.code, 0, show(keygen));
    const pub = readFileSync(`${identity}.pub`, 'utf8');
    let lines = '';
    for (const host of [nat, gw]) {
      const res = host.exec([
        'sh',
        '-c',
        'rm -f /etc/ssh/ssh_host_*_key* && ssh-keygen -A >/dev/null && systemctl restart ssh && systemctl is-active ssh',
      ]);
      assert.equal(res.code, 0, show(res));
      const auth = host.exec(
        ['sh', '-c', 'umask 077; mkdir -p /root/.ssh && cat >> /root/.ssh/authorized_keys'],
        { input: pub },
      );
      assert.equal(auth.code, 0, show(auth));
      const key = host.exec(['cat', '/etc/ssh/ssh_host_ed25519_key.pub']).stdout.trim();
      lines += `${host.ipv4} ${key.split(' ').slice(0, 2).join(' ')}\n`;
    }
    writeFileSync(knownHosts, lines);
  });

  it('provisions nat in native mode with --allow for the admin only: the admin works, a stranger is refused', (t) => {
    const res = provision(nat, ['--mode', 'native', '--allow', `${lab.adminIpv4}/32`]);
    assert.equal(res.code, 0, show(res));
    assert.match(res.stdout, /native TLS: dockerd serves it/);
    const info = docker(['--context', 'nat', 'info', '--format', '{{.Name}}']);
    assert.equal(info.code, 0, show(info));
    assert.equal(info.stdout.trim(), 'nat');
    const stranger = lab.client('stranger', [
      'sh',
      '-c',
      `echo | timeout 5 openssl s_client -connect ${nat.ipv4}:2376`,
    ]);
    assert.notEqual(stranger.code, 0, show(stranger));
    assert.match(stranger.stdout + stranger.stderr, /refused|errno=111|connect:/i);
    const table = nat.exec(['nft', 'list', 'table', 'inet', 'dockward']);
    assert.match(
      table.stdout,
      new RegExp(`tcp dport 2376 ip saddr ${lab.adminIpv4.replace(/\./g, '\\.')} accept`),
    );
    const hosts = JSON.parse(readFileSync(join(home, 'hosts.json'), 'utf8')) as {
      hosts: { name: string; provisioned?: { mode: string } }[];
    };
    assert.equal(hosts.hosts.find((h) => h.name === 'nat')?.provisioned?.mode, 'native');
    t.diagnostic(
      `docker --context nat info: ${info.stdout.trim()}; stranger: ${stranger.stderr.trim().split('\n')[0]}`,
    );
  });

  it('provisions gw in gateway mode: dockerd on its unix socket, the gateway service serves the key gw made', (t) => {
    const res = provision(gw, ['--mode', 'gateway']);
    assert.equal(res.code, 0, show(res));
    assert.match(res.stdout, /gateway mode: the dockward-gateway service serves TLS/);
    assert.match(res.stderr, /host request --name gw --tls-dir \/etc\/dockward\/gateway/);
    assert.match(res.stderr, /host install .*--mode gateway/);
    const info = docker(['--context', 'gw', 'info', '--format', '{{.Name}}']);
    assert.equal(info.code, 0, show(info));
    assert.equal(info.stdout.trim(), 'gw');
    assert.doesNotMatch(gw.exec(['cat', '/etc/docker/daemon.json']).stdout, /tcp:\/\//);
    const listeners = gw.exec(['ss', '-ltnp']).stdout;
    assert.doesNotMatch(listeners, /dockerd/);
    assert.match(listeners, /:2376\b.*node|:2376\b.*dockward/);
    const unit = gw.exec(['cat', '/etc/systemd/system/dockward-gateway.service']).stdout;
    assert.match(unit, /--close-revoked/);
    assert.match(unit, /--crl \/etc\/dockward\/gateway\/crl\.pem/);
    assert.equal(servedKey(gw.ipv4), hostKey(gw, '/etc/dockward/gateway/key.pem'));
    const modes = gw.exec([
      'stat',
      '-c',
      '%a %U:%G %n',
      '/etc/dockward/gateway/key.pem',
      '/etc/dockward/gateway/cert.pem',
    ]);
    assert.equal(
      modes.stdout.trim(),
      '440 root:dockward /etc/dockward/gateway/key.pem\n444 root:dockward /etc/dockward/gateway/cert.pem',
    );
    const hosts = JSON.parse(readFileSync(join(home, 'hosts.json'), 'utf8')) as {
      hosts: { name: string; provisioned?: { mode: string } }[];
    };
    assert.equal(hosts.hosts.find((h) => h.name === 'gw')?.provisioned?.mode, 'gateway');
    t.diagnostic(`docker --context gw info: ${info.stdout.trim()}\n${listeners}`);
  });

  it('leaves no CA private key on either host', () => {
    const ca = lab.admin([
      'sh',
      '-c',
      `openssl pkey -in ${join(home, 'pki/ca-key.pem')} -pubout -outform DER | sha256sum`,
    ]);
    const caKey = /^([0-9a-f]{64})/.exec(ca.stdout)?.[1];
    assert.ok(caKey, show(ca));
    for (const host of [nat, gw]) {
      const res = host.exec([
        'sh',
        '-c',
        `find / -xdev -type f \\( -name '*.pem' -o -name '*.key' -o -name '*_key' -o -name '*.bak' \\) 2>/dev/null | while read -r f; do
           grep -q 'PRIVATE KEY' "$f" 2>/dev/null || continue
           echo "$f $(openssl pkey -in "$f" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)"
         done`,
      ]);
      assert.equal(res.code, 0, show(res));
      console.log(`${host.name}: private keys found by find / -xdev:\n${res.stdout}`);
      assert.doesNotMatch(res.stdout, new RegExp(caKey));
      assert.doesNotMatch(res.stdout, /ca-key/);
      const served = servedKey(host.ipv4);
      const dir = host === gw ? '/etc/dockward/gateway' : '/etc/docker/tls';
      assert.match(res.stdout, new RegExp(`${dir}/key\\.pem ${served}`));
    }
  });

  it('pki revoke pushes the CRL to gw: the revoked stream ends at once, another client keeps working', async (t) => {
    for (const name of ['alice', 'bob']) {
      assert.equal(admin(['pki', 'issue', 'client', name, '--ou', 'admin']).code, 0);
    }
    const alice = eventsStream('alice', gw);
    const bob = eventsStream('bob', gw);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(alice.child.exitCode, null, 'alice streams events');
    assert.equal(bob.child.exitCode, null, 'bob streams events');
    // pki revoke runs asynchronously here so the stream's end is timed while it runs.
    const started = Date.now();
    const revoke = await adminAsync(['pki', 'revoke', 'alice']);
    const returned = Date.now();
    assert.equal(revoke.code, 0, show(revoke));
    assert.match(revoke.stdout, /ok\s+gw: CRL installed \(1 revoked\), gateway reloaded/);
    const endedAt = await Promise.race([
      alice.ended,
      new Promise<number>((r) => setTimeout(() => r(-1), 5_000)),
    ]);
    assert.notEqual(endedAt, -1, 'alice’s events stream did not end within 5 s after pki revoke returned');
    assert.equal(bob.child.exitCode, null, 'bob’s stream is still open');
    // docker info prints the daemon's refusal but exits 0; docker version exits non-zero.
    const refused = docker([...tlsArgs('alice', gw), 'info', '--format', '{{.Name}}']);
    assert.equal(refused.stdout.trim(), '', show(refused));
    assert.match(refused.stderr, /client certificate refused: certificate revoked/);
    const version = docker([...tlsArgs('alice', gw), 'version', '--format', '{{.Server.Version}}']);
    assert.notEqual(version.code, 0, show(version));
    const ok = docker([...tlsArgs('bob', gw), 'info', '--format', '{{.Name}}']);
    assert.equal(ok.code, 0, show(ok));
    assert.equal(ok.stdout.trim(), 'gw');
    t.diagnostic(
      `pki revoke took ${returned - started} ms (revoke + ssh push + reload); alice's docker events ended ${endedAt - started} ms after it started; alice's docker info: ${refused.stderr.trim().split('\n')[0]}; bob's docker info: ${ok.stdout.trim()}`,
    );
  });

  it('hosts push-crl retries per host: ok on the gateway-mode host, a clear failure for a native one', () => {
    const res = admin(['hosts', 'push-crl', 'gw', 'nat']);
    assert.equal(res.code, 1, show(res));
    assert.match(res.stdout, /ok\s+gw: CRL installed/);
    assert.match(res.stdout, /FAIL nat: native TLS: dockerd cannot read a CRL/);
    assert.match(res.stderr, /DW_E_CRL_PUSH/);
    const all = admin(['hosts', 'push-crl']);
    assert.equal(all.code, 0, show(all));
    assert.match(all.stdout, /ok\s+gw: CRL installed \(1 revoked\), gateway reloaded/);
  });

  it('host install --mode gateway again reloads the running gateway instead of restarting it', () => {
    const pid = () =>
      gw
        .exec(['systemctl', 'show', '--property=MainPID', '--value', 'dockward-gateway.service'])
        .stdout.trim();
    const before = pid();
    // A fresh key and certificate through the same offline path, installed over the live pair.
    const req = gw.dockward([
      '--json',
      'host',
      'request',
      '--tls-dir',
      '/etc/dockward/gateway',
      '--name',
      'gw',
      '--san',
      `IP:${gw.ipv4}`,
      '--out',
      '/root/gw.csr',
    ]);
    assert.equal(req.code, 0, show(req));
    writeFileSync(join(work, 'gw.csr'), gw.exec(['cat', '/root/gw.csr']).stdout);
    const sign = admin([
      'pki',
      'sign',
      join(work, 'gw.csr'),
      '--out',
      join(work, 'gw/cert.pem'),
      '--replace',
    ]);
    assert.equal(sign.code, 0, show(sign));
    for (const f of ['cert.pem', 'ca.pem']) {
      assert.equal(
        gw.exec(['sh', '-c', `cat > /root/gw-${f}`], { input: readFileSync(join(work, 'gw', f), 'utf8') })
          .code,
        0,
      );
    }
    const install = gw.dockward([
      'host',
      'install',
      '--mode',
      'gateway',
      '--cert',
      '/root/gw-cert.pem',
      '--ca',
      '/root/gw-ca.pem',
    ]);
    console.log(`$ dockward host install --mode gateway (on gw, again)\n${install.stdout}${install.stderr}`);
    assert.equal(install.code, 0, show(install));
    assert.match(install.stdout, /reloaded \(SIGHUP, connections kept\)/);
    assert.equal(pid(), before, 'same gateway process');
    assert.equal(servedKey(gw.ipv4), hostKey(gw, '/etc/dockward/gateway/key.pem'));
    const info = docker(['--context', 'gw', 'info', '--format', '{{.Name}}']);
    assert.equal(info.code, 0, show(info));
  });

  it('hosts renew --within 400d rotates the gateway-mode host by a reload: new key made on gw, served, same gateway process', () => {
    const pid = () =>
      gw
        .exec(['systemctl', 'show', '--property=MainPID', '--value', 'dockward-gateway.service'])
        .stdout.trim();
    const before = { pid: pid(), served: servedKey(gw.ipv4) };
    const res = admin(['hosts', 'renew', 'gw', '--within', '400d']);
    assert.equal(res.code, 0, show(res));
    assert.match(res.stdout, /gw: server certificate \S+ \(gateway\) rotated: serial [0-9a-f]+ -> [0-9a-f]+/);
    const downtime = /downtime\s+(\d+) ms/.exec(res.stdout);
    assert.ok(downtime, res.stdout);
    const served = servedKey(gw.ipv4);
    assert.notEqual(served, before.served, 'a new certificate is served');
    assert.equal(served, hostKey(gw, '/etc/dockward/gateway/key.pem'), 'for the key gw made');
    assert.equal(pid(), before.pid, 'reloaded, not restarted');
    const info = docker(['--context', 'gw', 'info', '--format', '{{.Name}}']);
    assert.equal(info.code, 0, show(info));
    assert.equal(info.stdout.trim(), 'gw');
    console.log(
      `gw served key before ${before.served}\ngw served key after  ${served}\ndowntime ${downtime[1]} ms`,
    );
  });

  it('host install --mode gateway on a native-TLS host takes dockerd back to its unix socket', () => {
    const req = nat.dockward([
      '--json',
      'host',
      'request',
      '--tls-dir',
      '/etc/dockward/gateway',
      '--name',
      'nat-gw',
      '--san',
      `IP:${nat.ipv4}`,
      '--out',
      '/root/nat.csr',
    ]);
    assert.equal(req.code, 0, show(req));
    writeFileSync(join(work, 'nat.csr'), nat.exec(['cat', '/root/nat.csr']).stdout);
    const sign = admin(['pki', 'sign', join(work, 'nat.csr'), '--out', join(work, 'nat/cert.pem')]);
    assert.equal(sign.code, 0, show(sign));
    const files: [string, string][] = [
      ['cert.pem', join(work, 'nat/cert.pem')],
      ['ca.pem', join(work, 'nat/ca.pem')],
      ['crl.pem', join(home, 'pki/crl.pem')],
    ];
    for (const [name, from] of files) {
      const copy = nat.exec(['sh', '-c', `cat > /root/nat-${name}`], { input: readFileSync(from, 'utf8') });
      assert.equal(copy.code, 0, show(copy));
    }
    const install = nat.dockward([
      'host',
      'install',
      '--mode',
      'gateway',
      '--cert',
      '/root/nat-cert.pem',
      '--ca',
      '/root/nat-ca.pem',
      '--crl',
      '/root/nat-crl.pem',
    ]);
    console.log(
      `$ dockward host install --mode gateway (on nat, native before)\n${install.stdout}${install.stderr}`,
    );
    assert.equal(install.code, 0, show(install));
    assert.match(install.stdout, /dockerd\s+tcp:\/\/0\.0\.0\.0:2376 removed: unix socket only/);
    assert.doesNotMatch(nat.exec(['cat', '/etc/docker/daemon.json']).stdout, /tcp:\/\/|tlsverify/);
    assert.doesNotMatch(nat.exec(['ss', '-ltnp']).stdout, /dockerd/);
    const ok = docker([...tlsArgs('bob', nat), 'info', '--format', '{{.Name}}']);
    assert.equal(ok.code, 0, show(ok));
    assert.equal(ok.stdout.trim(), 'nat');
    const revoked = docker([...tlsArgs('alice', nat), 'version', '--format', '{{.Server.Version}}']);
    assert.notEqual(revoked.code, 0, 'the CRL installed with it refuses alice here too');
  });
});

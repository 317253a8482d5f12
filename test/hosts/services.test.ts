// Issue 14 on real systemd hosts: trusted IPs for native TLS (init --allow, nftables), and the
// gateway as a systemd service (init --mode gateway, service install|status|uninstall), each
// driven from the admin namespace with the real docker CLI. h1 runs native TLS, h2 gateway mode;
// a second client namespace ("stranger") stands for a source the firewall must refuse.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandResult, Lab, type LabHost } from './lab.js';

function show(res: CommandResult): string {
  return `exit ${res.code} after ${res.ms} ms\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
}

describe('trusted IPs and dockward services on systemd hosts', () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let work = '';

  before(async () => {
    lab = await Lab.start([
      { name: 'h1', octet: 11 },
      { name: 'h2', octet: 12 },
    ]);
    h1 = lab.host('h1');
    h2 = lab.host('h2');
    lab.addClient('stranger', 50);
    work = mkdtempSync(join(tmpdir(), 'dw-lab-services-'));
  });

  after(async () => {
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The admin certificate of a host's PKI, copied out to the test machine. */
  function adminCerts(host: LabHost): string {
    const dir = join(work, host.name);
    mkdirSync(dir, { recursive: true });
    const issued = join(host.root, `root/.dockward/pki/issued/${host.name}-admin`);
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) copyFileSync(join(issued, f), join(dir, f));
    chmodSync(join(dir, 'key.pem'), 0o600);
    return dir;
  }

  function dockerArgs(certs: string, host: LabHost, args: readonly string[]): string[] {
    return [
      'docker',
      '--tlsverify',
      '--tlscacert',
      join(certs, 'ca.pem'),
      '--tlscert',
      join(certs, 'cert.pem'),
      '--tlskey',
      join(certs, 'key.pem'),
      '-H',
      `tcp://${host.ipv4}:2376`,
      ...args,
    ];
  }

  const dockerEnv = (): NodeJS.ProcessEnv => ({
    DOCKER_CONFIG: join(work, 'docker-config'),
    DOCKER_HOST: '',
  });

  describe('init --allow on a native TLS host', () => {
    let certs = '';

    function fromAdmin(): CommandResult {
      return lab.admin(dockerArgs(certs, h1, ['info', '--format', '{{.ServerVersion}}']), {
        env: dockerEnv(),
        timeoutMs: 60_000,
      });
    }
    function fromStranger(): CommandResult {
      return lab.client('stranger', dockerArgs(certs, h1, ['info', '--format', '{{.ServerVersion}}']), {
        env: dockerEnv(),
        timeoutMs: 60_000,
      });
    }

    it('rejects a malformed --allow before changing anything', () => {
      const res = h1.dockward(['init', '--restart', 'systemd', '--allow', '198.18.0.2/33']);
      assert.equal(res.code, 2, show(res));
      assert.match(res.stderr, /--allow "198\.18\.0\.2\/33" is not an IP address or CIDR/);
      assert.equal(h1.exec(['test', '-e', '/etc/docker/tls/cert.pem']).code, 1, 'nothing was installed');
    });

    it('lets the admin namespace in and refuses another namespace with a reset', (t) => {
      const res = h1.dockward(['init', '--restart', 'systemd', '--allow', `${lab.adminIpv4}/32`]);
      assert.equal(res.code, 0, show(res));
      assert.match(res.stdout, /firewall\s+2376\/tcp only from 198\.18\.0\.2\/32 and loopback/);
      certs = adminCerts(h1);
      const admin = fromAdmin();
      assert.equal(admin.code, 0, show(admin));
      const stranger = fromStranger();
      assert.notEqual(stranger.code, 0, show(stranger));
      // The docker CLI words a reset as "Cannot connect"; bash's connect says what the kernel saw.
      assert.match(stranger.stderr, /Cannot connect|connection refused/i, show(stranger));
      const tcp = lab.client('stranger', ['bash', '-c', `exec 3<>/dev/tcp/${h1.ipv4}/2376`]);
      assert.match(tcp.stderr, /Connection refused/, show(tcp));
      const table = h1.exec(['nft', 'list', 'table', 'inet', 'dockward']);
      t.diagnostic(
        `admin: docker info → ${admin.stdout.trim()}; stranger: ${stranger.stderr.trim()}; stranger's own connect: ${tcp.stderr.trim()}`,
      );
      t.diagnostic(`nft list table inet dockward:\n${table.stdout}`);
    });

    it('shows the port restricted in the audit, and open once the table is gone', (t) => {
      const audit = h1.dockward(['audit', '--json']);
      const findings = JSON.parse(audit.stdout) as {
        findings: Array<{ id: string; status: string; evidence: string[] }>;
      };
      const f = findings.findings.find((x) => x.id === 'tls-port-restricted');
      assert.equal(f?.status, 'pass', JSON.stringify(f));
      // nft lists a /32 as the bare address.
      assert.match(f.evidence.join('\n'), /only from 198\.18\.0\.2\b/);
      t.diagnostic(`tls-port-restricted: ${f.status}: ${f.evidence.join('; ')}`);

      assert.equal(h1.exec(['nft', 'delete', 'table', 'inet', 'dockward']).code, 0);
      const open = JSON.parse(h1.dockward(['audit', '--json']).stdout) as typeof findings;
      const g = open.findings.find((x) => x.id === 'tls-port-restricted');
      assert.equal(g?.status, 'fail', JSON.stringify(g));
      t.diagnostic(`without the table: ${g.status}: ${g.evidence.join('; ')}`);
      assert.equal(h1.exec(['systemctl', 'restart', 'dockward-firewall.service']).code, 0);
      assert.notEqual(fromStranger().code, 0, 'the unit loads the table again');
    });

    it('keeps the restriction across a reboot', async (t) => {
      await h1.reboot();
      const admin = fromAdmin();
      assert.equal(admin.code, 0, show(admin));
      const stranger = fromStranger();
      assert.notEqual(stranger.code, 0, show(stranger));
      assert.match(stranger.stderr, /Cannot connect|connection refused/i);
      const unit = h1.exec(['systemctl', 'is-active', 'dockward-firewall.service']);
      assert.equal(unit.stdout.trim(), 'active', show(unit));
      t.diagnostic(
        `after reboot: admin → ${admin.stdout.trim()}, stranger refused, dockward-firewall.service ${unit.stdout.trim()}`,
      );
    });
  });

  describe('init --mode gateway and dockward service', () => {
    let certs = '';

    function info(): CommandResult {
      return lab.admin(dockerArgs(certs, h2, ['info', '--format', '{{.ServerVersion}} {{.Name}}']), {
        env: dockerEnv(),
        timeoutMs: 60_000,
      });
    }
    /** docker info through the gateway, retried while the service starts (after a boot it comes up after docker.service). */
    async function infoEventually(): Promise<CommandResult> {
      let last = info();
      for (let i = 0; i < 60 && last.code !== 0; i++) {
        await new Promise((r) => setTimeout(r, 500));
        last = info();
      }
      return last;
    }
    function mainPid(): number {
      return Number(
        h2
          .exec(['systemctl', 'show', '--property=MainPID', '--value', 'dockward-gateway.service'])
          .stdout.trim(),
      );
    }
    async function activeAgain(previous: number): Promise<number> {
      for (let i = 0; i < 60; i++) {
        const pid = mainPid();
        if (
          pid > 0 &&
          pid !== previous &&
          h2.exec(['systemctl', 'is-active', 'dockward-gateway.service']).code === 0
        ) {
          // The listener comes up a moment after the process.
          for (let j = 0; j < 40; j++) {
            if (info().code === 0) return pid;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(
        `dockward-gateway.service did not come back:\n${h2.dockward(['service', 'status', 'gateway']).stdout}`,
      );
    }

    it('init --mode gateway on a fresh host: dockerd keeps its unix socket, the gateway serves 2376', (t) => {
      const res = h2.dockward(['init', '--mode', 'gateway']);
      assert.equal(res.code, 0, show(res));
      certs = adminCerts(h2);
      const out = info();
      assert.equal(out.code, 0, show(out));
      const daemonJson = h2.exec(['cat', '/etc/docker/daemon.json']).stdout;
      assert.doesNotMatch(daemonJson, /tcp:\/\//);
      const listeners = h2.exec(['ss', '-ltnp']).stdout;
      assert.doesNotMatch(listeners, /dockerd/);
      const user = h2.exec(['ps', '-o', 'user=', '-p', String(mainPid())]).stdout.trim();
      assert.equal(user, 'dockward');
      t.diagnostic(`init --mode gateway:\n${res.stdout}`);
      t.diagnostic(`docker info through the gateway: ${out.stdout.trim()}; gateway runs as ${user}`);
    });

    it('refuses a revoked client certificate once the new CRL is installed and the gateway reloaded', (t) => {
      const issued = h2.dockward(['pki', 'issue', 'client', 'ops', '--ou', 'operator']);
      assert.equal(issued.code, 0, show(issued));
      const dir = join(work, 'ops');
      mkdirSync(dir, { recursive: true });
      const from = join(h2.root, 'root/.dockward/pki/issued/ops');
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) copyFileSync(join(from, f), join(dir, f));
      chmodSync(join(dir, 'key.pem'), 0o600);
      const version = () =>
        lab.admin(dockerArgs(dir, h2, ['version', '--format', '{{.Server.Version}}']), {
          env: dockerEnv(),
          timeoutMs: 60_000,
        });
      const before = version();
      assert.equal(before.code, 0, show(before));
      assert.equal(h2.dockward(['pki', 'revoke', 'ops']).code, 0);
      // What docs/daemon.md says to do after a revocation in gateway mode.
      const install = h2.exec([
        'install',
        '-m',
        '0444',
        '-g',
        'dockward',
        '/root/.dockward/pki/crl.pem',
        '/etc/dockward/gateway/crl.pem',
      ]);
      assert.equal(install.code, 0, show(install));
      assert.equal(h2.exec(['systemctl', 'reload', 'dockward-gateway.service']).code, 0);
      let after = version();
      for (let i = 0; i < 20 && after.code === 0; i++) {
        h2.exec(['sleep', '0.5']);
        after = version();
      }
      assert.notEqual(after.code, 0, show(after));
      assert.equal(info().code, 0, 'the admin certificate still works');
      t.diagnostic(
        `ops before revoke: ${before.stdout.trim()}; after revoke + reload: ${after.stderr.trim()}`,
      );
    });

    it('service status shows the state and the journal', (t) => {
      const res = h2.dockward(['service', 'status', 'gateway']);
      assert.equal(res.code, 0, show(res));
      assert.match(res.stdout, /dockward-gateway\.service: active \(running\), enabled/);
      t.diagnostic(res.stdout);
    });

    it('survives systemctl restart, kill -9 of its main pid, and reload', async (t) => {
      const first = mainPid();
      assert.equal(h2.exec(['systemctl', 'restart', 'dockward-gateway.service']).code, 0);
      const second = await activeAgain(first);
      assert.equal(h2.exec(['kill', '-9', String(second)]).code, 0);
      const third = await activeAgain(second);
      const reload = h2.exec(['systemctl', 'reload', 'dockward-gateway.service']);
      assert.equal(reload.code, 0, show(reload));
      assert.equal(mainPid(), third, 'a reload keeps the process');
      assert.equal(info().code, 0);
      t.diagnostic(`main pid ${first} → restart ${second} → kill -9 → ${third}; reload kept ${third}`);
    });

    it('comes back after a reboot, and its audit log verifies', async (t) => {
      await h2.reboot();
      const out = await infoEventually();
      assert.equal(out.code, 0, `${show(out)}\n${h2.dockward(['service', 'status', 'gateway']).stdout}`);
      const verify = h2.dockward(['audit-log', 'verify', '/var/log/dockward/gateway.log']);
      assert.equal(verify.code, 0, show(verify));
      t.diagnostic(`after reboot: ${out.stdout.trim()}; audit-log verify: ${verify.stdout.trim()}`);
    });

    it('service uninstall removes it; service install gateway -- FLAGS puts it back', async (t) => {
      const un = h2.dockward(['service', 'uninstall', 'gateway']);
      assert.equal(un.code, 0, show(un));
      assert.equal(h2.exec(['test', '-e', '/etc/systemd/system/dockward-gateway.service']).code, 1);
      assert.notEqual(info().code, 0, 'nothing serves 2376 any more');
      const inst = h2.dockward([
        'service',
        'install',
        'gateway',
        '--',
        '--listen',
        '0.0.0.0:2376',
        '--tls-dir',
        '/etc/dockward/gateway',
        '--crl',
        '/etc/dockward/gateway/crl.pem',
        '--audit-log',
        '/var/log/dockward/gateway.log',
        '--allow',
        '198.18.0.0/24',
        '--allow',
        '127.0.0.0/8',
      ]);
      assert.equal(inst.code, 0, show(inst));
      const unit = h2.exec(['cat', '/etc/systemd/system/dockward-gateway.service']).stdout;
      for (const line of [
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'User=dockward',
        'SupplementaryGroups=docker',
        'Restart=on-failure',
      ])
        assert.ok(unit.includes(line), `${line} in the unit:\n${unit}`);
      const out = info();
      assert.equal(out.code, 0, show(out));
      const verify = h2.dockward(['audit-log', 'verify', '/var/log/dockward/gateway.log']);
      assert.equal(verify.code, 0, show(verify));
      t.diagnostic(
        `service install:\n${inst.stdout}\nunit:\n${unit}\naudit-log verify: ${verify.stdout.trim()}`,
      );
    });

    it('runs the monitor as a service that survives restart, kill -9 and a reboot', async (t) => {
      const unit = 'dockward-monitor.service';
      const inst = h2.dockward([
        'service',
        'install',
        'monitor',
        '--',
        '--audit-log',
        '/var/log/dockward/gateway.log',
        '--docker',
        'unix:///var/run/docker.sock',
        '--sink',
        'file:/var/lib/dockward/alerts.log',
      ]);
      assert.equal(inst.code, 0, show(inst));
      const pid = (): number =>
        Number(h2.exec(['systemctl', 'show', '--property=MainPID', '--value', unit]).stdout.trim());
      const running = async (previous: number): Promise<number> => {
        for (let i = 0; i < 60; i++) {
          const now = pid();
          if (now > 0 && now !== previous && h2.exec(['systemctl', 'is-active', unit]).code === 0) return now;
          await new Promise((r) => setTimeout(r, 500));
        }
        throw new Error(h2.dockward(['service', 'status', 'monitor']).stdout);
      };
      const first = pid();
      const user = h2.exec(['ps', '-o', 'user=', '-p', String(first)]).stdout.trim();
      assert.equal(user, 'dockward');
      assert.equal(h2.exec(['systemctl', 'restart', unit]).code, 0);
      const second = await running(first);
      assert.equal(h2.exec(['kill', '-9', String(second)]).code, 0);
      const third = await running(second);
      await h2.reboot();
      const fourth = await running(0);
      const status = h2.dockward(['service', 'status', 'monitor', '--lines', '5']);
      assert.match(status.stdout, /dockward-monitor\.service: active \(running\), enabled/);
      const verify = h2.dockward(['audit-log', 'verify', '/var/log/dockward/gateway.log']);
      assert.equal(verify.code, 0, show(verify));
      const un = h2.dockward(['service', 'uninstall', 'monitor']);
      assert.equal(un.code, 0, show(un));
      t.diagnostic(
        `monitor as ${user}: pid ${first} → restart ${second} → kill -9 → ${third} → reboot ${fourth}\n${status.stdout}\naudit-log verify after it all: ${verify.stdout.split('\n')[0]}\n${un.stdout}`,
      );
    });
  });
});

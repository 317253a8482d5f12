// `dockward monitor` as a child process, watching a real private dockerd and the gateway's audit
// log; alerts go to a local webhook receiver and local syslog listeners (UDP and TCP).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DOCKWARD_ENTRY,
  e2eSkipReason,
  freeLoopbackPort,
  killGroup,
  type PrivateDockerd,
  REPO_ROOT,
  runCommand,
  runDocker,
  runDockward,
  startDockerd,
  buildBusyboxImage,
  TEST_IMAGE,
} from './harness/index.js';
import {
  type Alert,
  SyslogTcpReceiver,
  SyslogUdpReceiver,
  WebhookReceiver,
  waitFor as waitLong,
} from './support/alert-receivers.js';
import { type GatewayProcess, makePki, type Pki, startGateway } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

/** Waits as long as a dockerd round trip may take on a busy machine. */
const waitFor = (cond: () => boolean, what: string) => waitLong(cond, what, 60_000);

/** The alert JSON after the RFC 5424 header and structured data. */
function syslogAlert(message: string): Alert {
  return JSON.parse(message.slice(message.indexOf('] {') + 2)) as Alert;
}

/** A TLS connection to the gateway from a chosen loopback address: `/_ping`'s status or the error. */
function pingFrom(
  port: number,
  localAddress: string,
  files: { ca: Buffer; cert?: Buffer; key?: Buffer },
): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        path: '/_ping',
        servername: 'localhost',
        agent: false,
        ca: files.ca,
        ...(files.cert ? { cert: files.cert, key: files.key } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', (err) => resolve({ error: err.message }));
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function clientFiles(dir: string): { ca: Buffer; cert: Buffer; key: Buffer } {
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  };
}

/** A running `dockward monitor` child, its output collected. */
class MonitorProcess {
  stdout = '';
  stderr = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private child: ChildProcess;
  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [DOCKWARD_ENTRY, ...args], {
      cwd: REPO_ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (c: Buffer) => {
      this.stdout += c.toString('utf8');
    });
    this.child.stderr!.on('data', (c: Buffer) => {
      this.stderr += c.toString('utf8');
    });
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }
  /** pino log messages seen so far. */
  messages(): string[] {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return String((JSON.parse(l) as { msg?: unknown }).msg ?? '');
        } catch {
          return '';
        }
      });
  }
  count(msg: string): number {
    return this.messages().filter((m) => m === msg).length;
  }
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
  kill(): void {
    killGroup(this.child.pid, 'SIGKILL');
  }
}

const EXTRA_RULES = `
- rule: Reconciled container
  desc: A container the monitor found by listing after a reconnect (its create event was missed).
  condition: docker.type = container and container.reconciled = true
  output: Container found by reconciling (container=%container.name reconciled=%container.reconciled)
  priority: informational
  tags: [test]
`;

describe('dockward monitor', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Pki;
  let other: Pki;
  let gw: GatewayProcess;
  let work: string;
  let receiver: WebhookReceiver;
  const syslogUdp = new SyslogUdpReceiver();
  const syslogTcp = new SyslogTcpReceiver();
  let monitor: MonitorProcess;
  let admin: NodeJS.ProcessEnv;
  let metricsPort: number;

  const alertsOf = (rule: string) => receiver.received.filter((a) => a.rule === rule);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dw-e2e-monitor-'));
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    pki = await makePki({ admin: 'admin', ops: 'operator', viewer: 'readonly', doomed: 'admin' });
    other = await makePki({ stranger: 'admin' });
    gw = await startGateway(dockerd, pki, {
      auditLog: join(work, 'audit', 'gateway.log'),
      auditFeed: join(work, 'feed.sock'),
    });
    admin = gw.envFor('admin');
    receiver = new WebhookReceiver(await freeLoopbackPort());
    await receiver.up();
    await syslogUdp.up();
    await syslogTcp.up();
    metricsPort = await freeLoopbackPort();
    const rules = join(work, 'extra-rules.yaml');
    writeFileSync(rules, EXTRA_RULES);
    monitor = new MonitorProcess(
      [
        '--home',
        join(work, 'home'),
        'monitor',
        '--audit-log',
        join(work, 'audit', 'gateway.log'),
        '--docker',
        dockerd.host,
        '--rules',
        rules,
        '--sink',
        `webhook:${receiver.url}`,
        '--sink',
        `syslog:udp://127.0.0.1:${syslogUdp.port}`,
        '--sink',
        `syslog:tcp://127.0.0.1:${syslogTcp.port}?facility=local0`,
        '--sink',
        'stdout',
        '--json',
        '--reconnect-delay',
        '10000',
        '--metrics',
        `127.0.0.1:${metricsPort}`,
      ],
      { ...dockerd.env, DOCKWARD_LOG_LEVEL: 'info' },
    );
    await waitFor(() => monitor.count('docker events stream connected') >= 1, 'the monitor to connect');
    await waitFor(() => monitor.count('monitor started') >= 1, 'the monitor to start');
  });

  let feedMonitor: MonitorProcess | undefined;

  after(async () => {
    monitor?.kill();
    feedMonitor?.kill();
    await receiver?.down();
    await syslogUdp.down();
    await syslogTcp.down();
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
    other?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const docker = async (args: string[], env: NodeJS.ProcessEnv = admin, ok = true) => {
    const res = await runDocker(args, { env });
    if (ok) assert.equal(res.code, 0, `docker ${args.join(' ')}: ${res.stderr}`);
    return res;
  };

  it('fires each default rule once on its trigger and never on the matching benign action', async () => {
    // Benign actions first: each stream is handled in order, so once the last trigger's alert is
    // in, every benign action before it has been judged too.
    await docker(['create', '--name', 'plain', TEST_IMAGE]);
    await docker(['volume', 'create', 'data']);
    await docker(['create', '--name', 'named-volume', '-v', 'data:/data', TEST_IMAGE]);
    await docker(['create', '--name', 'chown', '--cap-add', 'CHOWN', TEST_IMAGE]);
    await docker(['run', '-d', '--name', 'runner', TEST_IMAGE, 'sleep', '600']);
    await docker(['exec', '-u', '1000', 'runner', 'true']);
    // Health-check execs run as root every second; they are noise and must not alert.
    await docker([
      'run',
      '-d',
      '--name',
      'healthy',
      '--health-cmd',
      'true',
      '--health-interval',
      '1s',
      TEST_IMAGE,
      'sleep',
      '600',
    ]);
    for (let i = 0; i < 60; i++) {
      const res = await docker(['inspect', '-f', '{{.State.Health.Status}}', 'healthy']);
      if (res.stdout.trim() === 'healthy') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await docker(['create', TEST_IMAGE], gw.envFor('viewer'), false); // one denial
    await pingFrom(gw.port, '127.0.0.4', {
      ...clientFiles(other.issuedDir('stranger')),
      ca: readFileSync(pki.caCert),
    });
    await pingFrom(gw.port, '127.0.0.1', clientFiles(pki.issuedDir('admin'))); // a known address

    // Triggers.
    await docker(['create', '--name', 'priv', '--privileged', TEST_IMAGE]);
    await docker(['create', '--name', 'hostroot', '-v', '/:/host', TEST_IMAGE]);
    await docker(['create', '--name', 'hostpid', '--pid', 'host', TEST_IMAGE]);
    await docker(['create', '--name', 'sysadmin', '--cap-add', 'SYS_ADMIN', TEST_IMAGE]);
    await docker(['tag', TEST_IMAGE, 'evil.example.com/x:1']);
    await docker(['create', '--name', 'evil', 'evil.example.com/x:1']);
    // A terminal needs a real pty: script(1) gives the CLI one. -u 1000 keeps the root rule out of it.
    const tty = await runCommand(
      'script',
      [
        '-qec',
        `${process.env['DOCKWARD_TEST_DOCKER_CLI'] ?? '/usr/local/bin/docker'} exec -it -u 1000 runner sh -c "exit 0"`,
        '/dev/null',
      ],
      { env: admin, timeoutMs: 60_000 },
    );
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    await docker(['exec', 'runner', 'true']); // root
    for (let i = 0; i < 5; i++) await docker(['create', '--privileged', TEST_IMAGE], gw.envFor('ops'), false);
    const stranger = {
      ...clientFiles(other.issuedDir('stranger')),
      ca: readFileSync(pki.caCert),
    };
    for (let i = 0; i < 6; i++) await pingFrom(gw.port, '127.0.0.3', stranger);
    assert.equal((await pingFrom(gw.port, '127.0.0.2', clientFiles(pki.issuedDir('admin')))).status, 200);
    await pki.dockward(['pki', 'revoke', 'doomed', '--reason', 'keyCompromise']);
    assert.deepEqual(await gw.reload(), { ok: true });
    // One attempt from its own address: the docker CLI retries a failed handshake several times,
    // which the scanning rule would (rightly) count as well.
    const refused = await pingFrom(gw.port, '127.0.0.5', clientFiles(pki.issuedDir('doomed')));
    assert.notEqual(refused.status, 200);
    dockerd.reload(); // SIGHUP

    const expected: [string, (a: Alert) => boolean][] = [
      ['Privileged container', (a) => a.output.includes('container=priv ')],
      ['Sensitive host mount', (a) => a.output.includes('container=hostroot ')],
      ['Host namespace shared', (a) => a.output.includes('container=hostpid ')],
      ['Dangerous capability added', (a) => a.output.includes('container=sysadmin ')],
      ['Image from untrusted registry', (a) => a.output.includes('container=evil ')],
      ['Terminal shell in container', (a) => a.output.includes('container=runner ')],
      ['Exec as root or privileged', (a) => a.output.includes('container=runner ')],
      ['Burst of policy denials', (a) => a.output.includes('identity=ops ')],
      ['Connection scanning', (a) => a.output.includes('address=127.0.0.3 ')],
      ['Identity from new address', (a) => a.output.includes('identity=admin address=127.0.0.2 ')],
      ['Revoked certificate used', (a) => a.output.includes('address=127.0.0.5 ')],
      ['Daemon configuration reloaded', () => true],
    ];
    await waitFor(
      () => expected.every(([rule]) => alertsOf(rule).length >= 1),
      `every default rule (missing: ${expected
        .filter(([r]) => alertsOf(r).length === 0)
        .map(([r]) => r)
        .join(', ')})`,
    );
    // The last triggers of each stream are in: everything before them was judged.
    for (const [rule, matches] of expected) {
      const got = alertsOf(rule);
      assert.equal(got.length, 1, `${rule}: ${got.map((a) => a.output).join(' | ')}`);
      assert.ok(matches(got[0]!), `${rule} fired on the wrong action: ${got[0]!.output}`);
    }
    assert.equal(receiver.received.length, expected.length, receiver.received.map((a) => a.rule).join(', '));
    for (const a of receiver.received) {
      assert.deepEqual(Object.keys(a).sort(), [
        'hostname',
        'output',
        'output_fields',
        'priority',
        'rule',
        'source',
        'tags',
        'time',
        'uuid',
      ]);
    }
    // The same alerts reached both syslog listeners, in RFC 5424 form.
    await waitFor(
      () => syslogUdp.messages.length >= expected.length && syslogTcp.messages.length >= expected.length,
      'syslog',
    );
    const uuids = receiver.received.map((a) => a.uuid).sort();
    assert.deepEqual(syslogUdp.messages.map((m) => syslogAlert(m).uuid).sort(), uuids);
    assert.deepEqual(syslogTcp.messages.map((m) => syslogAlert(m).uuid).sort(), uuids);
    const priv = syslogUdp.messages.find((m) => syslogAlert(m).rule === 'Privileged container')!;
    assert.match(
      priv,
      /^<34>1 \S+ \S+ dockward \d+ alert \[dockward@32473 rule="Privileged container" priority="Critical" /,
    );
    // Prometheus counts them by rule and priority.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(
      metrics,
      /dockward_monitor_alerts_total\{rule="Privileged container",priority="Critical"\} 1/,
    );
    const privTcp = syslogTcp.messages.find((m) => syslogAlert(m).rule === 'Privileged container')!;
    assert.match(privTcp, /^<130>1 /); // local0 * 8 + critical
  });

  it('delivers every alert exactly once and in order after the webhook receiver was down', async () => {
    const before = receiver.received.length;
    const failures = monitor.count('webhook delivery failed; alerts stay spooled');
    await receiver.down();
    for (const name of ['down1', 'down2', 'down3']) {
      await docker(['create', '--name', name, '--privileged', TEST_IMAGE], dockerd.env);
    }
    await waitFor(
      () => syslogUdp.messages.filter((m) => /container=down\d/.test(syslogAlert(m).output)).length >= 3,
      'the alerts at the other sinks',
    );
    await waitFor(
      () => monitor.count('webhook delivery failed; alerts stay spooled') > failures,
      'a failed delivery',
    );
    await receiver.up();
    await waitFor(() => receiver.received.length >= before + 3, 'the spooled alerts');
    const late = receiver.received.slice(before);
    assert.deepEqual(
      late.map((a) => /container=(\S+)/.exec(a.output)?.[1]),
      ['down1', 'down2', 'down3'],
    );
    const ids = receiver.received.map((a) => a.uuid);
    assert.equal(new Set(ids).size, ids.length, 'no alert was delivered twice');
  });

  it('resumes after dockerd restarts and evaluates a container created while it was away', async () => {
    const connected = monitor.count('docker events stream connected');
    await dockerd.restart();
    // The monitor waits --reconnect-delay (10 s) before its first retry: the container is created
    // in that gap, so only the reconciling list can find it.
    await docker(['create', '--name', 'gap', '--privileged', TEST_IMAGE], dockerd.env);
    assert.equal(
      monitor.count('docker events stream connected'),
      connected,
      'the monitor reconnected too early',
    );
    await waitFor(() => alertsOf('Reconciled container').length >= 1, 'the reconciled alert');
    const reconciled = alertsOf('Reconciled container');
    assert.equal(reconciled.length, 1);
    assert.match(reconciled[0]!.output, /container=gap reconciled=true/);
    assert.equal(
      alertsOf('Privileged container').filter((a) => a.output.includes('container=gap ')).length,
      1,
    );
    // Monitoring goes on over the new stream.
    await docker(['create', '--name', 'after', '--pid', 'host', TEST_IMAGE], dockerd.env);
    await waitFor(
      () => alertsOf('Host namespace shared').some((a) => a.output.includes('container=after ')),
      'an alert from the new stream',
    );
  });

  it('stops on SIGTERM with exit code 0', async () => {
    monitor.signal('SIGTERM');
    const { code } = await monitor.exit;
    assert.equal(code, 0, monitor.stderr.slice(-2000));
    // --json on stdout: one falcosidekick-shaped alert per line, the same ones the webhook got.
    const printed = monitor.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert);
    assert.deepEqual(
      printed.map((a) => a.uuid),
      receiver.received.map((a) => a.uuid),
    );
  });

  it('refuses a malformed rule file with its line and column and starts nothing', async () => {
    const bad = join(work, 'bad-rules.yaml');
    writeFileSync(
      bad,
      '- rule: Fine\n  desc: ok\n  condition: docker.type = container\n  output: ok\n  priority: notice\n- rule: Broken\n  desc: x\n  condition: docker.action = = create\n  output: x\n  priority: warning\n',
    );
    const res = await runDockward(
      [
        '--home',
        join(work, 'home2'),
        'monitor',
        '--docker',
        dockerd.host,
        '--rules',
        bad,
        '--sink',
        `webhook:${receiver.url}`,
      ],
      { env: dockerd.env, timeoutMs: 60_000 },
    );
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:\\d+`));
    assert.doesNotMatch(res.stderr, /monitor started/);
  });
  it("alerts on a policy-denial burst read from the gateway's live audit feed instead of the file", async () => {
    feedMonitor = new MonitorProcess(
      [
        '--home',
        join(work, 'home3'),
        'monitor',
        '--audit-feed',
        `unix://${join(work, 'feed.sock')}`,
        '--sink',
        'stdout',
        '--json',
      ],
      { ...dockerd.env, DOCKWARD_LOG_LEVEL: 'info' },
    );
    await waitFor(() => feedMonitor!.count('audit feed connected') >= 1, 'the monitor on the feed');
    for (let i = 0; i < 5; i++) await docker(['create', '--privileged', TEST_IMAGE], gw.envFor('ops'), false);
    const bursts = () =>
      feedMonitor!.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Alert)
        .filter((a) => a.rule === 'Burst of policy denials');
    await waitFor(() => bursts().length >= 1, 'the burst alert from the feed');
    assert.match(bursts()[0]!.output, /identity=ops /);
    feedMonitor.signal('SIGTERM');
    assert.equal((await feedMonitor.exit).code, 0, feedMonitor.stderr.slice(-2000));
  });
});

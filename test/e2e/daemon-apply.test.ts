// Issue 3, "Done when": `dockward daemon apply` and `dockward init` against real private dockerds,
// restarted in `process` mode (no systemd here). Each daemon reads a daemon.json in a temp folder.
//
// Machine state: the baseline sets `userns-remap: default`. dockerd creates the `dockremap` user and
// its /etc/subuid and /etc/subgid ranges itself when they are missing (useradd/usermod), so the
// test prepares nothing there; it does open its temp folder to o+x, which userns-remap requires of
// every folder above the data-root ("a subdirectory in your graphroot path ... restricts access").
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  e2eSkipReason,
  freeLoopbackPort,
  PrivateDockerd,
  type RunResult,
  runDocker,
  runDockward,
} from './harness/index.js';

const skip = await e2eSkipReason();

const APPLY_TIMEOUT_MS = 240_000;

/** The fields of the Engine API's `GET /info` this suite reads. */
interface EngineInfo {
  Version?: string;
  Debug?: boolean;
  LiveRestoreEnabled?: boolean;
  SecurityOptions?: string[];
  Labels?: string[];
}

/** The dockward binary, with an environment that cannot reach the user's state or docker. */
function dockward(args: readonly string[]): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('DOCKER_') && !k.startsWith('DOCKWARD_')) env[k] = v;
  }
  return runDockward(args, { env, timeoutMs: APPLY_TIMEOUT_MS });
}

/** Creates and starts a private dockerd that reads `config` from a daemon.json the test owns. */
async function startWithConfigFile(
  dir: string,
  config: (d: PrivateDockerd) => Record<string, unknown>,
  options: { omitHostFlag?: boolean } = {},
): Promise<{ dockerd: PrivateDockerd; configPath: string; logPath: string }> {
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'daemon.json');
  const dockerd = PrivateDockerd.create({ configFile: configPath, ...options });
  // userns-remap: the remapped root must be able to traverse every folder above the data-root.
  chmodSync(dockerd.baseDir, 0o711);
  writeFileSync(configPath, `${JSON.stringify(config(dockerd), null, 2)}\n`);
  await dockerd.start();
  return { dockerd, configPath, logPath: join(dir, 'dockerd-restarted.log') };
}

async function info(dockerd: PrivateDockerd): Promise<EngineInfo> {
  const res = await dockerd.request('/info');
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as EngineInfo;
}

function backupsOf(configPath: string): string[] {
  const dir = join(configPath, '..');
  return readdirSync(dir).filter((n) => n.startsWith('daemon.json.') && n.endsWith('.bak'));
}

/** Makes a PKI with a server certificate for 127.0.0.1 and a client certificate; returns its folders. */
async function makePki(home: string): Promise<{ server: string; client: string; ca: string }> {
  for (const args of [
    ['pki', 'init'],
    ['pki', 'issue', 'server', 'dockerd', '--san', 'IP:127.0.0.1', '--san', 'DNS:localhost'],
    ['pki', 'issue', 'client', 'alice', '--ou', 'admin'],
  ]) {
    const res = await dockward(['--home', home, ...args]);
    assert.equal(res.code, 0, res.stderr);
  }
  return {
    ca: join(home, 'pki', 'ca.pem'),
    server: join(home, 'pki', 'issued', 'dockerd'),
    client: join(home, 'pki', 'issued', 'alice'),
  };
}

/** The docker CLI 28 over TLS to a loopback port, with the given DOCKER_CERT_PATH. */
function dockerTls(dockerd: PrivateDockerd, port: number, certPath: string): Promise<RunResult> {
  const env = {
    ...dockerd.env,
    DOCKER_HOST: `tcp://127.0.0.1:${port}`,
    DOCKER_TLS_VERIFY: '1',
    DOCKER_CERT_PATH: certPath,
  };
  return runDocker(['info', '--format', '{{.ID}}'], { env, timeoutMs: 30_000 });
}

describe('dockward daemon apply on a real dockerd (process restart mode)', { skip }, () => {
  let work = '';
  let dockerd: PrivateDockerd | undefined;
  let configPath = '';
  let logPath = '';
  const daemon = (): PrivateDockerd => {
    assert.ok(dockerd, 'dockerd was started in before()');
    return dockerd;
  };
  const applyArgs = (...extra: string[]): string[] => [
    'daemon',
    'apply',
    '--config',
    configPath,
    '--restart',
    'process',
    '--pidfile',
    daemon().pidfilePath,
    '--log-file',
    logPath,
    ...extra,
  ];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dw-apply-'));
    ({ dockerd, configPath, logPath } = await startWithConfigFile(join(work, 'a'), () => ({
      labels: ['dockward-e2e=kept'],
    })));
  });
  after(async () => {
    await dockerd?.cleanup();
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('applies the seed 001 baseline for real: dockerd comes back with userns and live-restore on', async () => {
    const before = readFileSync(configPath, 'utf8');
    const oldPid = daemon().pid;
    const res = await dockward(applyArgs('--profile', 'baseline'));
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.ok(await daemon().waitForPing(10_000), 'dockerd answers after the apply');
    assert.notEqual(daemon().pid, oldPid, 'dockerd was restarted (a new pid)');

    const live = await info(daemon());
    assert.ok(
      live.SecurityOptions?.includes('name=userns'),
      `userns on: ${live.SecurityOptions?.join(', ')}`,
    );
    assert.equal(live.LiveRestoreEnabled, true);
    assert.ok(live.Labels?.includes('dockward-e2e=kept'), 'the user key was kept');

    const written = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    assert.equal(written.icc, false);
    assert.equal(written['no-new-privileges'], true);
    assert.deepEqual(written.labels, ['dockward-e2e=kept']);
    const backups = backupsOf(configPath);
    assert.equal(backups.length, 1, 'one timestamped backup');
    assert.equal(readFileSync(join(configPath, '..', backups[0]!), 'utf8'), before);

    const socket = statSync(daemon().socketPath);
    assert.equal(socket.mode & 0o777, 0o660, 'socket mode 0660');
    assert.match(res.stdout, /root-equivalent/);
  });

  it('shows the running dockerd in daemon status: pid, version, effective settings and its log', async () => {
    const res = await dockward([
      '--json',
      'daemon',
      'status',
      '--pidfile',
      daemon().pidfilePath,
      '--log-file',
      logPath,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const status = JSON.parse(res.stdout) as {
      running: boolean;
      pid: number;
      version: { Version: string };
      effective: { entries: Array<{ key: string; value: unknown; source: string }> };
      log: { source: string; lines: string[] };
    };
    assert.equal(status.running, true);
    assert.equal(status.pid, daemon().pid);
    const live = JSON.parse((await daemon().request('/version')).body) as { Version: string };
    assert.equal(status.version.Version, live.Version);
    const remap = status.effective.entries.find((e) => e.key === 'userns-remap');
    assert.deepEqual([remap?.value, remap?.source], ['default', `file:${configPath}`]);
    const socket = status.effective.entries.find((e) => e.key === 'hosts');
    assert.match(
      socket?.source ?? '',
      /^flag:\/proc\/\d+\/cmdline$/,
      'the -H flag comes from the command line',
    );
    assert.equal(status.log.source, logPath);
    assert.ok(
      status.log.lines.some((l) => l.includes('API listen on')),
      status.log.lines.join('\n'),
    );
  });

  it('validates the applied file and says dockerd 20.10 has no --validate', async () => {
    const res = await dockward([
      'daemon',
      'validate',
      '--config',
      configPath,
      '--pidfile',
      daemon().pidfilePath,
    ]);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /OK: dockerd would start with this file/);
    assert.match(
      res.stdout,
      /dockerd --validate: skipped: dockerd 20\.10[^ ]* has no --validate \(added in 23\.0\)/,
    );
  });

  it('changes nothing when the baseline is hardened or applied a second time', async () => {
    const pid = daemon().pid;
    const text = readFileSync(configPath, 'utf8');
    const harden = await dockward([
      'daemon',
      'harden',
      '--config',
      configPath,
      '--pidfile',
      daemon().pidfilePath,
      '--profile',
      'baseline',
      '--write',
    ]);
    assert.equal(harden.code, 0, harden.stderr);
    assert.match(harden.stdout, /nothing to change/);
    const again = await dockward(applyArgs('--profile', 'baseline'));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to apply/);
    assert.equal(readFileSync(configPath, 'utf8'), text);
    assert.equal(daemon().pid, pid, 'not restarted');
    assert.equal(backupsOf(configPath).length, 1, 'no new backup');
  });

  it('refuses icc false with iptables false before writing anything', async () => {
    const bad = join(work, 'icc-no-iptables.json');
    writeFileSync(bad, JSON.stringify({ icc: false, iptables: false }));
    const text = readFileSync(configPath, 'utf8');
    const pid = daemon().pid;
    const res = await dockward(applyArgs('--from', bad));
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /icc is false but iptables is false/);
    assert.equal(readFileSync(configPath, 'utf8'), text, 'daemon.json unchanged');
    assert.equal(daemon().pid, pid, 'dockerd not restarted');
  });

  it('rolls back a config dockerd cannot start with and prints dockerd’s own error', async () => {
    const bad = join(work, 'icc-no-iptables.json');
    writeFileSync(bad, JSON.stringify({ icc: false, iptables: false }));
    const text = readFileSync(configPath, 'utf8');
    const res = await dockward(applyArgs('--from', bad, '--skip-checks'));
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /\[DW_E_APPLY_FAILED\]/);
    assert.match(res.stderr, /You specified --iptables=false with --icc=false/, 'dockerd’s own error line');
    assert.match(res.stderr, /rolled back/);
    assert.equal(readFileSync(configPath, 'utf8'), text, 'the previous daemon.json is back');
    assert.ok(await daemon().waitForPing(10_000), 'dockerd runs again');
    const live = await info(daemon());
    assert.ok(live.SecurityOptions?.includes('name=userns'), 'with the old configuration');
  });

  // A key newer than dockward knows is written with --skip-checks (docs/daemon.md): dockerd has the
  // last word, refuses the key, and apply rolls back, quoting dockerd.
  it('rolls back a key that passed with --skip-checks but dockerd refuses, quoting dockerd', async () => {
    const candidate = join(work, 'unknown-key.json');
    const current = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      candidate,
      `${JSON.stringify({ ...current, debug: true, 'dockward-injected': true }, null, 2)}\n`,
    );
    const text = readFileSync(configPath, 'utf8');
    const without = await dockward(applyArgs('--from', candidate));
    assert.equal(without.code, 2, 'without --skip-checks the unknown key is refused before any write');
    assert.match(without.stderr, /dockward-injected/);
    assert.equal(readFileSync(configPath, 'utf8'), text);
    const res = await dockward(applyArgs('--from', candidate, '--skip-checks'));
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /\[DW_E_APPLY_FAILED\]/);
    assert.match(res.stderr, /don't match any configuration option: dockward-injected/);
    assert.ok(
      `${res.stdout}\n${res.stderr}`.split('\n').some((l) => /^\s*dockerd said:/.test(l)),
      `${res.stdout}\n${res.stderr}`,
    );
    assert.equal(readFileSync(configPath, 'utf8'), text, 'the previous daemon.json is back');
    assert.ok(await daemon().waitForPing(10_000), 'dockerd runs again');
    assert.equal((await info(daemon())).Debug, false, 'with the old configuration');
  });

  const badInputs: Array<{ name: string; content: string; error: RegExp }> = [
    {
      name: 'invalid JSON',
      content: '{\n  "icc": false\n  "debug": true\n}\n',
      error: /line 3, column 3: invalid JSON/,
    },
    { name: 'a wrong type', content: '{ "live-restore": "yes" }', error: /live-restore must be/ },
    {
      name: 'an unknown key',
      content: '{ "tlsverfy": true }',
      error: /unknown key "tlsverfy" \(did you mean "tlsverify"\?\)/,
    },
    {
      name: 'a missing certificate file',
      content: JSON.stringify({
        tlsverify: true,
        tlscacert: '/nonexistent/dockward/ca.pem',
        tlscert: '/nonexistent/dockward/cert.pem',
        tlskey: '/nonexistent/dockward/key.pem',
      }),
      error: /tlscacert \/nonexistent\/dockward\/ca\.pem does not exist/,
    },
  ];
  for (const bad of badInputs) {
    it(`refuses ${bad.name} with exit 2 and changes no file`, async () => {
      const candidate = join(work, 'bad-input.json');
      writeFileSync(candidate, bad.content);
      const text = readFileSync(configPath, 'utf8');
      const backups = backupsOf(configPath).length;
      const pid = daemon().pid;
      const res = await dockward(applyArgs('--from', candidate));
      assert.equal(res.code, 2, `${res.stdout}\n${res.stderr}`);
      assert.match(res.stderr, bad.error);
      assert.match(res.stderr, /\[DW_E_INPUT\]/);
      assert.equal(readFileSync(configPath, 'utf8'), text, 'daemon.json unchanged');
      assert.equal(backupsOf(configPath).length, backups, 'no backup made');
      assert.equal(daemon().pid, pid, 'dockerd not restarted');
    });
  }
});

describe('dockward daemon apply --profile remote-tls on a real dockerd', { skip }, () => {
  let work = '';
  let dockerd: PrivateDockerd | undefined;
  let configPath = '';
  let logPath = '';
  let port = 0;
  let pki: { server: string; client: string; ca: string };
  const daemon = (): PrivateDockerd => {
    assert.ok(dockerd, 'dockerd was started in before()');
    return dockerd;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dw-apply-tls-'));
    pki = await makePki(join(work, 'home'));
    // The server's files where dockerd reads them, as `dockward init` installs them.
    const tlsDir = join(work, 'tls');
    mkdirSync(tlsDir, { mode: 0o700 });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) copyFileSync(join(pki.server, f), join(tlsDir, f));
    port = await freeLoopbackPort();
    // `hosts` will be in the file, so the harness must not pass -H as well.
    ({ dockerd, configPath, logPath } = await startWithConfigFile(
      join(work, 'b'),
      (d) => ({ hosts: [d.host] }),
      {
        omitHostFlag: true,
      },
    ));
  });
  after(async () => {
    await dockerd?.cleanup();
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('applies remote-tls: the docker CLI connects over TLS on a loopback port with an issued client cert', async () => {
    const res = await dockward([
      'daemon',
      'apply',
      '--config',
      configPath,
      '--profile',
      'remote-tls',
      '--cert-dir',
      join(work, 'tls'),
      '--listen',
      `127.0.0.1:${port}`,
      '--restart',
      'process',
      '--pidfile',
      daemon().pidfilePath,
      '--log-file',
      logPath,
    ]);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /refuses clients without a certificate/);
    const written = JSON.parse(readFileSync(configPath, 'utf8')) as { hosts: string[]; tlsverify: boolean };
    assert.deepEqual(
      written.hosts,
      [daemon().host, `tcp://127.0.0.1:${port}`],
      'the private socket kept, tcp added',
    );
    assert.equal(written.tlsverify, true);
    const cli = await dockerTls(daemon(), port, pki.client);
    assert.equal(cli.code, 0, cli.stderr);
    assert.notEqual(cli.stdout.trim(), '');
  });

  it('is refused by that listener without a client certificate', async () => {
    const caOnly = join(work, 'ca-only');
    mkdirSync(caOnly, { recursive: true });
    copyFileSync(pki.ca, join(caOnly, 'ca.pem'));
    const offset = readFileSync(logPath, 'utf8').length;
    const cli = await dockerTls(daemon(), port, caOnly);
    assert.notEqual(cli.code, 0, cli.stdout);
    // The TLS alert, or with TLS 1.3 a reset when the CLI's first write races the close after it.
    assert.match(
      cli.stderr,
      /remote error: tls: (bad certificate|certificate required)|connection reset by peer/,
    );
    // The restarted dockerd writes to the apply's --log-file: it names the reason.
    let log = '';
    for (let i = 0; i < 50 && !log.includes('TLS handshake error'); i++) {
      log = readFileSync(logPath, 'utf8').slice(offset);
      if (!log.includes('TLS handshake error')) await sleep(100);
    }
    assert.match(log, /TLS handshake error from 127\.0\.0\.1:\d+: tls: client didn't provide a certificate/);
  });
});

describe('dockward init on a real dockerd', { skip }, () => {
  let work = '';
  let dockerd: PrivateDockerd | undefined;
  let configPath = '';
  let logPath = '';
  let port = 0;
  let initArgs: string[] = [];
  const home = (): string => join(work, 'home');
  const tlsDir = (): string => join(work, 'tls');
  const daemon = (): PrivateDockerd => {
    assert.ok(dockerd, 'dockerd was started in before()');
    return dockerd;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dw-init-'));
    port = await freeLoopbackPort();
    ({ dockerd, configPath, logPath } = await startWithConfigFile(
      join(work, 'c'),
      (d) => ({ hosts: [d.host] }),
      {
        omitHostFlag: true,
      },
    ));
    initArgs = [
      '--home',
      home(),
      'init',
      '--name',
      'e2e-host',
      '--tls-dir',
      tlsDir(),
      '--config',
      configPath,
      '--listen',
      `127.0.0.1:${port}`,
      '--restart',
      'process',
      '--pidfile',
      daemon().pidfilePath,
      '--log-file',
      logPath,
    ];
  });
  after(async () => {
    await dockerd?.cleanup();
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('prints the plan with --dry-run and changes nothing', async () => {
    const text = readFileSync(configPath, 'utf8');
    const pid = daemon().pid;
    const res = await dockward([...initArgs, '--dry-run']);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /dry run: nothing was changed/);
    assert.match(res.stdout, /server cert {2}issue e2e-host/);
    assert.match(res.stdout, /"tlsverify": true/, 'the diff shows the TLS settings');
    assert.equal(readFileSync(configPath, 'utf8'), text);
    assert.equal(existsSync(home()), false, 'no PKI created');
    assert.equal(existsSync(tlsDir()), false, 'no TLS folder created');
    assert.equal(daemon().pid, pid, 'dockerd not restarted');
  });

  it('secures the host end to end and the docker CLI connects with the admin certificate', async () => {
    const res = await dockward(initArgs);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /ok +TLS \/_ping on 127\.0\.0\.1:\d+ with e2e-host-admin: 200 OK/);
    assert.match(res.stdout, /export DOCKER_TLS_VERIFY=1/);
    assert.match(res.stdout, /docker context create /);

    // The server files, root-only, and never the CA key.
    assert.equal(statSync(tlsDir()).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(tlsDir()).sort(), ['ca.pem', 'cert.pem', 'key.pem']);
    assert.equal(statSync(join(tlsDir(), 'ca.pem')).mode & 0o777, 0o444);
    assert.equal(statSync(join(tlsDir(), 'cert.pem')).mode & 0o777, 0o444);
    assert.equal(statSync(join(tlsDir(), 'key.pem')).mode & 0o777, 0o400);
    // init ends with the audit of the daemon it configured: no TLS or listener rule fails.
    const auditLine = /^ {2}audit {8}(.*)$/m.exec(res.stdout)?.[1] ?? '';
    assert.match(auditLine, /^\d+ checks on local \(unix:\/\/.+\): \d+ pass/);
    assert.doesNotMatch(
      auditLine,
      /tls-auth|tls-without-verify|tcp-without-tls|tlskey-mode|cert-san-mismatch/,
    );
    const caKey = readFileSync(join(home(), 'pki', 'ca-key.pem'), 'utf8');
    for (const f of readdirSync(tlsDir())) assert.notEqual(readFileSync(join(tlsDir(), f), 'utf8'), caKey);

    const admin = join(home(), 'pki', 'issued', 'e2e-host-admin');
    const cli = await dockerTls(daemon(), port, admin);
    assert.equal(cli.code, 0, cli.stderr);
    const live = await info(daemon());
    assert.ok(live.SecurityOptions?.includes('name=userns'), 'the baseline is part of remote-tls');
  });

  it('changes nothing when run again, and still proves TLS access', async () => {
    const pid = daemon().pid;
    const text = readFileSync(configPath, 'utf8');
    const key = readFileSync(join(tlsDir(), 'key.pem'), 'utf8');
    const res = await dockward(initArgs);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /server cert {2}reuse e2e-host/);
    assert.match(res.stdout, /nothing to apply/);
    assert.match(res.stdout, /ok +TLS \/_ping on 127\.0\.0\.1:\d+ with e2e-host-admin: 200 OK/);
    assert.equal(daemon().pid, pid, 'not restarted');
    assert.equal(readFileSync(configPath, 'utf8'), text);
    assert.equal(readFileSync(join(tlsDir(), 'key.pem'), 'utf8'), key, 'the same server key');
  });
});

// The CLI contract, shown by the built binary (bin/dockward.js) the way a user runs it: argv in,
// stdout/stderr/exit code/files out, against a private dockerd and the real docker CLI. Each test
// proves one of the fixes of issue #15 from the binary's own output.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildBusyboxImage,
  e2eSkipReason,
  freeLoopbackPort,
  PrivateDockerd,
  REPO_ROOT,
  type RunResult,
  runCommand,
  runDocker,
  startDockerd,
  TEST_IMAGE,
} from './harness/index.js';
import { eventually } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();
const BIN = join(REPO_ROOT, 'bin', 'dockward.js');
const ESC = '\x1b';

/** Newest mtime under a folder: dist/ must be at least as new as src/ for the binary to be what we test. */
function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

/** Builds dist/ (what bin/dockward.js runs) when it is missing or older than src/, as `npm ci` would. */
function ensureBuilt(): void {
  const dist = join(REPO_ROOT, 'dist', 'index.js');
  if (existsSync(dist) && statSync(dist).mtimeMs >= newest(join(REPO_ROOT, 'src'))) return;
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  assert.equal(r.status, 0, 'npm run build failed');
}

/** The environment a user's shell would have, without any DOCKER_* variable of the machine. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('DOCKER_') && !k.startsWith('DOCKWARD_') && k !== 'NO_COLOR') env[k] = v;
  }
  return { ...env, ...extra };
}

function dockward(
  args: string[],
  env: NodeJS.ProcessEnv = userEnv(),
  timeoutMs = 60_000,
): Promise<RunResult> {
  return runCommand(process.execPath, [BIN, ...args], { env, timeoutMs, cwd: REPO_ROOT });
}

function bash(script: string, env: NodeJS.ProcessEnv = userEnv(), timeoutMs = 120_000): Promise<RunResult> {
  return runCommand('bash', ['-c', script], { env, timeoutMs, cwd: REPO_ROOT });
}

/** A long-running dockward (gateway, up): resolves once `ready` appears in its output. */
function startBinary(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dockward ${args.join(' ')} did not get ready:\n${out}`));
    }, 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dockward ${args.join(' ')} exited ${code}:\n${out}`));
    });
  });
}

function stopBinary(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const policyAllowing = (endpoints: string) => `version: 1
identities:
  - match: { cn: "dev" }
    role: dev
roles:
  dev:
    allow:
      - id: dev-rule
        endpoints: [${endpoints}]
`;

describe('the CLI contract, from the binary', { skip }, () => {
  const base = mkdtempSync(join(tmpdir(), 'dw-e2e-contract-'));
  const home = join(base, 'home');
  let dockerd: PrivateDockerd;
  const children: ChildProcess[] = [];

  before(async () => {
    ensureBuilt();
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    const r = await dockward(['--home', home, 'pki', 'init']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const c of children) await stopBinary(c);
    await dockerd?.cleanup();
    rmSync(base, { recursive: true, force: true });
  });

  it('gateway --policy FILE: the policy is in force, reloads on SIGHUP and on a file change; a malformed one exits 2 with file:line:col and nothing listens', async () => {
    const policy = join(base, 'policy.yaml');
    writeFileSync(policy, policyAllowing('container.list, system.ping, system.ping.head, system.version'));
    // The policy's own role is a valid --ou once the policy is named.
    const issued = await dockward([
      '--home',
      home,
      'pki',
      'issue',
      'client',
      'dev',
      '--ou',
      'dev',
      '--policy',
      policy,
    ]);
    assert.equal(issued.code, 0, issued.stderr);
    const port = await freeLoopbackPort();
    const gw = await startBinary(
      [
        '--home',
        home,
        'gateway',
        '--listen',
        `127.0.0.1:${port}`,
        '--upstream',
        dockerd.host,
        '--policy',
        policy,
      ],
      userEnv(),
      /gateway listening/,
    );
    children.push(gw.child);
    const env = {
      ...dockerd.env,
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: join(home, 'pki', 'issued', 'dev'),
    };
    assert.equal((await runDocker(['ps'], { env })).code, 0, 'the policy allows container.list');
    const images = await runDocker(['images'], { env });
    assert.notEqual(images.code, 0);
    assert.match(images.stderr, /dockward: .*denied/);

    writeFileSync(policy, policyAllowing('system.ping, system.ping.head, system.version'));
    gw.child.kill('SIGHUP');
    let ps = await runDocker(['ps'], { env });
    for (let i = 0; i < 50 && ps.code === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ps = await runDocker(['ps'], { env });
    }
    assert.notEqual(ps.code, 0, 'after the reload container.list is denied');
    assert.match(ps.stderr, /dockward: .*denied/);

    // A change to the file is picked up without a signal.
    writeFileSync(policy, policyAllowing('container.list, system.ping, system.ping.head, system.version'));
    ps = await runDocker(['ps'], { env });
    for (let i = 0; i < 50 && ps.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ps = await runDocker(['ps'], { env });
    }
    assert.equal(ps.code, 0, `the changed file is in force without SIGHUP: ${ps.stderr}`);
    assert.equal(await stopBinary(gw.child), 0);

    const bad = join(base, 'bad-policy.yaml');
    writeFileSync(
      bad,
      'version: 1\nroles:\n  dev:\n    allow:\n      - id: x\n        endpoints: [container.list]\n        hostmounts: false\n',
    );
    const badHome = join(base, 'bad-home');
    const port2 = await freeLoopbackPort();
    const r = await dockward(
      [
        '--home',
        badHome,
        'gateway',
        '--listen',
        `127.0.0.1:${port2}`,
        '--upstream',
        dockerd.host,
        '--policy',
        bad,
      ],
      userEnv(),
      20_000,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:\\d+:\\d+`));
    assert.match(r.stderr, /\[DW_E_POLICY\]/);
    assert.equal(await listening(port2), false);
    assert.equal(existsSync(join(badHome, 'pki', 'issued', 'gateway')), false, 'no certificate was issued');
  });

  it('gateway --workers 2: a SIGTERM as soon as the first worker logs "listening" drains and exits 0', async () => {
    // The first worker logs before the primary has every worker ready. A stop in that gap once
    // killed the primary (exit by signal, status 143): the signal was taken twice and raised again
    // with nobody listening. Three tries, because the gap is short.
    for (let i = 0; i < 3; i++) {
      const port = await freeLoopbackPort();
      const { child, output } = await startBinary(
        [
          '--home',
          home,
          '--log-format',
          'json',
          'gateway',
          '--listen',
          `127.0.0.1:${port}`,
          '--upstream',
          dockerd.host,
          '--workers',
          '2',
        ],
        userEnv(),
        /gateway listening/,
      );
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.kill('SIGTERM');
      });
      assert.deepEqual(exit, { code: 0, signal: null }, `try ${i + 1}:\n${output()}`);
    }
  });

  it('writes a report over 1 MiB whole to a pipe, with exit 1 for failing findings, and stops quietly when the reader goes away', async () => {
    // Many containers with risky settings: each adds findings, so the report grows past 1 MiB.
    const name = 'x'.repeat(200);
    const body = JSON.stringify({
      Image: TEST_IMAGE,
      Cmd: ['sh'],
      HostConfig: {
        Privileged: true,
        CapAdd: ['SYS_ADMIN', 'NET_ADMIN'],
        PidMode: 'host',
        IpcMode: 'host',
        Binds: ['/etc:/host-etc', '/proc:/hp'],
        SecurityOpt: ['seccomp=unconfined'],
      },
    });
    for (let i = 0; i < 480; i += 12) {
      await Promise.all(
        Array.from({ length: 12 }, async (_, j) => {
          const res = await dockerd.request(`/containers/create?name=c${i + j}-${name}`, {
            method: 'POST',
            body,
          });
          assert.equal(res.status, 201, res.body);
        }),
      );
    }
    const file = join(base, 'report.sarif');
    const toFile = await dockward(
      ['audit', '--host', dockerd.host, '--format', 'sarif', '--output', file],
      userEnv(),
      120_000,
    );
    assert.equal(toFile.code, 1, toFile.stderr);
    const size = statSync(file).size;
    assert.ok(size > 1024 * 1024, `the report is ${size} bytes`);

    const piped = await bash(
      `node ${BIN} audit --host ${dockerd.host} --format sarif | wc -c; echo "exit=\${PIPESTATUS[0]}"`,
    );
    const [count, exit] = piped.stdout.trim().split('\n');
    assert.equal(Number(count), size, 'wc -c counts what --output wrote');
    assert.equal(exit, 'exit=1');

    // --json of a command that exits non-zero: one whole JSON document through the pipe.
    const json = await bash(
      `node ${BIN} --json audit --host ${dockerd.host} | cat > ${base}/report.json; echo "exit=\${PIPESTATUS[0]}"`,
    );
    assert.equal(json.stdout.trim(), 'exit=1');
    const parsed = readFileSync(join(base, 'report.json'), 'utf8');
    // Past the 64 KiB a pipe buffers, where the output used to be cut; the same bytes as to a file.
    assert.ok(parsed.length > 65_536, `the JSON report is ${parsed.length} bytes`);
    const direct = await bash(`node ${BIN} --json audit --host ${dockerd.host} > ${base}/direct.json`);
    assert.equal(direct.code, 1);
    assert.equal(statSync(join(base, 'direct.json')).size, Buffer.byteLength(parsed));
    const report = JSON.parse(parsed) as { findings: { status: string }[] };
    assert.ok(report.findings.some((f) => f.status === 'fail'));

    // A reader that closes early: no EPIPE trace, the command's own exit code.
    const closed = await bash(
      `node ${BIN} audit --host ${dockerd.host} --format sarif 2>${base}/err | head -c 100 >/dev/null; echo "exit=\${PIPESTATUS[0]}"; cat ${base}/err`,
    );
    assert.match(closed.stdout, /^exit=1\n/);
    assert.doesNotMatch(closed.stdout, /EPIPE|Error:|unexpected|DW_E_INTERNAL/);
  });

  describe('errors a person can act on', () => {
    let blocker: Server;
    let taken: number;
    before(async () => {
      blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      taken = (blocker.address() as { port: number }).port;
    });
    after(() => blocker?.close());

    it('up on a port in use: its own code and fix, and no certificate issued first', async () => {
      const h = join(base, 'up-taken');
      const r = await dockward([
        '--home',
        h,
        'up',
        '--listen',
        `127.0.0.1:${taken}`,
        '--upstream',
        dockerd.host,
        '--no-context',
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /cannot listen on 127\.0\.0\.1:\d+: another process listens there \[DW_E_ADDRESS_IN_USE\]/,
      );
      assert.match(r.stderr, /fix: .*--listen/);
      assert.equal(existsSync(join(h, 'pki', 'ca.pem')), false, 'nothing written before the check');
      const g = await dockward([
        '--home',
        h,
        'gateway',
        '--listen',
        `127.0.0.1:${taken}`,
        '--upstream',
        dockerd.host,
      ]);
      assert.equal(g.code, 2);
      assert.match(g.stderr, /\[DW_E_ADDRESS_IN_USE\]/);
      assert.equal(existsSync(join(h, 'pki', 'issued', 'gateway')), false);
    });

    it('a port below 1024 and a folder it may not write, as an unprivileged user: their own codes and fixes', async () => {
      const unprivileged = (args: string[]) =>
        runCommand(
          'setpriv',
          ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args],
          {
            env: userEnv({ HOME: base }),
            cwd: '/',
            timeoutMs: 30_000,
          },
        );
      const low = await unprivileged([
        '--home',
        join(base, 'nobody'),
        'gateway',
        '--listen',
        '127.0.0.1:81',
        '--upstream',
        dockerd.host,
      ]);
      assert.equal(low.code, 2, low.stderr);
      assert.match(
        low.stderr,
        /not allowed to listen on 127\.0\.0\.1:81 \[DW_E_LISTEN_DENIED\]\n {2}fix: Ports below 1024/,
      );
      const locked = join(base, 'root-only');
      mkdirSync(locked, { mode: 0o700 });
      const perm = await unprivileged(['--home', join(locked, 'h'), 'pki', 'init']);
      assert.equal(perm.code, 2, perm.stderr);
      assert.match(perm.stderr, /permission denied: .*root-only\/h \[DW_E_PERMISSION\]\n {2}fix: /);
      assert.doesNotMatch(low.stderr + perm.stderr, /DW_E_INTERNAL/);
    });

    it("a listen address that is not this machine's, and a file that does not exist", async () => {
      const r = await dockward(['--home', join(base, 'addr'), 'gateway', '--listen', '192.0.2.1:2376']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /\[DW_E_ADDRESS_UNAVAILABLE\]\n {2}fix: /);
      const missing = await dockward(['policy', 'check', join(base, 'no-such-policy.yaml')]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /no-such-policy\.yaml.*\[DW_E_FILE\]\n {2}fix: /);
    });

    it('a second up with the same home names the running one and leaves its sandbox alone', async () => {
      const h = join(base, 'up-home');
      const port = await freeLoopbackPort();
      // As root with no daemon on DOCKWARD_LOCAL_SOCKET, up starts its private sandbox dockerd.
      const env = userEnv({
        DOCKWARD_LOCAL_SOCKET: join(base, 'no-daemon.sock'),
        DOCKER_CONFIG: join(base, 'docker-config'),
      });
      const first = await startBinary(
        ['--home', h, 'up', '--listen', `127.0.0.1:${port}`],
        env,
        /Ctrl-C stops/,
      );
      children.push(first.child);
      try {
        assert.match(first.output(), /\(sandbox dockerd\)/);
        const second = await dockward(
          ['--home', h, 'up', '--listen', `127.0.0.1:${await freeLoopbackPort()}`],
          env,
        );
        assert.equal(second.code, 2, second.stderr);
        assert.match(
          second.stderr,
          new RegExp(
            `dockward up runs already for ${h} \\(pid ${first.child.pid}, gateway tcp://127\\.0\\.0\\.1:${port}`,
          ),
        );
        assert.match(
          second.stderr,
          /\[DW_E_ALREADY_RUNNING\]\n {2}fix: Use it: docker --context dockward ps\. Stop it with Ctrl-C in its terminal or `kill \d+`/,
        );
        // The first still serves through its sandbox: the second did not touch its socket.
        const ps = await runDocker(['--context', 'dockward', 'ps'], { env: { ...env, DOCKER_HOST: '' } });
        assert.equal(ps.code, 0, ps.stderr);
        assert.ok(existsSync(join(h, 'sandbox', 'docker.sock')));
      } finally {
        assert.equal(await stopBinary(first.child), 0);
      }
      assert.equal(existsSync(join(h, 'up.json')), false, 'the record is removed on stop');
    });
  });

  it('runs as `npx dockward` from the checkout after npm ci, as the README says', async () => {
    const r = await runCommand('npx', ['--no-install', 'dockward', '--version'], {
      env: userEnv(),
      cwd: REPO_ROOT,
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
  });

  describe('human output on a terminal, machine output elsewhere', () => {
    /** Runs the gateway for a moment under `script` (util-linux), so stderr is a real terminal. */
    // Runs the gateway until it logs "gateway listening", then stops it with SIGTERM (a background
    // job of a non-interactive shell ignores SIGINT). No fixed run time: a slow start on a loaded
    // machine cannot cut the line off.
    async function gatewayLog(
      mode: 'tty' | 'pipe',
      extraEnv: NodeJS.ProcessEnv = {},
      flags: string[] = [],
    ): Promise<string> {
      const port = await freeLoopbackPort();
      const pidFile = join(home, `gateway-${port}.pid`);
      const gw = `node ${BIN} --home ${home} ${flags.join(' ')} gateway --listen 127.0.0.1:${port} --upstream ${dockerd.host}`;
      // The shell runs it in the background and waits, so the pid file names the node process.
      const script = `${gw} & echo $! > ${pidFile}; wait`;
      const child =
        mode === 'tty'
          ? spawn('script', ['-qfec', script, '/dev/null'], { env: userEnv({ TERM: 'xterm', ...extraEnv }) })
          : spawn('bash', ['-c', `{ ${script}; } 2>&1 | cat`], { env: userEnv(extraEnv) });
      let out = '';
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString('utf8');
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        assert.ok(
          await eventually(() => out.includes('gateway listening'), 30_000),
          `the gateway did not log "gateway listening" within 30 s:\n${out}`,
        );
      } finally {
        if (existsSync(pidFile)) spawnSync('kill', ['-TERM', readFileSync(pidFile, 'utf8').trim()]);
        else child.kill('SIGKILL');
        await exited;
      }
      return out;
    }

    it('pretty, coloured lines on a terminal; no colour with NO_COLOR; JSON lines in a pipe or with --log-format json', async () => {
      const tty = await gatewayLog('tty');
      assert.match(tty, /gateway listening/);
      assert.ok(tty.includes(`${ESC}[`), 'coloured');
      assert.doesNotMatch(tty, /^\{"level"/m, 'not JSON');
      const noColor = await gatewayLog('tty', { NO_COLOR: '1' });
      assert.match(noColor, /INFO.*gateway listening/);
      assert.ok(!noColor.includes(`${ESC}[`), 'no colour');
      const piped = await gatewayLog('pipe');
      const line = piped.split('\n').find((l) => l.includes('gateway listening'));
      assert.ok(line, piped);
      assert.equal((JSON.parse(line) as { msg: string }).msg, 'gateway listening');
      const forced = await gatewayLog('tty', {}, ['--log-format', 'json']);
      assert.match(forced, /^\{"level":30.*"msg":"gateway listening"/m);
    });

    it('init: each line once, the file modes it set, and a TLS refusal in words (not OpenSSL text)', async () => {
      const dir = join(base, 'init');
      mkdirSync(dir, { recursive: true });
      const configPath = join(dir, 'daemon.json');
      const own = PrivateDockerd.create({ configFile: configPath, omitHostFlag: true });
      try {
        chmodSync(own.baseDir, 0o711); // userns-remap: the remapped root traverses the folders above data-root
        writeFileSync(configPath, `${JSON.stringify({ hosts: [own.host] })}\n`);
        await own.start();
        const port = await freeLoopbackPort();
        const tls = join(dir, 'tls');
        const r = await dockward(
          [
            '--home',
            join(dir, 'home'),
            'init',
            '--name',
            'contract-host',
            '--tls-dir',
            tls,
            '--config',
            configPath,
            '--listen',
            `127.0.0.1:${port}`,
            '--restart',
            'process',
            '--pidfile',
            own.pidfilePath,
            '--log-file',
            join(dir, 'dockerd.log'),
          ],
          userEnv(),
          120_000,
        );
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
        assert.deepEqual(
          lines.filter((l, i) => lines.indexOf(l) !== i),
          [],
          'no line printed twice',
        );
        // The modes it reports are the modes the files have.
        const reported = /installed ca\.pem \((\d+)\), cert\.pem \((\d+)\), key\.pem \((\d+)\)/.exec(
          r.stderr,
        );
        assert.ok(reported, r.stderr);
        const mode = (f: string) => (statSync(join(tls, f)).mode & 0o777).toString(8).padStart(4, '0');
        assert.deepEqual(reported.slice(1), [mode('ca.pem'), mode('cert.pem'), mode('key.pem')]);
        assert.doesNotMatch(r.stdout, /rec_layer|SSL alert number/);
        assert.match(
          r.stdout,
          /without a client certificate: refused \(the server refused the connection because no client certificate .*TLS alert 42/,
        );
      } finally {
        await own.cleanup();
      }
    });
  });

  it('pki issue client --ou: refuses a role that does not exist, with the list and the closest name; --force issues it with a warning', async () => {
    const r = await dockward(['--home', home, 'pki', 'issue', 'client', 'typo', '--ou', 'admn']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--ou "admn" is not a role \(did you mean "admin"\?\): the roles are readonly, operator, admin \[DW_E_ROLE_UNKNOWN\]/,
    );
    assert.match(r.stderr, /fix: .*--policy FILE.*--force/);
    assert.equal(existsSync(join(home, 'pki', 'issued', 'typo')), false);
    const custom = await dockward(['--home', home, 'pki', 'issue', 'client', 'ci1', '--ou', 'dev']);
    assert.equal(custom.code, 2, 'a policy role needs the policy');
    const forced = await dockward([
      '--home',
      home,
      'pki',
      'issue',
      'client',
      'typo',
      '--ou',
      'admn',
      '--force',
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /warning: --ou "admn" is not a role .*issued anyway \(--force\)/);
    const host = await dockward([
      '--home',
      home,
      'hosts',
      'add',
      'web9',
      '--endpoint',
      'tcp://127.0.0.1:2376',
      '--role',
      'opertor',
      '--no-verify',
    ]);
    assert.equal(host.code, 2);
    assert.match(
      host.stderr,
      /--role "opertor" is not a role \(did you mean "operator"\?\).*\[DW_E_ROLE_UNKNOWN\]/,
    );
    assert.equal(existsSync(join(home, 'pki', 'issued', 'host-web9')), false);
  });

  it('audit --host tcp://... without certificates says which flags it needs, not "run as root"', async () => {
    const port = await freeLoopbackPort();
    const gw = await startBinary(
      ['--home', home, 'gateway', '--listen', `127.0.0.1:${port}`, '--upstream', dockerd.host],
      userEnv(),
      /gateway listening/,
    );
    children.push(gw.child);
    try {
      const r = await dockward(['audit', '--host', `tcp://127.0.0.1:${port}`]);
      assert.equal(r.code, 1);
      const all = r.stdout + r.stderr;
      assert.doesNotMatch(all, /run as root/);
      assert.match(
        r.stderr,
        /note: no TLS client files for tcp:\/\/127\.0\.0\.1:\d+: .*--tlscacert, --tlscert and --tlskey \(or --context NAME\)/,
      );
      assert.match(r.stdout, /--tlscacert ca\.pem --tlscert cert\.pem --tlskey key\.pem/);
    } finally {
      await stopBinary(gw.child);
    }
  });
});

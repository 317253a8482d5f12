import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  buildBusyboxImage,
  DOCKER_CLI_20,
  dockerdErrorLine,
  e2eSkipReason,
  freeLoopbackPort,
  mountsUnder,
  type PrivateDockerd,
  processesOf,
  reapStaleDockerds,
  runDocker,
  runDockward,
  startDockerd,
  TEST_IMAGE,
  tryStartDockerd,
} from './harness/index.js';

const skip = await e2eSkipReason();

/** Asserts that nothing of a private dockerd is left: no process, no mount, no folder. */
function assertNothingLeft(baseDir: string): void {
  assert.deepEqual(processesOf(baseDir), [], 'no process runs from the base folder');
  assert.deepEqual(mountsUnder(baseDir), [], 'nothing is mounted under the base folder');
  assert.equal(existsSync(baseDir), false, 'the base folder is removed');
}

describe('the private dockerd harness', { skip }, () => {
  let dockerd: PrivateDockerd | undefined;
  const daemon = (): PrivateDockerd => {
    assert.ok(dockerd, 'the daemon was started in before()');
    return dockerd;
  };

  before(async () => {
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
  });
  after(async () => {
    await dockerd?.cleanup();
  });

  it('keeps the socket path short enough for a unix socket', () => {
    assert.ok(Buffer.byteLength(daemon().socketPath) < 108, daemon().socketPath);
    assert.equal(daemon().host, `unix://${daemon().socketPath}`);
  });

  it('gives the CLI an environment that points at the private daemon and a private config folder', () => {
    const env = daemon().env;
    assert.equal(env.DOCKER_HOST, daemon().host);
    assert.ok(env.DOCKER_CONFIG?.startsWith(daemon().baseDir + '/'));
    assert.equal(env.DOCKER_TLS_VERIFY, undefined);
  });

  it('answers Engine API requests on its own socket', async () => {
    const res = await daemon().request('/version');
    assert.equal(res.status, 200);
    assert.match((JSON.parse(res.body) as { ApiVersion: string }).ApiVersion, /^1\.\d+$/);
  });

  it('runs a container from the busybox image and prints its output', async () => {
    const res = await runDocker(['run', '--rm', TEST_IMAGE, 'echo', 'ok'], { env: daemon().env });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'ok\n');
  });

  it('passes stdin through to a container', async () => {
    const res = await runDocker(['run', '-i', '--rm', TEST_IMAGE, 'cat'], {
      env: daemon().env,
      input: 'hi\n',
    });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'hi\n');
  });

  it('runs the image as root with the passwd file in place', async () => {
    const res = await runDocker(['run', '--rm', TEST_IMAGE, 'whoami'], { env: daemon().env });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'root\n');
  });

  it('keeps an existing image when asked to build it again', async () => {
    const before = await runDocker(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE], {
      env: daemon().env,
    });
    await buildBusyboxImage(daemon());
    const again = await runDocker(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE], {
      env: daemon().env,
    });
    assert.equal(again.stdout, before.stdout);
  });

  it('talks to the daemon with the old CLI 20 as well', {
    skip: process.env['CI'] !== 'true' && !existsSync(DOCKER_CLI_20),
  }, async () => {
    const res = await runDocker(['version', '--format', '{{.Client.Version}} {{.Server.Version}}'], {
      env: daemon().env,
      cli: DOCKER_CLI_20,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^20\.10\.\S+ \S+\n$/);
  });

  it('runs the built dockward binary from any folder', async () => {
    const res = await runDockward(['--help'], { env: daemon().env, cwd: daemon().baseDir });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Usage: dockward/);
  });

  it('refuses a docker CLI run that names no daemon', async () => {
    const { DOCKER_HOST: _omitted, ...env } = daemon().env;
    await assert.rejects(runDocker(['ps'], { env }), /refusing to reach the host docker/);
  });

  it('kills a CLI run that outlives its time limit', async () => {
    // `docker events` streams until it is stopped.
    const res = await runDocker(['events'], { env: daemon().env, timeoutMs: 1_500 });
    assert.equal(res.timedOut, true);
    assert.equal(res.code, null);
  });

  it('restarts on the same folders with an extra flag that the daemon then reports', async () => {
    const pidBefore = daemon().pid;
    await daemon().restart({ extraArgs: ['--label', 'dockward.test=1'] });
    assert.notEqual(daemon().pid, pidBefore);
    const res = await runDocker(['info', '--format', '{{.Labels}}'], { env: daemon().env });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /dockward\.test=1/);
    // Same data-root: the image built before the restart is still there.
    const run = await runDocker(['run', '--rm', TEST_IMAGE, 'echo', 'still here'], { env: daemon().env });
    assert.equal(run.stdout, 'still here\n', run.stderr);
  });

  it('listens on a free loopback TCP port when asked to', async () => {
    const port = await freeLoopbackPort();
    await daemon().restart({ extraArgs: ['-H', `tcp://127.0.0.1:${port}`] });
    const env = { ...daemon().env, DOCKER_HOST: `tcp://127.0.0.1:${port}` };
    const res = await runDocker(['version', '--format', '{{.Server.Os}}'], { env });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, 'linux\n');
  });

  it('stops running containers, dockerd and containerd and removes everything on cleanup', async () => {
    const d = daemon();
    const started = await runDocker(['run', '-d', '--stop-timeout', '1', TEST_IMAGE, 'sleep', '300'], {
      env: d.env,
    });
    assert.equal(started.code, 0, started.stderr);
    assert.ok(processesOf(d.baseDir).length >= 3, 'dockerd, containerd and the container run');
    assert.ok(mountsUnder(d.baseDir).length > 0, 'the container rootfs is mounted');
    await d.cleanup();
    assertNothingLeft(d.baseDir);
    await d.cleanup(); // idempotent
  });
});

describe('a dockerd that cannot start', { skip }, () => {
  it('reports that it did not come up, with its own error line from the log', async () => {
    const { dockerd, outcome } = await tryStartDockerd({ config: { icc: false, iptables: false } });
    try {
      assert.equal(outcome.up, false);
      assert.equal(outcome.timedOut, false);
      assert.equal(outcome.exitCode, 1);
      assert.match(outcome.errorLine ?? '', /--iptables=false with --icc=false/);
      assert.ok(outcome.log.includes(outcome.errorLine ?? '\0'));
      assert.equal(dockerd.pid, undefined);
      // start() on the same folders throws with that line, so a failing suite says why.
      await assert.rejects(
        dockerd.start(),
        /dockerd exited \(code 1[\s\S]*--iptables=false with --icc=false/,
      );
    } finally {
      await dockerd.cleanup();
    }
    assertNothingLeft(dockerd.baseDir);
  });

  it('picks the plain error line out of a logrus log', () => {
    const log = [
      'time="2026-01-01T00:00:00Z" level=info msg="Starting up"',
      'time="2026-01-01T00:00:01Z" level=info msg="stopping"',
      'unable to configure the Docker daemon with file /x/daemon.json: bad key',
    ].join('\n');
    assert.equal(
      dockerdErrorLine(log),
      'unable to configure the Docker daemon with file /x/daemon.json: bad key',
    );
    assert.equal(
      dockerdErrorLine('time="t" level=fatal msg="boom"\ntime="t" level=info msg="bye"'),
      'time="t" level=fatal msg="boom"',
    );
  });
});

/** A separate node process that starts a private dockerd and idles; resolves once dockerd is up. */
async function startDockerdInChild(): Promise<{
  child: ChildProcessWithoutNullStreams;
  exited: Promise<NodeJS.Signals | null>;
  baseDir: string;
  pid: number;
}> {
  const harness = fileURLToPath(new URL('./harness/dockerd.ts', import.meta.url));
  const script = [
    `import { startDockerd } from ${JSON.stringify(harness)};`,
    'const d = await startDockerd();',
    'console.log(JSON.stringify({ baseDir: d.baseDir, pid: d.pid }));',
    'setInterval(() => {}, 1000);',
  ].join('\n');
  const child = spawn(process.execPath, [
    '--import',
    import.meta.resolve('tsx'),
    '--input-type=module',
    '-e',
    script,
  ]);
  child.stdin.end();
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the child did not start its dockerd in time: ${stderr}`));
    }, 90_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0] ?? '');
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`the child exited early: ${stderr}`));
    });
  });
  const { baseDir, pid } = JSON.parse(first) as { baseDir: string; pid: number };
  return { child, exited, baseDir, pid };
}

describe('a test process that ends without cleaning up', { skip }, () => {
  it('takes its private dockerd down with it when it is terminated', async () => {
    const { child, exited, baseDir, pid } = await startDockerdInChild();
    assert.ok(processesOf(baseDir).includes(pid), 'the child started dockerd');
    child.kill('SIGTERM');
    assert.equal(await exited, 'SIGTERM');
    assertNothingLeft(baseDir);
  });

  it('leaves a dockerd that the next harness user reaps when it is killed outright', async () => {
    const { child, exited, baseDir, pid } = await startDockerdInChild();
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.ok(processesOf(baseDir).includes(pid), 'a SIGKILL leaves dockerd running');
    assert.ok(reapStaleDockerds().includes(baseDir));
    assertNothingLeft(baseDir);
  });
});

describe('freeLoopbackPort', () => {
  it('returns a port that can be bound on 127.0.0.1', async () => {
    const port = await freeLoopbackPort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});

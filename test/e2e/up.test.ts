// `npm start` = `dockward up`: the first-run experience, end to end with the real docker CLI.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  buildBusyboxImage,
  DOCKWARD_ENTRY,
  e2eSkipReason,
  freeLoopbackPort,
  type PrivateDockerd,
  REPO_ROOT,
  runDocker,
  startDockerd,
} from './harness/index.js';

const skip = await e2eSkipReason();

/** Starts `dockward up` and resolves with its output once it printed the next command. */
function startUp(args: string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DOCKWARD_ENTRY, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dockward up did not get ready: ${stdout}\n${stderr}`));
    }, 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('Ctrl-C stops')) {
        clearTimeout(timer);
        resolve({ child, stdout });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dockward up exited ${code}: ${stdout}\n${stderr}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

describe('dockward up', { skip }, () => {
  const base = mkdtempSync(join(tmpdir(), 'dw-e2e-up-'));
  let dockerd: PrivateDockerd | undefined;
  after(async () => {
    await dockerd?.cleanup();
    rmSync(base, { recursive: true, force: true });
  });

  it('puts the gateway in front of a daemon and writes a docker context that works', async () => {
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    const port = await freeLoopbackPort();
    const dockerConfig = join(base, 'docker-config');
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '' };
    const { child, stdout } = await startUp(
      ['--home', join(base, 'home'), 'up', '--listen', `127.0.0.1:${port}`, '--upstream', dockerd.host],
      env,
    );
    try {
      assert.match(stdout, /self-check\s+GET \/_ping over mTLS as "admin": 200 OK/);
      assert.match(stdout, /docker --context dockward ps/);
      const ls = await runDocker(['context', 'ls', '--format', '{{.Name}} {{.DockerEndpoint}}'], {
        env: { ...env, DOCKER_CONTEXT: 'default' },
      });
      assert.match(ls.stdout, new RegExp(`dockward tcp://127.0.0.1:${port}`));
      const run = await runDocker(['--context', 'dockward', 'run', '--rm', 'testbox', 'echo', 'via up'], {
        env,
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'via up\n');
    } finally {
      assert.equal(await stop(child), 0);
    }
  });

  it('starts a private sandbox dockerd when no local daemon answers, and stops it on Ctrl-C', async () => {
    const port = await freeLoopbackPort();
    const home = join(base, 'sandboxed');
    const env = {
      ...process.env,
      DOCKER_CONFIG: join(base, 'docker-config-2'),
      DOCKER_HOST: '',
      DOCKWARD_LOCAL_SOCKET: join(base, 'no-daemon-here.sock'),
    };
    const { child, stdout } = await startUp(['--home', home, 'up', '--listen', `127.0.0.1:${port}`], env);
    try {
      assert.match(stdout, /\(sandbox dockerd\)/);
      const r = await runDocker(['--context', 'dockward', 'version', '--format', '{{.Server.Version}}'], {
        env,
      });
      assert.equal(r.code, 0, r.stderr);
    } finally {
      assert.equal(await stop(child), 0);
    }
    const ps = spawn('pgrep', ['-f', join(home, 'sandbox')]);
    const code = await new Promise<number | null>((resolve) => ps.once('exit', resolve));
    assert.equal(code, 1, 'no sandbox dockerd is left running');
  });
});

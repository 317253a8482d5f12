import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { openSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ping } from '../docker/engine-client.js';
import { DockwardError } from '../errors.js';
import { ensureDir, MODE_PRIVATE_DIR, writeFileAtomic } from '../store/atomic-write.js';

/** True when a daemon answers `GET /_ping` on the unix socket. */
export function pingSocket(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return ping({ kind: 'unix', socketPath }, timeoutMs);
}

export function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian's docker.io (dockerd, containerd, runc) with apt; root only. */
export function installDockerd(log: (line: string) => void): void {
  if (process.getuid?.() !== 0 || !hasProgram('apt-get')) {
    throw new DockwardError('DW_E_DEPENDENCY', 'dockerd is not installed', {
      hint: 'Install Docker Engine (Debian/Ubuntu: `sudo apt-get install docker.io`), or point --upstream at a running daemon.',
    });
  }
  log('installing docker.io with apt-get (dockerd, containerd, runc)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'docker.io', 'iptables'],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (r.status !== 0) {
      throw new DockwardError('DW_E_DEPENDENCY', `apt-get ${args.join(' ')} failed (exit ${r.status})`, {
        hint: 'Install docker.io by hand and run `dockward up` again.',
      });
    }
  }
}

export interface Sandbox {
  socketPath: string;
  logPath: string;
  stop(): Promise<void>;
}

/**
 * A private dockerd for `dockward up` when no daemon runs: its own data-root, exec-root, pidfile
 * and socket under the state folder, no docker0 bridge, an empty config (never /etc/docker's).
 */
export async function startSandboxDockerd(dir: string, timeoutMs = 60_000): Promise<Sandbox> {
  await ensureDir(dir, MODE_PRIVATE_DIR);
  const socketPath = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  const config = join(dir, 'daemon.json');
  await writeFileAtomic(config, '{}\n');
  await fs.rm(socketPath, { force: true });
  const out = openSync(logPath, 'a', 0o600);
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '--config-file',
      config,
      '-H',
      `unix://${socketPath}`,
      '--bridge=none',
    ],
    { stdio: ['ignore', out, out] },
  );
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  const deadline = Date.now() + timeoutMs;
  while (!(await pingSocket(socketPath, 1000))) {
    if (exited !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = (await fs.readFile(logPath, 'utf8').catch(() => '')).split('\n').slice(-5).join('\n');
      throw new DockwardError('DW_E_UPSTREAM', `the sandbox dockerd did not come up:\n${tail}`, {
        hint: `See ${logPath}.`,
      });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    socketPath,
    logPath,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

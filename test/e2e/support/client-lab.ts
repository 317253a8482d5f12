// The real-client suites' setting: a private dockerd, the gateway started from the built binary in
// front of it, and hosts registered the way a user does (`dockward hosts add`, then `hosts context`
// or `eval "$(dockward hosts env NAME)"`). Nothing here imports from src/: the suites see dockward
// only through its argv, output, exit codes and the files it writes.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildBusyboxImage,
  type DockerdOptions,
  freeLoopbackPort,
  type PrivateDockerd,
  REPO_ROOT,
  type RunResult,
  runCommand,
  startDockerd,
} from '../harness/index.js';

/** The installed entry point (`bin` in package.json), which runs the compiled dist/. */
export const DOCKWARD_BIN = join(REPO_ROOT, 'bin', 'dockward.js');

/** Debian's Python, which the Debian packages (python3-docker, docker-compose, ansible) belong to. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : name.endsWith('.test.ts') ? 0 : st.mtimeMs);
  }
  return newest;
}

/** Fails with the fix when dist/ is missing or older than src/: the suites must drive what the user runs. */
function assertBuilt(): void {
  const dist = join(REPO_ROOT, 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` first`);
  if (newestMtime(join(REPO_ROOT, 'src')) > statSync(dist).mtimeMs) {
    throw new Error('dist/ is older than src/: run `npm run build` first');
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects when `alive()` turns false or time runs out. */
async function waitForListener(port: number, alive: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error('the gateway exited before it listened');
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The fields of a gateway audit record of type `request` that the suites look at. */
export interface AuditedRequest {
  identity: { cn: string; ou?: string[] } | null;
  method: string;
  canonicalPath: string;
  endpoint: string | null;
  decision: 'allow' | 'deny';
  rule?: string;
  reason?: string;
  userAgent?: string;
}

/**
 * The lab dockerd's daemon.json: any local network a client makes (compose's default network,
 * swarm's docker_gwbridge) gets addresses from the benchmarking range, never 172.17/16 and the like.
 */
export const LAB_DAEMON_CONFIG = { 'default-address-pools': [{ base: '198.18.128.0/17', size: 24 }] };

export interface ClientLabOptions {
  /** Policy YAML for `gateway --policy FILE`; without it the gateway uses the built-in roles. */
  policy?: string;
  dockerd?: DockerdOptions;
}

/** A private dockerd with the busybox test image, behind `dockward gateway` run from bin/dockward.js. */
export class ClientLab {
  private gatewayExited = false;

  private constructor(
    readonly dockerd: PrivateDockerd,
    readonly work: string,
    readonly home: string,
    readonly port: number,
    readonly policyPath: string | undefined,
    private readonly gatewayLogPath: string,
    private gateway: ChildProcess,
    /** The environment every client starts from: dockward on PATH, the lab's DOCKWARD_HOME and DOCKER_CONFIG. */
    readonly baseEnv: NodeJS.ProcessEnv,
  ) {
    gateway.on('exit', () => {
      this.gatewayExited = true;
    });
  }

  static async start(options: ClientLabOptions = {}): Promise<ClientLab> {
    assertBuilt();
    const work = mkdtempSync(join(tmpdir(), 'dw-e2e-clients-'));
    const dockerd = await startDockerd(options.dockerd ?? { config: LAB_DAEMON_CONFIG });
    try {
      await buildBusyboxImage(dockerd);
      const home = join(work, 'home');
      const dockerConfig = join(work, 'docker-config');
      const bin = join(work, 'bin');
      mkdirSync(dockerConfig, { mode: 0o700 });
      mkdirSync(bin);
      // `dockward` on PATH as after `npm install -g`: the package's bin entry, nothing else.
      writeFileSync(join(bin, 'dockward'), `#!/bin/sh\nexec "${process.execPath}" "${DOCKWARD_BIN}" "$@"\n`);
      chmodSync(join(bin, 'dockward'), 0o755);
      const baseEnv: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DOCKER_')) baseEnv[k] = v;
      baseEnv['PATH'] = `${bin}:${process.env['PATH'] ?? ''}`;
      baseEnv['DOCKWARD_HOME'] = home;
      baseEnv['DOCKER_CONFIG'] = dockerConfig;
      // requests (under docker-py, compose and Ansible's SDK-based modules) lets these replace the CA that
      // DOCKER_CERT_PATH names on every request; this machine sets them to the system bundle.
      // A user's shell usually lacks them; clients-python.test.ts shows the failure they cause.
      delete baseEnv['REQUESTS_CA_BUNDLE'];
      delete baseEnv['CURL_CA_BUNDLE'];
      baseEnv['NO_COLOR'] = '1';
      // Ansible and pip-installed Pythons must not shadow Debian's packages.
      baseEnv['ANSIBLE_PYTHON_INTERPRETER'] = DEBIAN_PYTHON;

      let policyPath: string | undefined;
      if (options.policy !== undefined) {
        policyPath = join(work, 'policy.yaml');
        writeFileSync(policyPath, options.policy);
      }
      const port = await freeLoopbackPort();
      const gatewayLogPath = join(work, 'gateway.log');
      const logFd = openSync(gatewayLogPath, 'a');
      let child: ChildProcess;
      try {
        child = spawn(
          process.execPath,
          [
            DOCKWARD_BIN,
            'gateway',
            '--listen',
            `127.0.0.1:${port}`,
            '--upstream',
            dockerd.host,
            '--audit-log',
            join(work, 'audit.jsonl'),
            ...(policyPath ? ['--policy', policyPath] : []),
          ],
          { env: baseEnv, stdio: ['ignore', logFd, logFd] },
        );
      } finally {
        closeSync(logFd);
      }
      const lab = new ClientLab(dockerd, work, home, port, policyPath, gatewayLogPath, child, baseEnv);
      try {
        await waitForListener(port, () => !lab.gatewayExited, 30_000);
      } catch (e) {
        child.kill('SIGKILL');
        throw new Error(`${(e as Error).message}; gateway log:\n${lab.gatewayLog()}`);
      }
      return lab;
    } catch (e) {
      await dockerd.cleanup();
      rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }

  /** What the gateway printed (its JSON log lines). */
  gatewayLog(): string {
    return existsSync(this.gatewayLogPath) ? readFileSync(this.gatewayLogPath, 'utf8') : '';
  }

  /** The request records of the gateway's audit log (`--audit-log`), in order. */
  auditedRequests(): AuditedRequest[] {
    const file = join(this.work, 'audit.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as AuditedRequest & { type: string })
      .filter((r) => r.type === 'request');
  }

  /** Runs `dockward ARGS` (the binary) with the lab's home. */
  dw(args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
    return runCommand(process.execPath, [DOCKWARD_BIN, ...args], { env: this.baseEnv, timeoutMs });
  }

  /**
   * `dockward hosts add NAME --endpoint tcp://127.0.0.1:PORT [--role ROLE]` then `hosts context NAME`;
   * throws with dockward's stderr when either fails.
   */
  async addHost(name: string, role?: string): Promise<void> {
    const add = await this.dw([
      'hosts',
      'add',
      name,
      '--endpoint',
      `tcp://127.0.0.1:${this.port}`,
      ...(role ? ['--role', role] : []),
    ]);
    if (add.code !== 0) throw new Error(`hosts add ${name} exited ${add.code}: ${add.stderr}`);
    const ctx = await this.dw(['hosts', 'context', name]);
    if (ctx.code !== 0) throw new Error(`hosts context ${name} exited ${ctx.code}: ${ctx.stderr}`);
  }

  /**
   * Runs a bash line. With `host`, the line runs after `eval "$(dockward hosts env HOST)"`, as a user
   * types it. Without, DOCKER_HOST points at a socket that does not exist, so a client that misses
   * its context fails here instead of reaching the machine's own docker.
   */
  sh(
    line: string,
    options: { host?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
  ) {
    const env: NodeJS.ProcessEnv = { ...this.baseEnv, ...options.env };
    let script = line;
    if (options.host !== undefined)
      script = `set -e; eval "$(dockward hosts env ${options.host})"; set +e\n${line}`;
    else env['DOCKER_HOST'] ??= `unix://${join(this.work, 'no-such-docker.sock')}`;
    return runCommand('bash', ['-c', script], {
      env,
      timeoutMs: options.timeoutMs ?? 120_000,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  }

  /** The variables `eval "$(dockward hosts env NAME)"` exports in bash: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH. */
  async hostEnv(name: string): Promise<Record<string, string>> {
    const r = await this.sh('env -0', { host: name });
    if (r.code !== 0) throw new Error(`eval "$(dockward hosts env ${name})" failed: ${r.stderr}`);
    const out: Record<string, string> = {};
    for (const entry of r.stdout.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0 && entry.startsWith('DOCKER_') && entry.slice(0, eq) !== 'DOCKER_CONFIG') {
        out[entry.slice(0, eq)] = entry.slice(eq + 1);
      }
    }
    return out;
  }

  /** Stops the gateway (SIGTERM, SIGKILL after 10 s), then the dockerd, and removes the lab's folder. */
  async stop(): Promise<void> {
    if (!this.gatewayExited) {
      const exited = new Promise<void>((resolve) => this.gateway.once('exit', () => resolve()));
      this.gateway.kill('SIGTERM');
      const timer = setTimeout(() => this.gateway.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await this.dockerd.cleanup();
    rmSync(this.work, { recursive: true, force: true });
  }
}

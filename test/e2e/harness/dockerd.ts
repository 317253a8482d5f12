import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiResponse, pingUnix, requestUnix, type UnixRequestOptions } from './api.js';
import { findProgram } from './requirements.js';

/** How to start a private dockerd. On restart, the fields given replace the previous ones. */
export interface DockerdOptions {
  /** Flags appended after the harness's own (`--data-root ... --bridge=none --config-file ...`). */
  extraArgs?: readonly string[];
  /** A daemon.json kept by the caller, passed as `--config-file` as it is. Wins over `config`. */
  configFile?: string;
  /** daemon.json content written to `<base>/daemon.json` (an object as JSON, a string as is); default `{}`. */
  config?: Record<string, unknown> | string;
  /** Leave out `-H unix://<socket>`: the config must then list `host` in its `hosts` (a flag and a key may not both be set). */
  omitHostFlag?: boolean;
  /** How long to wait for `/_ping`; default 60 s. */
  startTimeoutMs?: number;
  /** How long SIGTERM may take before SIGKILL; default 30 s (dockerd waits up to 15 s for containers). */
  stopTimeoutMs?: number;
}

/** What one start attempt came to. */
export interface StartOutcome {
  /** True when `/_ping` answered OK. */
  up: boolean;
  /** Set when dockerd exited during the attempt. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when dockerd kept running but never answered in time (it has been stopped). */
  timedOut: boolean;
  /** The log written during this attempt only. */
  log: string;
  /** dockerd's own error line when it did not come up (e.g. "failed to start daemon: ..."). */
  errorLine: string | undefined;
  /** The full argv after `dockerd`. */
  args: string[];
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;
const BASE_PREFIX = 'dwe-';
const OWNER_FILE = 'harness.json';
// A unix socket path is limited to 108 bytes; containerd's lives deeper than ours, so keep a margin.
const MAX_BASE_LENGTH = 40;

/** A free TCP port on 127.0.0.1 (free when asked: bind it soon). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** The line of a dockerd log that says why it stopped: its last plain (non-logrus) line, else the last fatal/error. */
export function dockerdErrorLine(log: string): string | undefined {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('--- harness:'));
  const plain = lines.filter((l) => !l.startsWith('time='));
  if (plain.length > 0) return plain[plain.length - 1];
  const fatal = lines.filter((l) => /level=(fatal|error)/.test(l));
  return fatal[fatal.length - 1] ?? lines[lines.length - 1];
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** A private dockerd in its own temp folder: never the host's socket, data or daemon.json. */
export class PrivateDockerd {
  /** The temp folder holding everything below. */
  readonly baseDir: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfilePath: string;
  readonly socketPath: string;
  /** `unix://<socketPath>`, for DOCKER_HOST. */
  readonly host: string;
  /** dockerd's stdout and stderr, appended across restarts. */
  readonly logPath: string;
  /** The DOCKER_CONFIG folder of `env`, so the user's ~/.docker is never read or written. */
  readonly dockerConfigDir: string;
  private opts: DockerdOptions;
  private child: ChildProcess | undefined;
  private childExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private cleanedUp = false;
  private starts = 0;

  private constructor(baseDir: string, options: DockerdOptions) {
    this.baseDir = baseDir;
    this.dataRoot = join(baseDir, 'd');
    this.execRoot = join(baseDir, 'e');
    this.pidfilePath = join(baseDir, 'docker.pid');
    this.socketPath = join(baseDir, 'docker.sock');
    this.host = `unix://${this.socketPath}`;
    this.logPath = join(baseDir, 'dockerd.log');
    this.dockerConfigDir = join(baseDir, 'docker-config');
    this.opts = { ...options };
  }

  /** Makes the temp folders without starting dockerd (see `start`, `tryStart`). */
  static create(options: DockerdOptions = {}): PrivateDockerd {
    reapStaleOnce();
    const parent = tmpdir().length <= MAX_BASE_LENGTH - 12 ? tmpdir() : '/tmp';
    const baseDir = mkdtempSync(join(parent, BASE_PREFIX));
    const d = new PrivateDockerd(baseDir, options);
    mkdirSync(d.dockerConfigDir, { mode: 0o700 });
    writeFileSync(join(baseDir, OWNER_FILE), JSON.stringify({ ownerPid: process.pid }) + '\n');
    live.add(d);
    registerExitHandlers();
    return d;
  }

  /** The options the next start uses. */
  get options(): Readonly<DockerdOptions> {
    return this.opts;
  }

  /** The daemon.json passed as `--config-file`. */
  get configPath(): string {
    return this.opts.configFile ?? join(this.baseDir, 'daemon.json');
  }

  /** The pid of the running dockerd (ours, or one that another program started on these folders). */
  get pid(): number | undefined {
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      return this.child.pid;
    }
    const fromFile = readPidfile(this.pidfilePath);
    return fromFile !== undefined && isOurs(fromFile, this.baseDir) ? fromFile : undefined;
  }

  /** An environment for the docker CLI: DOCKER_HOST is this daemon, DOCKER_CONFIG a private folder, no other DOCKER_* inherited. */
  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DOCKER_')) env[k] = v;
    env.DOCKER_HOST = this.host;
    env.DOCKER_CONFIG = this.dockerConfigDir;
    return env;
  }

  /** The whole log so far. */
  readLog(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  /** One Engine API request over the daemon's socket. */
  request(path: string, options?: UnixRequestOptions): Promise<ApiResponse> {
    return requestUnix(this.socketPath, path, options);
  }

  /** Polls `/_ping` until it answers OK (true) or the time is up (false); for a dockerd restarted by someone else. */
  async waitForPing(timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await pingUnix(this.socketPath)) return true;
      await sleep(150);
    }
    return false;
  }

  /** Starts dockerd and reports whether it came up, with its log; never throws because dockerd failed. */
  async tryStart(options: DockerdOptions = {}): Promise<StartOutcome> {
    if (this.cleanedUp) throw new Error(`dockerd in ${this.baseDir} was cleaned up`);
    if (this.pid !== undefined)
      throw new Error(`dockerd in ${this.baseDir} is running already (pid ${this.pid})`);
    this.opts = { ...this.opts, ...options };
    const dockerd = findProgram('dockerd') ?? 'dockerd';
    if (this.opts.configFile === undefined) {
      const c = this.opts.config ?? {};
      writeFileSync(this.configPath, typeof c === 'string' ? c : JSON.stringify(c, null, 2) + '\n');
    }
    const args = [
      '--data-root',
      this.dataRoot,
      '--exec-root',
      this.execRoot,
      '--pidfile',
      this.pidfilePath,
      ...(this.opts.omitHostFlag === true ? [] : ['-H', this.host]),
      '--bridge=none',
      // Always explicit: the default /etc/docker/daemon.json is the host's and must not leak in.
      '--config-file',
      this.configPath,
      ...(this.opts.extraArgs ?? []),
    ];
    this.starts++;
    writeFileSync(this.logPath, `--- harness: start #${this.starts}: dockerd ${args.join(' ')}\n`, {
      flag: 'a',
    });
    const logOffset = statSync(this.logPath).size;
    const logFd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      // detached: dockerd leads its own process group, so a SIGKILL can reach containerd too.
      child = spawn(dockerd, args, { stdio: ['ignore', logFd, logFd], detached: true });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', (err) => {
        writeFileSync(this.logPath, `harness: cannot run ${dockerd}: ${err.message}\n`, { flag: 'a' });
        resolve({ code: null, signal: null });
      });
    });
    this.childExit = exit;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void exit.then((e) => {
      exited = e;
    });

    const deadline = Date.now() + (this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    let up = false;
    while (exited === undefined && Date.now() < deadline) {
      if (await pingUnix(this.socketPath)) {
        up = true;
        break;
      }
      await Promise.race([sleep(150), exit]);
    }
    const timedOut = !up && exited === undefined;
    if (timedOut) await this.stop();
    if (!up) unmountUnder(this.baseDir); // a failed start leaves data-root bind-mounted
    const log = readFrom(this.logPath, logOffset);
    return {
      up,
      exitCode: exited?.code ?? null,
      signal: exited?.signal ?? null,
      timedOut,
      log,
      errorLine: up ? undefined : dockerdErrorLine(log),
      args,
    };
  }

  /** Starts dockerd and waits for `/_ping`; throws with dockerd's error and last log lines if it does not come up. */
  async start(options: DockerdOptions = {}): Promise<this> {
    let outcome = await this.tryStart(options);
    // Private dockerds share the host's iptables: two that start at the same moment (parallel
    // suites) can both try to create DOCKER-ISOLATION-STAGE-2, and the second exits with "Chain
    // already exists". That is a race between test daemons, not a failure of the one under test.
    for (
      let retry = 1;
      retry <= 3 && !outcome.up && !outcome.timedOut && IPTABLES_RACE.test(outcome.log);
      retry++
    ) {
      await sleep(200 + Math.floor(Math.random() * 800));
      outcome = await this.tryStart(options);
    }
    if (!outcome.up) {
      const why = outcome.timedOut
        ? `did not answer /_ping within ${this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS} ms`
        : `exited (code ${outcome.exitCode}, signal ${outcome.signal})`;
      throw new Error(
        `dockerd ${why}: ${outcome.errorLine ?? '(no log)'}\n--- last lines of ${this.logPath} ---\n${lastLines(outcome.log, 20)}`,
      );
    }
    return this;
  }

  /** Stops dockerd (SIGTERM, then SIGKILL after `stopTimeoutMs`); a no-op when it is not running. */
  async stop(): Promise<void> {
    const stopTimeoutMs = this.opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    const child = this.child;
    if (
      child !== undefined &&
      this.childExit !== undefined &&
      child.exitCode === null &&
      child.signalCode === null
    ) {
      // Only dockerd itself: it stops its containers and its containerd in order.
      child.kill('SIGTERM');
      const done = await Promise.race([
        this.childExit.then(() => true),
        sleep(stopTimeoutMs, false, { ref: false }),
      ]);
      if (!done) {
        killProcessTree(this.baseDir);
        await this.childExit;
      }
    }
    // A dockerd that another program (re)started on our folders, e.g. `dockward daemon apply --restart process`.
    const other = readPidfile(this.pidfilePath);
    if (other !== undefined && isOurs(other, this.baseDir)) {
      process.kill(other, 'SIGTERM');
      if (!(await waitGone(other, stopTimeoutMs))) killProcessTree(this.baseDir);
    }
  }

  /** Stops and starts again on the same folders; the options given replace the previous ones. */
  async restart(options: DockerdOptions = {}): Promise<this> {
    await this.stop();
    return this.start(options);
  }

  /** Sends SIGHUP, which makes dockerd reload the reloadable daemon.json keys. */
  reload(): void {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`dockerd in ${this.baseDir} is not running`);
    process.kill(pid, 'SIGHUP');
  }

  /** Stops dockerd, kills anything left that runs from these folders, unmounts them and removes them. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.cleanedUp) return;
    try {
      await this.stop();
    } finally {
      killProcessTree(this.baseDir);
      await waitAllGone(this.baseDir, 5_000);
      unmountUnder(this.baseDir);
      rmSync(this.baseDir, { recursive: true, force: true });
      this.cleanedUp = true;
      live.delete(this);
    }
  }

  /** The synchronous last resort used on process exit. */
  cleanupSync(): void {
    if (this.cleanedUp) return;
    reapSync(this.baseDir, this.pid);
    this.cleanedUp = true;
    live.delete(this);
  }
}

/** dockerd's error when another dockerd created the same iptables chain a moment before. */
const IPTABLES_RACE =
  /iptables failed: iptables --wait .*(Chain already exists|Chain '[^']+' does not exist|No chain\/target\/match by that name)/;

/** Creates a private dockerd and starts it; on failure it cleans up and throws with dockerd's error. */
export async function startDockerd(options: DockerdOptions = {}): Promise<PrivateDockerd> {
  const d = PrivateDockerd.create(options);
  try {
    return await d.start();
  } catch (err) {
    await d.cleanup();
    throw err;
  }
}

/** Creates a private dockerd and tries to start it: the caller reads `outcome` and must `cleanup()` either way. */
export async function tryStartDockerd(
  options: DockerdOptions = {},
): Promise<{ dockerd: PrivateDockerd; outcome: StartOutcome }> {
  const dockerd = PrivateDockerd.create(options);
  try {
    return { dockerd, outcome: await dockerd.tryStart() };
  } catch (err) {
    await dockerd.cleanup();
    throw err;
  }
}

function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function readPidfile(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when the process exists and is not a zombie (a zombie has exited; only its parent has not reaped it). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** True when a live process names our folder on its command line (dockerd, its containerd, the shims). */
function isOurs(pid: number, baseDir: string): boolean {
  return isAlive(pid) && cmdlineOf(pid).includes(baseDir + '/');
}

/** The live processes started from the folder (by command line) and all their descendants (container processes). */
export function processesOf(baseDir: string): number[] {
  const parentOf = new Map<number, number>();
  const roots: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      parentOf.set(pid, Number(fields[1]));
    } catch {
      continue; // exited while we looked
    }
    if (cmdlineOf(pid).includes(baseDir + '/')) roots.push(pid);
  }
  const found = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parentOf) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/** SIGKILLs every process started from the folder, by pid. */
function killProcessTree(baseDir: string): void {
  for (const pid of processesOf(baseDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

async function waitAllGone(baseDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processesOf(baseDir).length > 0 && Date.now() < deadline) await sleep(100);
}

/** The mount points at or under a folder, deepest first. */
export function mountsUnder(dir: string): string[] {
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    // mountinfo escapes space, tab, newline and backslash as octal
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(dir + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or under a folder (overlay layers, netns files, the data-root bind mount). */
function unmountUnder(dir: string): void {
  // Stacked mounts on one point need one umount each, so go round until none is left.
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      const res = spawnSync('umount', [p], { stdio: 'ignore', timeout: 10_000 });
      if (res.status !== 0) spawnSync('umount', ['-l', p], { stdio: 'ignore', timeout: 10_000 });
    }
  }
}

/** Blocks the thread; only for the exit handler, where nothing asynchronous runs any more. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Synchronous teardown of a base folder: SIGTERM dockerd, then SIGKILL the rest, unmount, remove. */
function reapSync(baseDir: string, pid: number | undefined): void {
  const dockerdPid = pid ?? readPidfile(join(baseDir, 'docker.pid'));
  if (dockerdPid !== undefined && isAlive(dockerdPid)) {
    try {
      process.kill(dockerdPid, 'SIGTERM');
    } catch {
      // gone already
    }
    for (let waited = 0; waited < 10_000 && isAlive(dockerdPid); waited += 100) sleepSync(100);
  }
  killProcessTree(baseDir);
  for (let waited = 0; waited < 3_000 && processesOf(baseDir).length > 0; waited += 100) sleepSync(100);
  unmountUnder(baseDir);
  rmSync(baseDir, { recursive: true, force: true });
}

const live = new Set<PrivateDockerd>();
let handlersRegistered = false;

function registerExitHandlers(): void {
  if (handlersRegistered) return;
  handlersRegistered = true;
  process.on('exit', () => {
    for (const d of [...live]) d.cleanupSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      for (const d of [...live]) d.cleanupSync();
      // Keep the default outcome (death by that signal) unless someone else handles it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

let reapedStale = false;

function reapStaleOnce(): void {
  if (reapedStale) return;
  reapedStale = true;
  reapStaleDockerds();
}

/**
 * Tears down the base folders whose owning test process died without cleaning up (e.g. SIGKILLed):
 * their dockerd, containerd and containers, mounts and files. Returns the folders it removed.
 * Runs by itself the first time a process creates a PrivateDockerd.
 */
export function reapStaleDockerds(): string[] {
  const reaped: string[] = [];
  for (const parent of new Set([tmpdir(), '/tmp'])) {
    let names: string[] = [];
    try {
      names = readdirSync(parent).filter((n) => n.startsWith(BASE_PREFIX));
    } catch {
      continue;
    }
    for (const name of names) {
      const baseDir = join(parent, name);
      let ownerPid: unknown;
      try {
        ownerPid = (JSON.parse(readFileSync(join(baseDir, OWNER_FILE), 'utf8')) as { ownerPid?: unknown })
          .ownerPid;
      } catch {
        continue; // no owner file (yet): not ours to judge
      }
      if (typeof ownerPid === 'number' && !isAlive(ownerPid)) {
        reapSync(baseDir, undefined);
        reaped.push(baseDir);
      }
    }
  }
  return reaped;
}

/**
 * Restarting dockerd so a new daemon.json takes effect, in one of three modes:
 * - `systemd`: stop docker.service, restart docker.socket, start docker.service; dockerd's own
 *   output is read back from journald (identifier `dockerd`);
 * - `process`: a dockerd not run by systemd (init script, a supervisor, a test harness) is
 *   restarted from its pidfile with the exact command line, environment and working folder it
 *   had (`/proc/<pid>/cmdline`, `environ`, `cwd`): SIGTERM, wait for it to exit, spawn the same
 *   argv detached, its stdout/stderr appended to a log file, wait for the new pidfile;
 * - `none`: nothing is restarted; the new settings wait for the next restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockwardError, describeError } from '../errors.js';
import { splitProcCmdline } from './cmdline.js';
import {
  DOCKER_SOCKET_UNIT,
  DOCKER_UNIT,
  isSystemdBooted,
  mainPid,
  type ProgramRunner,
  readDockerService,
  runProgram,
  systemctl,
} from './systemd-io.js';

export const RESTART_MODES = ['systemd', 'process', 'none'] as const;
export type RestartMode = (typeof RESTART_MODES)[number];

/** Where dockerd writes its pid unless told otherwise (`--pidfile`). */
export const DEFAULT_PIDFILE = '/var/run/docker.pid';
/**
 * Where a dockerd restarted in `process` mode writes stdout/stderr by default: the file Debian's
 * and Docker's sysvinit scripts use, so the log stays where such hosts already keep it.
 */
export const DEFAULT_PROCESS_LOG = '/var/log/docker.log';

const DEFAULT_STOP_TIMEOUT_MS = 60_000;
const DEFAULT_START_TIMEOUT_MS = 90_000;

/** Parses `--restart`; throws DW_E_USAGE for anything else. */
export function parseRestartMode(value: string): RestartMode | 'auto' {
  if (value === 'auto' || (RESTART_MODES as readonly string[]).includes(value)) {
    return value as RestartMode | 'auto';
  }
  throw new DockwardError('DW_E_USAGE', `--restart "${value}" is not a restart mode`, {
    hint: `Pass one of ${RESTART_MODES.join(', ')} (or leave it out to detect it).`,
  });
}

/** A running dockerd as the kernel sees it. */
export interface DockerdProcess {
  pid: number;
  /** The exact argv (argv[0] included). */
  argv: string[];
  /** The executable (`/proc/<pid>/exe`), used when argv[0] is not an absolute path. */
  exe: string;
  /** The environment it was started with, when readable. */
  env: Record<string, string> | undefined;
  cwd: string;
}

/** The pid in a pidfile, or undefined when the file is missing or holds no pid. */
export function readPidfile(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when the process exists and has not exited (a zombie only waits for its parent to reap it). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Reads a process's command line, executable, environment and folder from /proc. */
export async function inspectProcess(pid: number): Promise<DockerdProcess | undefined> {
  if (!isAlive(pid)) return undefined;
  try {
    const argv = splitProcCmdline(await fs.readFile(`/proc/${pid}/cmdline`));
    if (argv.length === 0) return undefined; // a kernel thread, or it exited meanwhile
    const exe = await fs.readlink(`/proc/${pid}/exe`).catch(() => argv[0]!);
    const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => '/');
    let env: Record<string, string> | undefined;
    try {
      env = {};
      for (const entry of splitProcCmdline(await fs.readFile(`/proc/${pid}/environ`))) {
        const eq = entry.indexOf('=');
        if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
      }
    } catch {
      env = undefined;
    }
    return { pid, argv, exe: exe.replace(/ \(deleted\)$/, ''), env, cwd };
  } catch {
    return undefined;
  }
}

/** The dockerd named by a pidfile, when it runs. */
export async function findDockerd(pidfile: string): Promise<DockerdProcess | undefined> {
  const pid = readPidfile(pidfile);
  return pid === undefined ? undefined : inspectProcess(pid);
}

/**
 * dockerd's own reason for stopping, from its output: the last plain line (its fatal message is
 * printed without the logrus prefix, e.g. `failed to start daemon: ...` or `unable to configure
 * the Docker daemon with file ...`), else the last `level=fatal|error` message.
 */
export function dockerdErrorLine(log: string): string | undefined {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('--- '));
  const plain = lines.filter((l) => !/^time="/.test(l) && !/^level=/.test(l));
  if (plain.length > 0) return plain[plain.length - 1];
  const fatal = lines.filter((l) => /level=(fatal|error)/.test(l));
  const line = fatal[fatal.length - 1];
  if (line === undefined) return undefined;
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  return msg ? msg[1]!.replace(/\\"/g, '"') : line;
}

/** One start of dockerd, as far as the restarter can tell. */
export interface StartAttempt {
  /** The new main pid, once known. */
  pid: number | undefined;
  /** Set when dockerd has exited (process mode) or the service failed to start (systemd). */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** dockerd's output written since this start began. */
  readLog(): Promise<string>;
  /** Where that output is (a file, or the journald unit). */
  logSource: string;
}

/** Restarts dockerd in one mode. */
export interface Restarter {
  readonly mode: RestartMode;
  /** Stops dockerd when it runs, then starts it; resolves once it was started or has failed to. */
  restart(): Promise<StartAttempt>;
  /** Stops a dockerd this restarter started (one that runs but has the wrong settings). */
  stop(attempt: StartAttempt): Promise<void>;
  /** Human description, e.g. `process (pid 123, log /var/log/docker.log)`. */
  describe(): string;
}

/** SIGTERM, then wait; SIGKILL after the timeout (as systemd does after TimeoutStopSec). */
export async function stopProcess(
  pid: number,
  timeoutMs = DEFAULT_STOP_TIMEOUT_MS,
  progress?: (line: string) => void,
): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw new DockwardError('DW_E_UPSTREAM', `cannot signal dockerd (pid ${pid}): ${describeError(err)}`, {
      hint: 'Run dockward as root (the user dockerd runs as).',
      cause: err,
    });
  }
  if (await waitGone(pid, timeoutMs)) return;
  progress?.(`dockerd (pid ${pid}) did not stop within ${timeoutMs / 1000} s of SIGTERM: sending SIGKILL`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  if (!(await waitGone(pid, 10_000))) {
    throw new DockwardError('DW_E_UPSTREAM', `dockerd (pid ${pid}) does not exit, even after SIGKILL`, {
      hint: 'Look at the process (ps, /proc/PID/status): it may be stuck in the kernel (state D).',
    });
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

export interface ProcessRestarterOptions {
  pidfile: string;
  /** dockerd's stdout/stderr, appended (default /var/log/docker.log). */
  logFile?: string;
  stopTimeoutMs?: number;
  /** How long the new dockerd may take to write its pidfile. */
  startTimeoutMs?: number;
  progress?: (line: string) => void;
}

/** `process` mode: restarts a dockerd from its pidfile with the command line it had. */
export class ProcessRestarter implements Restarter {
  readonly mode = 'process' as const;
  readonly logFile: string;
  private readonly proc: DockerdProcess;
  private readonly options: ProcessRestarterOptions;

  constructor(proc: DockerdProcess, options: ProcessRestarterOptions) {
    this.proc = proc;
    this.options = options;
    this.logFile = options.logFile ?? DEFAULT_PROCESS_LOG;
  }

  /** The command line every restart uses. */
  get argv(): readonly string[] {
    return this.proc.argv;
  }

  describe(): string {
    return `process (pid ${this.proc.pid} from ${this.options.pidfile}, output to ${this.logFile})`;
  }

  async restart(): Promise<StartAttempt> {
    // Whatever runs from the pidfile now (the original, or a dockerd an earlier attempt started).
    const current = readPidfile(this.options.pidfile);
    for (const pid of new Set([this.proc.pid, ...(current === undefined ? [] : [current])])) {
      // Only a process with our command line: a pid may have been reused since it was read.
      if (isAlive(pid) && (await sameCommand(pid, this.proc.argv))) {
        await stopProcess(pid, this.options.stopTimeoutMs, this.options.progress);
      }
    }
    return this.spawnDockerd();
  }

  async stop(attempt: StartAttempt): Promise<void> {
    if (attempt.pid !== undefined)
      await stopProcess(attempt.pid, this.options.stopTimeoutMs, this.options.progress);
  }

  private async spawnDockerd(): Promise<StartAttempt> {
    const argv = this.proc.argv;
    const program = argv[0]!.startsWith('/') ? argv[0]! : this.proc.exe;
    await fs.mkdir(dirname(this.logFile), { recursive: true });
    const header = `--- dockward: restarting dockerd at ${new Date().toISOString()}: ${argv.join(' ')}\n`;
    await fs.appendFile(this.logFile, header, { mode: 0o640 });
    const offset = (await fs.stat(this.logFile)).size;
    const fd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      // detached: dockerd leads its own session and outlives dockward; its output goes to the log only.
      child = spawn(program, argv.slice(1), {
        argv0: argv[0]!,
        env: this.proc.env ?? process.env,
        cwd: this.proc.cwd,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: string | undefined;
    child.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    child.on('error', (err) => {
      spawnError = err.message;
      exited = { code: null, signal: null };
    });
    child.unref();
    const logFile = this.logFile;
    const attempt: StartAttempt = {
      pid: child.pid,
      exited: () => exited,
      readLog: async () => {
        const text = await fs
          .readFile(logFile)
          .then((b) => b.subarray(offset).toString('utf8'))
          .catch(() => '');
        return spawnError === undefined ? text : `${text}\ncannot run ${program}: ${spawnError}\n`;
      },
      logSource: logFile,
    };
    // dockerd writes its pidfile once its configuration loaded; a bad file makes it exit first.
    const deadline = Date.now() + (this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    while (exited === undefined && Date.now() < deadline) {
      if (child.pid !== undefined && readPidfile(this.options.pidfile) === child.pid) break;
      await sleep(100);
    }
    return attempt;
  }
}

async function sameCommand(pid: number, argv: readonly string[]): Promise<boolean> {
  const proc = await inspectProcess(pid);
  return proc !== undefined && proc.argv.join('\0') === argv.join('\0');
}

export interface SystemdRestarterOptions {
  unit?: string;
  /** The socket unit that hands dockerd its `fd://` listener (default docker.socket). */
  socketUnit?: string;
  run?: ProgramRunner;
  progress?: (line: string) => void;
  /** How long to wait for dockerd's own lines to reach the journal after a failed start. */
  journalWaitMs?: number;
}

/** The identifier dockerd's own output carries in the journal (`journalctl -t dockerd`). */
export const DOCKERD_IDENTIFIER = 'dockerd';

/**
 * `systemd` mode: stop docker.service, restart docker.socket, start docker.service; dockerd's
 * output read back from the journal.
 *
 * Why not `systemctl restart docker.service`: a dockerd started without `fd://` (daemon.json
 * `hosts` with the drop-in) binds /run/docker.sock itself and removes that file when it exits,
 * while docker.socket stays "listening" on a socket nobody can reach any more. A later start with
 * `-H fd://` (a rollback, or the next apply) would then serve a socket without a file. Restarting
 * docker.socket between stop and start binds the file again (checked on Debian bookworm under
 * systemd 252; test/hosts/ shows it). docker.service Requires= docker.socket, so the service must
 * be stopped first or restarting the socket stops it.
 */
export class SystemdRestarter implements Restarter {
  readonly mode = 'systemd' as const;
  private readonly unit: string;
  private readonly socketUnit: string;
  private readonly run: ProgramRunner;
  private readonly journalWaitMs: number;

  constructor(options: SystemdRestarterOptions = {}) {
    this.unit = options.unit ?? DOCKER_UNIT;
    this.socketUnit = options.socketUnit ?? DOCKER_SOCKET_UNIT;
    this.run = options.run ?? runProgram;
    this.journalWaitMs = options.journalWaitMs ?? 5_000;
  }

  describe(): string {
    return `systemd (systemctl stop ${this.unit}, restart ${this.socketUnit}, start ${this.unit})`;
  }

  async restart(): Promise<StartAttempt> {
    // Whole seconds, one back: journalctl --since compares to the second.
    const since = Math.floor(Date.now() / 1000) - 1;
    // A unit that failed repeatedly hits its start limit; clear it so the start is really tried.
    await systemctl(['reset-failed', this.unit], this.run).catch(() => undefined);
    const stopped = await systemctl(['stop', this.unit], this.run, DEFAULT_STOP_TIMEOUT_MS);
    if (stopped.code !== 0) {
      throw new DockwardError(
        'DW_E_UPSTREAM',
        `systemctl stop ${this.unit} failed: ${stopped.stderr.trim()}`,
        {
          hint: `Look at systemctl status ${this.unit}.`,
        },
      );
    }
    if (await unitLoaded(this.socketUnit, this.run)) {
      const socket = await systemctl(['restart', this.socketUnit], this.run, DEFAULT_STOP_TIMEOUT_MS);
      if (socket.code !== 0) {
        throw new DockwardError(
          'DW_E_UPSTREAM',
          `systemctl restart ${this.socketUnit} failed: ${socket.stderr.trim()}`,
          { hint: `Look at systemctl status ${this.socketUnit}.` },
        );
      }
    }
    const res = await systemctl(['start', this.unit], this.run, DEFAULT_START_TIMEOUT_MS);
    const failed = res.code !== 0 ? { code: res.code, signal: null } : undefined;
    const pid = failed ? undefined : await mainPid(this.unit, this.run);
    const unit = this.unit;
    const run = this.run;
    const waitMs = this.journalWaitMs;
    const readJournal = async (): Promise<string> => {
      // dockerd's own lines only: the unit's journal ends with systemd's "Failed to start ..."
      const log = await run(
        'journalctl',
        [
          '--unit',
          unit,
          '--identifier',
          DOCKERD_IDENTIFIER,
          `--since=@${since}`,
          '--no-pager',
          '--output=cat',
          '--lines=200',
        ],
        { timeoutMs: 30_000 },
      );
      return log.stdout;
    };
    return {
      pid,
      exited: () => failed,
      readLog: async () => {
        let log = await readJournal();
        // journald receives dockerd's stdout through a stream: its last line may lag the failure.
        const deadline = Date.now() + waitMs;
        while (failed && dockerdErrorLine(log) === undefined && Date.now() < deadline) {
          await sleep(250);
          log = await readJournal();
        }
        // systemctl's own complaint first: dockerd's last line, when there is one, is the reason.
        return `${failed ? `${res.stderr}\n` : ''}${log}`;
      },
      logSource: `journalctl -u ${unit} -t ${DOCKERD_IDENTIFIER}`,
    };
  }

  async stop(): Promise<void> {
    await systemctl(['stop', this.unit], this.run);
  }
}

/** True when systemd knows the unit (`LoadState=loaded`). */
async function unitLoaded(unit: string, run: ProgramRunner): Promise<boolean> {
  const res = await systemctl(['show', '--property=LoadState', '--value', unit], run);
  return res.code === 0 && res.stdout.trim() === 'loaded';
}

/**
 * Picks the restart mode: systemd when the machine runs systemd and has docker.service, else
 * process when the pidfile names a running dockerd. Throws DW_E_USAGE when neither fits.
 */
export async function detectRestartMode(options: {
  root?: string;
  pidfile: string;
}): Promise<{ mode: RestartMode; why: string }> {
  const root = options.root ?? '/';
  if ((await isSystemdBooted(root)) && (await readDockerService(root)) !== undefined) {
    return { mode: 'systemd', why: 'systemd runs this machine and docker.service exists' };
  }
  const proc = await findDockerd(options.pidfile);
  if (proc)
    return { mode: 'process', why: `no systemd; dockerd runs as pid ${proc.pid} (${options.pidfile})` };
  throw new DockwardError(
    'DW_E_USAGE',
    `cannot tell how to restart dockerd: no systemd docker.service, and no running dockerd in ${options.pidfile}`,
    {
      hint: 'Pass --pidfile PATH of the running dockerd, or --restart none to only write the file.',
    },
  );
}

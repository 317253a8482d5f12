/**
 * `daemon status`: is dockerd running (pid, command line), which version answers, with which
 * effective configuration, how its socket is set, and its last log lines (journald when systemd
 * runs it, else the log file it writes to).
 */
import { promises as fs } from 'node:fs';
import type { EffectiveConfig } from './effective-config.js';
import {
  describeEndpoint,
  type EngineEndpoint,
  type EngineVersion,
  endpointFromHost,
  engineJson,
} from '../docker/engine-client.js';
import {
  currentCommandLine,
  DEFAULT_SOCKET,
  effectiveOf,
  type EngineVersionInfo,
  readHostState,
  unixSocketOf,
} from './host-state.js';
import { parseDaemonHost } from './hosts.js';
import { checkSocket, type SocketReport } from './socket-perms.js';
import { DOCKER_UNIT, isSystemdBooted, type ProgramRunner, runProgram } from './systemd-io.js';

export interface StatusOptions {
  configPath?: string;
  pidfile?: string;
  root?: string;
  /** Where to ask `/version` (default: the first unix socket configured). */
  host?: string;
  /** The log of a dockerd not run by systemd (default /var/log/docker.log). */
  logFile?: string;
  /** How many log lines (default 20). */
  lines?: number;
  run?: ProgramRunner;
}

export interface DaemonStatus {
  running: boolean;
  pid: number | undefined;
  pidfile: string;
  /** How dockerd is run: systemd when the machine runs systemd and has docker.service, else process. */
  managedBy: 'systemd' | 'process' | 'unknown';
  /** `systemctl is-active docker.service`, under systemd. */
  unitState: string | undefined;
  commandLine: { from: string; where: string; argv: string[] } | undefined;
  endpoint: string;
  /** `/version`, when dockerd answered. */
  version: EngineVersion | undefined;
  versionError: string | undefined;
  /** The binary's `--version` (what a restart would run). */
  engine: EngineVersionInfo;
  configPath: string;
  configExists: boolean;
  effective: EffectiveConfig;
  sockets: SocketReport[];
  /** `systemctl status docker.service`, under systemd. */
  unit: { source: string; lines: string[]; error?: string } | undefined;
  /**
   * dockerd's last log lines: `journalctl -u docker.service` under systemd, else the file its
   * output goes to (`--log-file`, or what its stdout is open on). Never a file of another daemon.
   */
  log: { source: string; lines: string[]; error?: string } | undefined;
}

/** Gathers dockerd's status; never fails because dockerd is down (that is a status too). */
export async function daemonStatus(options: StatusOptions = {}): Promise<DaemonStatus> {
  const run = options.run ?? runProgram;
  const state = await readHostState({
    ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
    ...(options.pidfile !== undefined ? { pidfile: options.pidfile } : {}),
    ...(options.root !== undefined ? { root: options.root } : {}),
    run,
  });
  const cmd = currentCommandLine(state);
  const effective = effectiveOf(
    state.file.path,
    state.file.analysis.config,
    state.file.analysis.keyOrder,
    cmd,
  );
  const endpoint: EngineEndpoint =
    options.host !== undefined
      ? endpointFromHost(options.host)
      : { kind: 'unix', socketPath: unixSocketOf(effective.config) ?? DEFAULT_SOCKET };

  let version: EngineVersion | undefined;
  let versionError: string | undefined;
  try {
    version = await engineJson<EngineVersion>(endpoint, '/version', 5_000);
  } catch (err) {
    versionError = (err as Error).message;
  }

  let unitState: string | undefined;
  let managedBy: DaemonStatus['managedBy'] = state.process ? 'process' : 'unknown';
  const systemdRuns = state.systemd !== undefined && (await isSystemdBooted(state.root));
  let unit: DaemonStatus['unit'];
  if (systemdRuns) {
    const res = await run('systemctl', ['is-active', DOCKER_UNIT], { timeoutMs: 10_000 });
    unitState = res.stdout.trim() || undefined;
    // On a systemd host dockerd belongs to docker.service, running or not: its log is the journal.
    managedBy = 'systemd';
    unit = await unitStatus(run);
  }

  const group = typeof effective.config.group === 'string' ? effective.config.group : 'docker';
  const sockets: SocketReport[] = [];
  for (const raw of effective.config.hosts ?? []) {
    try {
      const host = parseDaemonHost(raw);
      if (host.scheme === 'unix' && host.path) sockets.push(await checkSocket(host.path, group));
    } catch {
      // reported by validate
    }
  }

  const lines = options.lines ?? 20;
  let log: DaemonStatus['log'];
  if (managedBy === 'systemd') {
    log = await journalTail(run, lines);
  } else {
    const file = options.logFile ?? (state.process ? await outputFileOf(state.process.pid) : undefined);
    log = file === undefined ? undefined : await fileTail(file, lines);
  }

  return {
    running: state.process !== undefined,
    pid: state.process?.pid,
    pidfile: state.pidfile,
    managedBy,
    unitState,
    commandLine: cmd ? { from: cmd.from, where: cmd.where, argv: cmd.argv } : undefined,
    endpoint: describeEndpoint(endpoint),
    version,
    versionError,
    engine: state.engine,
    configPath: state.file.path,
    configExists: state.file.exists,
    effective,
    sockets,
    unit,
    log,
  };
}

/** `systemctl status docker.service` (exit 3 only means "not running": its text is still the status). */
async function unitStatus(run: ProgramRunner): Promise<DaemonStatus['unit']> {
  const source = `systemctl status ${DOCKER_UNIT}`;
  const res = await run('systemctl', ['status', '--no-pager', '--lines=0', DOCKER_UNIT], {
    timeoutMs: 15_000,
  });
  const lines = res.stdout
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '');
  if (lines.length === 0) return { source, lines, error: res.stderr.trim() || `exit ${res.code}` };
  return { source, lines };
}

/**
 * The regular file a process's stdout (else stderr) is open on: where a dockerd not run by
 * systemd writes its log. Undefined for a pipe, a terminal, /dev/null or an unreadable fd — then
 * no file is shown, rather than a file of the same name some other dockerd writes.
 */
async function outputFileOf(pid: number): Promise<string | undefined> {
  for (const fd of [1, 2]) {
    const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
    if (target === undefined || !target.startsWith('/') || target.endsWith(' (deleted)')) continue;
    const st = await fs.stat(target).catch(() => undefined);
    if (st?.isFile()) return target;
  }
  return undefined;
}

async function journalTail(run: ProgramRunner, lines: number): Promise<DaemonStatus['log']> {
  const source = `journalctl -u ${DOCKER_UNIT}`;
  const res = await run(
    'journalctl',
    ['--unit', DOCKER_UNIT, `--lines=${lines}`, '--no-pager', '--output=short-iso'],
    { timeoutMs: 15_000 },
  );
  if (res.code !== 0) return { source, lines: [], error: res.stderr.trim() || `exit ${res.code}` };
  return {
    source,
    lines: res.stdout
      .trimEnd()
      .split('\n')
      .filter((l) => l !== ''),
  };
}

/** The last lines of a log file, read from its end (logs grow large). */
export async function fileTail(path: string, lines: number): Promise<DaemonStatus['log']> {
  let handle: import('node:fs/promises').FileHandle | undefined;
  try {
    handle = await fs.open(path, 'r');
    const { size } = await handle.stat();
    const want = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(want);
    await handle.read(buffer, 0, want, size - want);
    const text = buffer.toString('utf8');
    const all = text.split('\n').filter((l) => l !== '');
    // The first line may be cut in the middle when the file is larger than what was read.
    const whole = want < size ? all.slice(1) : all;
    return { source: path, lines: whole.slice(-lines) };
  } catch (err) {
    return { source: path, lines: [], error: (err as Error).message };
  } finally {
    await handle?.close();
  }
}

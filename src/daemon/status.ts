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
import { DEFAULT_PROCESS_LOG } from './restart.js';
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
  /** How dockerd is run: systemd when docker.service is active, else process. */
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
  if (systemdRuns) {
    const res = await run('systemctl', ['is-active', DOCKER_UNIT], { timeoutMs: 10_000 });
    unitState = res.stdout.trim() || undefined;
    if (unitState === 'active' || unitState === 'activating' || !state.process) managedBy = 'systemd';
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
  const log =
    managedBy === 'systemd'
      ? await journalTail(run, lines)
      : await fileTail(options.logFile ?? DEFAULT_PROCESS_LOG, lines);

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
    log,
  };
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

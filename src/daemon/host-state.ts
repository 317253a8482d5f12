/**
 * What is true of this host's dockerd right now, read from disk and /proc: the running process
 * (pidfile → /proc/<pid>/cmdline), docker.service and its drop-ins, which daemon.json dockerd
 * reads, that file's content, and the engine version that will read it. The commands build on
 * this; the merging and checking are the pure modules'.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { DockwardError, describeError } from '../errors.js';
import { type ParsedCmdline, parseDockerdArgs } from './cmdline.js';
import { DEFAULT_CONFIG_FILE, type EffectiveConfig, mergeEffectiveConfig } from './effective-config.js';
import { parseDaemonHost } from './hosts.js';
import { DEFAULT_ENGINE_MAJOR, type DaemonConfig } from './keys.js';
import { analyzeDaemonJson, type DaemonJsonAnalysis } from './parse.js';
import { DEFAULT_PIDFILE, type DockerdProcess, findDockerd } from './restart.js';
import { type DockerServiceFiles, type ProgramRunner, readDockerService, runProgram } from './systemd-io.js';
import { dockerdArgv } from './systemd-unit.js';

/** A dockerd command line and where it was read. */
export interface CommandLine {
  from: 'process' | 'systemd';
  /** `/proc/123/cmdline` or the unit file that holds the effective ExecStart. */
  where: string;
  argv: string[];
  parsed: ParsedCmdline;
}

/** The engine version that reads the file, and how it was found. */
export interface EngineVersionInfo {
  major: number;
  /** `20.10.24+dfsg1`, when known. */
  version: string | undefined;
  /** `dockerd --version` of which binary, or `assumed` (the key table's default engine). */
  source: string;
}

/** daemon.json as it is on disk. */
export interface ConfigFileState {
  path: string;
  /** Why this path: `--config`, dockerd's `--config-file`, or dockerd's default. */
  chosenBy: string;
  exists: boolean;
  bytes: Buffer | undefined;
  /** File mode bits, when it exists. */
  mode: number | undefined;
  analysis: DaemonJsonAnalysis;
}

export interface HostStateOptions {
  /** `--config`: the daemon.json to read (default: what dockerd reads). */
  configPath?: string;
  /** default /var/run/docker.pid */
  pidfile?: string;
  /** The root the systemd units are read from (default `/`). */
  root?: string;
  run?: ProgramRunner;
}

export interface HostState {
  root: string;
  pidfile: string;
  /** The dockerd named by the pidfile, when it runs. */
  process: DockerdProcess | undefined;
  /** docker.service, when installed. */
  systemd: DockerServiceFiles | undefined;
  /** The running process's command line (`from: 'process'`), if any. */
  processCommandLine: CommandLine | undefined;
  /** The unit's effective ExecStart (`from: 'systemd'`), if any. */
  unitCommandLine: CommandLine | undefined;
  /** The daemon.json path dockerd itself reads (its `--config-file`, else the default), under `root`. */
  dockerdConfigPath: string;
  file: ConfigFileState;
  engine: EngineVersionInfo;
}

/** Parses `Docker version 20.10.24+dfsg1, build 5d6db84` (the output of `dockerd --version`). */
export function parseDockerdVersion(output: string): { version: string; major: number } | undefined {
  const m = /version\s+v?((\d+)\.\d+[^\s,]*)/i.exec(output);
  return m ? { version: m[1]!, major: Number(m[2]) } : undefined;
}

/** Runs `<binary> --version`; undefined when it cannot run or says nothing recognizable. */
export async function dockerdVersion(
  binary: string,
  run: ProgramRunner = runProgram,
): Promise<{ version: string; major: number } | undefined> {
  const res = await run(binary, ['--version'], { timeoutMs: 15_000 });
  return res.code === 0 ? parseDockerdVersion(res.stdout) : undefined;
}

/** Reads a daemon.json (bytes as they are, so a BOM or UTF-16 is judged like dockerd judges it). */
export async function readConfigFile(
  path: string,
  chosenBy: string,
  engineMajor: number,
): Promise<ConfigFileState> {
  let bytes: Buffer | undefined;
  let mode: number | undefined;
  try {
    bytes = await fs.readFile(path);
    mode = (await fs.stat(path)).mode & 0o7777;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw new DockwardError('DW_E_FILE', `cannot read ${path}: ${describeError(err)}`, {
        hint: 'Run as root, or pass --config with a readable copy.',
        cause: err,
      });
    }
  }
  const analysis = analyzeDaemonJson(bytes ?? '', { source: path, engineMajor });
  return { path, chosenBy, exists: bytes !== undefined, bytes, mode, analysis };
}

/** Gathers the host state the daemon commands work from. */
export async function readHostState(options: HostStateOptions = {}): Promise<HostState> {
  const root = options.root ?? '/';
  const pidfile = options.pidfile ?? DEFAULT_PIDFILE;
  const run = options.run ?? runProgram;
  const proc = await findDockerd(pidfile);
  const systemd = await readDockerService(root);

  const unitCmd = systemd?.service.execStart.at(-1);
  const unitArgv = unitCmd ? dockerdArgv(unitCmd).argv : undefined;
  // The binary a restart runs; else whatever dockerd is on PATH (a unit may name a path not here).
  let binary = proc?.exe ?? unitCmd?.program ?? 'dockerd';
  let found = await dockerdVersion(binary, run);
  if (!found && binary !== 'dockerd') {
    found = await dockerdVersion('dockerd', run);
    if (found) binary = 'dockerd';
  }
  const engine: EngineVersionInfo = found
    ? { major: found.major, version: found.version, source: `${binary} --version` }
    : { major: DEFAULT_ENGINE_MAJOR, version: undefined, source: 'assumed' };
  const parseOpts = { engineMajor: engine.major };

  const processCommandLine: CommandLine | undefined = proc
    ? {
        from: 'process',
        where: `/proc/${proc.pid}/cmdline`,
        argv: proc.argv,
        parsed: parseDockerdArgs(proc.argv, parseOpts),
      }
    : undefined;
  const unitCommandLine: CommandLine | undefined =
    unitCmd && unitArgv
      ? {
          from: 'systemd',
          where: unitCmd.path,
          argv: unitArgv,
          parsed: parseDockerdArgs(unitArgv, parseOpts),
        }
      : undefined;

  const running = processCommandLine ?? unitCommandLine;
  // Under a root other than / (a unit tree in tests, a mounted image) dockerd's paths live below it.
  const dockerdConfigPath = resolve(root, `.${resolve(running?.parsed.configFile ?? DEFAULT_CONFIG_FILE)}`);
  const configPath = options.configPath !== undefined ? resolve(options.configPath) : dockerdConfigPath;
  const chosenBy =
    options.configPath !== undefined
      ? '--config'
      : running?.parsed.configFile !== undefined
        ? `dockerd --config-file (${running.where})`
        : 'dockerd default';
  const file = await readConfigFile(configPath, chosenBy, engine.major);
  return {
    root,
    pidfile,
    process: proc,
    systemd,
    processCommandLine,
    unitCommandLine,
    dockerdConfigPath,
    file,
    engine,
  };
}

/** The command line that matters: the running process's, else the unit's. */
export function currentCommandLine(state: HostState): CommandLine | undefined {
  return state.processCommandLine ?? state.unitCommandLine;
}

/** daemon.json merged with a command line, with every key's source. */
export function effectiveOf(
  path: string,
  config: DaemonConfig,
  keys: readonly string[] | undefined,
  commandLine: CommandLine | undefined,
  includeDefaults = false,
): EffectiveConfig {
  return mergeEffectiveConfig({
    file: { path, config, ...(keys ? { keys } : {}) },
    ...(commandLine ? { flags: { where: commandLine.where, parsed: commandLine.parsed } } : {}),
    includeDefaults,
  });
}

/** The first `unix://` listener of a config, for the local socket dockward talks to. */
export function unixSocketOf(config: DaemonConfig): string | undefined {
  for (const raw of config.hosts ?? []) {
    try {
      const host = parseDaemonHost(raw);
      if (host.scheme === 'unix' && host.path) return host.path;
    } catch {
      // an invalid entry is the checks' business
    }
  }
  return undefined;
}

/** dockerd's default socket, used when no unix listener is configured. */
export const DEFAULT_SOCKET = '/var/run/docker.sock';

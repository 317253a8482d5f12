/**
 * `daemon apply`: put a new daemon.json in force, or put the old one back.
 *
 * validate the candidate → back up daemon.json → write it atomically → write the systemd drop-in
 * when `hosts` needs one (+ daemon-reload) → restart dockerd → wait for `/_ping` → check through
 * `/info`, the socket and the TLS listener that the settings took → on any failure after the
 * write: restore the backup (and the drop-in), restart again, and report dockerd's own error.
 */
import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DockwardError, describeError } from '../errors.js';
import { backupFile, MODE_PUBLIC_FILE, writeFileAtomic } from '../store/atomic-write.js';
import type { Finding } from './checks.js';
import { parseDockerdArgs } from './cmdline.js';
import type { EffectiveConfig } from './effective-config.js';
import { unifiedDiff } from './diff.js';
import {
  describeEndpoint,
  dialAddress,
  type EngineEndpoint,
  type EngineInfo,
  endpointFromHost,
  engineJson,
  probeTlsListener,
  tcpReachable,
  waitForPing,
} from '../docker/engine-client.js';
import { type Change, harden } from './harden.js';
import {
  type CommandLine,
  currentCommandLine,
  DEFAULT_SOCKET,
  effectiveOf,
  type HostState,
  readHostState,
  unixSocketOf,
} from './host-state.js';
import { parseDaemonHost } from './hosts.js';
import type { DaemonConfig } from './keys.js';
import { analyzeDaemonJson, DaemonConfigError } from './parse.js';
import type { ProfileName, ProfileOptions } from './profiles.js';
import {
  detectRestartMode,
  dockerdErrorLine,
  ProcessRestarter,
  type Restarter,
  type RestartMode,
  type StartAttempt,
  SystemdRestarter,
} from './restart.js';
import { processStartTime, servedTlsFiles, tlsFilesNewerThan } from './served-tls.js';
import { checkSocket, ensureSocketPermissions, type SocketReport } from './socket-perms.js';
import {
  DROP_IN_DIR,
  daemonReload,
  type ProgramRunner,
  restoreDropIn,
  runProgram,
  type WrittenDropIn,
  writeDropIn,
} from './systemd-io.js';
import { dockerdArgv, effectiveService, planFlagRemovalDropIn } from './systemd-unit.js';
import {
  type DockerdValidateOutcome,
  errorLines,
  validateDaemonConfig,
  validationError,
  warningLines,
} from './validate.js';

const DEFAULT_START_TIMEOUT_MS = 90_000;

export interface ApplyOptions {
  /** The daemon.json to change. */
  configPath: string;
  /** A prepared daemon.json to put in place (exclusive with `profile`). */
  from?: string;
  /** Harden the current file with this profile and put the result in place. */
  profile?: ProfileName;
  /** Profile parameters (cert folder, listen address, port); the socket is kept as configured. */
  profileOptions?: Omit<ProfileOptions, 'socketPath'>;
  restart?: RestartMode | 'auto';
  pidfile?: string;
  /** Root of the systemd unit tree (default `/`). */
  root?: string;
  /** Where to reach dockerd for `/_ping` and `/info` (default: the first unix socket configured). */
  host?: string;
  /** `process` mode: where the restarted dockerd's output goes (default /var/log/docker.log). */
  logFile?: string;
  /** Accept a tcp listener without TLS client verification (the seeds say never). */
  allowPlainTcp?: boolean;
  /**
   * Write the candidate even when dockward's checks refuse it (not when it is not JSON): dockerd
   * has the last word and a failed start is rolled back. For keys newer than dockward knows.
   */
  skipChecks?: boolean;
  /** How long dockerd may take to answer `/_ping` after a restart (default 90 s). */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Files the checks should take as present (init installs the TLS files just before). */
  overlay?: Readonly<Record<string, string>>;
  /**
   * Called after the candidate was validated and written, before the restart. Tests use it to
   * change the file behind dockward's back (a key dockerd refuses) and prove the rollback.
   */
  afterWrite?: (configPath: string) => void | Promise<void>;
  /**
   * Restart even when daemon.json is unchanged, for this reason (init: the certificate or key it
   * serves was replaced). Without it, apply still restarts when the TLS files are newer than the
   * running dockerd, which reads them only at start.
   */
  restartReason?: string;
  /**
   * Puts back files the caller changed with the configuration (host install: the TLS files), run on
   * a rollback before dockerd restarts with the previous configuration.
   */
  restoreOnRollback?: () => Promise<void>;
  /** More checks on the restarted dockerd (init connects over TLS); a failed one rolls back. */
  verify?: () => Promise<VerifyCheck[]>;
  /** Progress lines for humans. */
  progress?: (line: string) => void;
  run?: ProgramRunner;
  /** A restarter to use instead of the one the mode picks (tests). */
  restarter?: Restarter;
}

/** One thing checked on the restarted dockerd. */
export interface VerifyCheck {
  what: string;
  ok: boolean;
  expected: string;
  actual: string;
}

export interface ApplyResult {
  configPath: string;
  /** False when the file already had this content: nothing was written (see `restart`). */
  changed: boolean;
  /** Why dockerd was restarted with an unchanged daemon.json (e.g. new TLS files), if it was. */
  restartReason: string | undefined;
  mode: RestartMode;
  modeReason: string;
  backup: string | undefined;
  /** For a profile: what changed, key by key. */
  changes: Change[];
  diff: string;
  dropIn: { path: string; content: string; removedFlags: string[] } | undefined;
  warnings: string[];
  dockerdValidate: DockerdValidateOutcome;
  restart: { oldPid: number | undefined; newPid: number | undefined; logSource: string } | undefined;
  verified: VerifyCheck[];
  sockets: SocketReport[];
  notes: string[];
}

/** The candidate, validated, with everything needed to put it in place. */
interface Plan {
  state: HostState;
  mode: RestartMode;
  modeReason: string;
  content: Buffer;
  config: DaemonConfig;
  effective: EffectiveConfig;
  changes: Change[];
  diff: string;
  dropIn: { fileName: string; content: string; removedFlags: string[] } | undefined;
  warnings: string[];
  notes: string[];
  dockerdValidate: DockerdValidateOutcome;
  changed: boolean;
}

/** Applies a daemon.json (prepared or hardened with a profile) and restarts dockerd; rolls back on failure. */
export async function applyDaemonConfig(options: ApplyOptions): Promise<ApplyResult> {
  const progress = options.progress ?? (() => undefined);
  const plan = await planApply(options);
  const { state, mode } = plan;
  const configPath = state.file.path;
  const base = {
    configPath,
    mode,
    modeReason: plan.modeReason,
    changes: plan.changes,
    diff: plan.diff,
    warnings: plan.warnings,
    dockerdValidate: plan.dockerdValidate,
  };
  const restartReason = plan.changed ? undefined : await unchangedRestartReason(options, plan);
  if (!plan.changed && (restartReason === undefined || mode === 'none')) {
    progress(
      restartReason === undefined
        ? `${configPath} already holds these settings: nothing to write or restart`
        : `${configPath} already holds these settings; not restarted (--restart none) although ${restartReason}`,
    );
    return {
      ...base,
      changed: false,
      restartReason: undefined,
      backup: undefined,
      dropIn: undefined,
      restart: undefined,
      verified: [],
      sockets: [],
      notes: plan.notes,
    };
  }

  const restarter = mode === 'none' ? undefined : (options.restarter ?? makeRestarter(options, state, mode));
  for (const w of plan.warnings) if (w.startsWith('ignored (--skip-checks)')) progress(w);
  progress(`validated ${configPath} (dockerd --validate ${plan.dockerdValidate.detail})`);
  if (restartReason !== undefined)
    progress(`${configPath} already holds these settings, but ${restartReason}`);

  // From here on, every failure puts the old files back.
  const backup = plan.changed ? await backupFile(configPath) : undefined;
  if (backup) progress(`backed up ${configPath} to ${backup}`);
  await fs.mkdir(dirname(configPath), { recursive: true, mode: 0o755 });
  let writtenDropIn: WrittenDropIn | undefined;
  const restoreFiles = async (): Promise<void> => {
    await options.restoreOnRollback?.();
    if (!plan.changed) return; // nothing was written: the restart alone is undone by restarting
    if (backup) {
      await writeFileAtomic(configPath, await fs.readFile(backup), {
        mode: state.file.mode ?? MODE_PUBLIC_FILE,
      });
    } else {
      await fs.rm(configPath, { force: true });
    }
    if (writtenDropIn) {
      await restoreDropIn(writtenDropIn);
      await daemonReload(options.run ?? runProgram);
    }
  };

  try {
    if (plan.changed) {
      await writeFileAtomic(configPath, plan.content, { mode: state.file.mode ?? MODE_PUBLIC_FILE });
      progress(`wrote ${configPath}`);
      await options.afterWrite?.(configPath);
    }
    if (plan.dropIn && mode === 'systemd') {
      writtenDropIn = await writeDropIn(state.root, plan.dropIn.fileName, plan.dropIn.content);
      progress(`wrote ${writtenDropIn.path} (ExecStart without ${plan.dropIn.removedFlags.join(', ')})`);
      await daemonReload(options.run ?? runProgram);
      progress('systemctl daemon-reload');
    }
  } catch (err) {
    await restoreFiles().catch(() => undefined);
    throw err;
  }

  const dropIn = plan.dropIn
    ? { path: writtenDropIn?.path ?? join(state.root, DROP_IN_DIR, plan.dropIn.fileName), ...plan.dropIn }
    : undefined;
  if (!restarter) {
    return {
      ...base,
      changed: true,
      restartReason: undefined,
      backup,
      dropIn,
      restart: undefined,
      verified: [],
      sockets: [],
      notes: [
        ...plan.notes,
        'not restarted (--restart none): dockerd keeps its current settings until its next restart',
      ],
    };
  }

  const endpoint = pingEndpoint(options, plan.config, plan.effective);
  const oldPid = state.process?.pid;
  progress(`restarting dockerd: ${restarter.describe()}`);
  let attempt: StartAttempt | undefined;
  let failure: string | undefined;
  let verified: VerifyCheck[] = [];
  let sockets: SocketReport[] = [];
  try {
    attempt = await restarter.restart();
    const up = await waitUp(attempt, endpoint, options.startTimeoutMs);
    if (!up.ok) {
      failure = up.reason;
    } else {
      progress(
        `dockerd answers on ${describeEndpoint(endpoint)}${attempt.pid ? ` (pid ${attempt.pid})` : ''}`,
      );
      verified = await verifyDaemon(plan.config, plan.effective, endpoint, options);
      if (options.verify) verified.push(...(await options.verify()));
      sockets = await verifySockets(plan.effective);
      // A missing group is dockerd's documented fallback (root group), not a failed apply.
      for (const s of sockets) {
        if (s.expectedGid === undefined) plan.warnings.push(`socket ${s.path}: ${s.problems.join('; ')}`);
      }
      const bad = [
        ...verified.filter((v) => !v.ok).map((v) => `${v.what}: expected ${v.expected}, found ${v.actual}`),
        ...sockets
          .filter((s) => !s.ok && s.expectedGid !== undefined)
          .map((s) => `socket ${s.path}: ${s.problems.join('; ')}`),
      ];
      if (bad.length > 0) failure = `dockerd runs but the settings did not take: ${bad.join('; ')}`;
    }
  } catch (err) {
    failure = describeError(err);
  }

  if (failure === undefined) {
    return {
      ...base,
      changed: plan.changed,
      restartReason,
      backup,
      dropIn,
      restart: { oldPid, newPid: attempt?.pid, logSource: attempt?.logSource ?? '' },
      verified,
      sockets,
      notes: plan.notes,
    };
  }

  // Roll back: the old files, a restart, and dockerd's own words about why the new ones failed.
  const log = attempt ? await attempt.readLog() : '';
  const said = dockerdErrorLine(log);
  progress(`dockerd did not take the new configuration: ${failure}`);
  if (said) progress(`dockerd said: ${said}`);
  progress(`rolling back: restoring ${backup ?? `(no previous ${configPath}: removing it)`}`);
  let rollbackPid: number | undefined;
  let rollbackFailure: string | undefined;
  try {
    await restoreFiles();
    const again = await restarter.restart();
    const up = await waitUp(again, endpoint, options.startTimeoutMs);
    if (up.ok) {
      rollbackPid = again.pid;
    } else {
      const saidAgain = dockerdErrorLine(await again.readLog());
      rollbackFailure = `${up.reason}${saidAgain ? `; dockerd said: ${saidAgain}` : ''}`;
    }
  } catch (err) {
    rollbackFailure = describeError(err);
  }
  const logSource = attempt?.logSource ?? 'the dockerd log';
  const what = plan.changed ? `the new ${configPath}` : `${configPath} (${restartReason})`;
  const head = `dockerd did not come up with ${what}: ${failure}${said && !failure.includes(said) ? `\n  dockerd said: ${said}` : ''}`;
  if (rollbackFailure !== undefined) {
    throw new DockwardError(
      'DW_E_ROLLBACK_FAILED',
      `${head}\n  the rollback failed too: ${rollbackFailure}\n  ${configPath} holds the previous content again${backup ? ` (${backup})` : ''}, but dockerd is not answering`,
      { hint: `dockerd is down: read ${logSource}, fix the cause and start it by hand.` },
    );
  }
  progress(
    `rolled back: dockerd runs again with the previous configuration${rollbackPid ? ` (pid ${rollbackPid})` : ''}`,
  );
  throw new DockwardError(
    'DW_E_APPLY_FAILED',
    plan.changed
      ? `${head}\n  rolled back: ${configPath} restored${backup ? ` from ${backup}` : ' (removed: there was none before)'}${writtenDropIn ? ` and ${writtenDropIn.path} undone` : ''}; dockerd runs again with the previous configuration${rollbackPid ? ` (pid ${rollbackPid})` : ''}`
      : `${head}\n  ${configPath} was not changed; dockerd was started again${rollbackPid ? ` (pid ${rollbackPid})` : ''}`,
    { hint: `Fix what dockerd complained about and apply again; its full output is in ${logSource}.` },
  );
}

/**
 * Why dockerd must restart although daemon.json is unchanged: the caller's reason, else TLS files
 * newer than the running dockerd (it reads them only at start). Undefined: no restart needed.
 */
async function unchangedRestartReason(options: ApplyOptions, plan: Plan): Promise<string | undefined> {
  if (options.restartReason !== undefined) return options.restartReason;
  const pid = plan.state.process?.pid;
  const started = pid === undefined ? undefined : processStartTime(pid);
  if (started === undefined) return undefined;
  const newer = await tlsFilesNewerThan(servedTlsFiles(plan.effective.config), started);
  return newer.length > 0
    ? `${newer.join(', ')} changed after dockerd (pid ${pid}) started, and dockerd reads TLS files only at start`
    : undefined;
}

/** Validates the candidate and works out the drop-in; throws (exit 2) on bad input. Writes nothing. */
export async function planApply(options: ApplyOptions): Promise<Plan> {
  if ((options.from === undefined) === (options.profile === undefined)) {
    throw new DockwardError('DW_E_USAGE', 'apply needs exactly one of --from FILE and --profile NAME', {
      hint: 'dockward daemon apply --config /etc/docker/daemon.json --profile baseline',
    });
  }
  const run = options.run ?? runProgram;
  const state = await readHostState({
    configPath: options.configPath,
    ...(options.pidfile !== undefined ? { pidfile: options.pidfile } : {}),
    ...(options.root !== undefined ? { root: options.root } : {}),
    run,
  });
  const requested = options.restart ?? 'auto';
  const { mode, why: modeReason } =
    requested === 'auto'
      ? await detectRestartMode({ root: state.root, pidfile: state.pidfile })
      : { mode: requested, why: 'asked for with --restart' };
  const notes: string[] = [];
  const warnings: string[] = [];

  if (mode === 'process' && !state.process) {
    throw new DockwardError('DW_E_UPSTREAM', `no dockerd runs from ${state.pidfile}`, {
      hint: '--restart process restarts a running dockerd with its own command line: pass its --pidfile (or use --restart none).',
    });
  }
  if (mode === 'systemd' && !state.systemd) {
    throw new DockwardError('DW_E_USAGE', `--restart systemd, but no docker.service under ${state.root}`, {
      hint: 'Use --restart process with --pidfile, or --restart none.',
    });
  }
  // The command line dockerd will run with after the restart.
  const commandLine: CommandLine | undefined =
    mode === 'systemd'
      ? state.unitCommandLine
      : mode === 'process'
        ? state.processCommandLine
        : currentCommandLine(state);
  const configPath = state.file.path;
  if (commandLine && resolve(state.dockerdConfigPath) !== configPath) {
    const message = `dockerd reads ${state.dockerdConfigPath} (${commandLine.where}), not ${configPath}`;
    if (mode !== 'none') {
      throw new DockwardError('DW_E_USAGE', message, { hint: `Pass --config ${state.dockerdConfigPath}.` });
    }
    warnings.push(message);
  }

  // The candidate.
  const current = state.file;
  let content: Buffer;
  let changes: Change[] = [];
  if (options.from !== undefined) {
    try {
      content = await fs.readFile(options.from);
    } catch (err) {
      throw new DockwardError('DW_E_INPUT', `cannot read --from ${options.from}: ${describeError(err)}`, {
        hint: 'Pass the path of a prepared daemon.json.',
        cause: err,
      });
    }
  } else {
    if (!current.analysis.ok) {
      throw new DaemonConfigError(
        `${configPath} (the current file, which the profile is merged into)`,
        current.analysis.issues,
      );
    }
    const existingCurrent = effectiveOf(
      configPath,
      current.analysis.config,
      current.analysis.keyOrder,
      commandLine,
    );
    const hardened = harden(current.analysis.config, options.profile!, {
      ...options.profileOptions,
      socketPath: unixSocketOf(existingCurrent.config) ?? DEFAULT_SOCKET,
      ...(commandLine ? { flags: commandLine.parsed } : {}),
      path: configPath,
      allowInsecureTcp: options.allowPlainTcp === true,
    });
    changes = hardened.changes;
    const blocking = hardened.conflicts.filter((c) => c.resolution === 'manual' || mode !== 'systemd');
    if (blocking.length > 0 && !options.skipChecks) {
      throw new DockwardError(
        'DW_E_INPUT',
        `the ${options.profile} profile cannot be applied to ${configPath}:\n${blocking.map((c) => `  ${c.key}: ${describeConflict(c.code, c.message, mode)}`).join('\n')}`,
        {
          hint: conflictHint(
            blocking.map((c) => c.code),
            mode,
          ),
        },
      );
    }
    content = Buffer.from(hardened.text);
  }

  const analysis = analyzeDaemonJson(content, {
    source: options.from ?? configPath,
    engineMajor: state.engine.major,
  });
  if (
    analysis.issues.some(
      (i) => i.code === 'json-syntax' || i.code === 'encoding' || i.code === 'root-not-object',
    )
  ) {
    // Not even --skip-checks writes something that is not a JSON object.
    throw new DaemonConfigError(options.from ?? configPath, analysis.issues);
  }
  const candidate = analysis.config;

  // systemd: when the file sets hosts and ExecStart passes -H, the documented drop-in goes with it.
  let dropIn: Plan['dropIn'];
  let checkLine = commandLine;
  if (mode === 'systemd' && state.systemd && candidate.hosts !== undefined) {
    const unit = state.systemd;
    const planned = planFlagRemovalDropIn(unit.unit, unit.dropIns, {
      keys: ['hosts'],
      config: candidate,
      env: unit.env,
      engineMajor: state.engine.major,
    });
    notes.push(...planned.notes);
    if (planned.needed) {
      if (!planned.verified) {
        throw new DockwardError(
          'DW_E_INPUT',
          `cannot move -H out of docker.service's ExecStart safely (${unit.unit.path})`,
          {
            hint: 'Write the drop-in by hand (empty ExecStart= then dockerd without -H), then apply with --restart systemd.',
          },
        );
      }
      dropIn = { fileName: planned.fileName, content: planned.content, removedFlags: planned.removedFlags };
      const after = effectiveService(
        unit.unit,
        [...unit.dropIns, { path: join(state.root, DROP_IN_DIR, planned.fileName), text: planned.content }],
        { env: unit.env },
      );
      const cmd = after.execStart.at(-1);
      if (cmd && commandLine) {
        const argv = dockerdArgv(cmd).argv;
        checkLine = {
          ...commandLine,
          where: `${commandLine.where} + ${planned.fileName}`,
          argv,
          parsed: parseDockerdArgs(argv, { engineMajor: state.engine.major }),
        };
      }
    }
  }

  const report = await validateDaemonConfig({
    path: configPath,
    content,
    commandLine: checkLine,
    engine: state.engine,
    dockerdBinary: state.process?.exe ?? state.unitCommandLine?.argv[0] ?? 'dockerd',
    allowInsecureTcp: options.allowPlainTcp === true,
    ...(options.overlay ? { overlay: options.overlay } : {}),
    run,
  });
  if (mode === 'process') adjustForProcessMode(report.findings);
  if (!report.ok) {
    if (!options.skipChecks) throw validationError(report, options.from ?? configPath);
    for (const line of errorLines(report)) warnings.push(`ignored (--skip-checks): ${line}`);
  }
  warnings.push(...warningLines(report));

  const before = current.bytes ?? Buffer.alloc(0);
  const changed = !before.equals(content) || dropIn !== undefined;
  return {
    state,
    mode,
    modeReason,
    content,
    config: candidate,
    effective: report.effective,
    changes,
    diff: unifiedDiff(before.toString('utf8'), content.toString('utf8'), {
      fromFile: `a${configPath}`,
      toFile: `b${configPath}`,
    }),
    dropIn,
    warnings,
    notes,
    dockerdValidate: report.dockerdValidate,
    changed,
  };
}

/** In process mode there is no unit to fix: the -H flags are part of the command line dockward keeps. */
function adjustForProcessMode(findings: Finding[]): void {
  for (const f of findings) {
    if (f.code !== 'hosts-conflict') continue;
    f.message = `${f.message}. This dockerd is restarted with its exact command line, which passes -H`;
    f.hint =
      'Leave "hosts" out of daemon.json, or change the script that starts dockerd to drop -H (then list every listener in "hosts").';
  }
}

function describeConflict(code: string, message: string, mode: RestartMode): string {
  if (code === 'hosts-conflict' && mode !== 'systemd') {
    return `${message} (only a systemd unit can be fixed with a drop-in; this dockerd runs with -H on its own command line)`;
  }
  return message;
}

function conflictHint(codes: string[], mode: RestartMode): string {
  if (codes.includes('hosts-conflict') && mode !== 'systemd') {
    return 'Start dockerd without -H (list the listeners in "hosts" instead), then apply again.';
  }
  return 'Resolve the conflicts listed (daemon.json or the dockerd command line), then apply again.';
}

function makeRestarter(
  options: ApplyOptions,
  state: HostState,
  mode: Exclude<RestartMode, 'none'>,
): Restarter {
  if (mode === 'systemd') {
    return new SystemdRestarter({
      ...(options.run ? { run: options.run } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
    });
  }
  return new ProcessRestarter(state.process!, {
    pidfile: state.pidfile,
    ...(options.logFile !== undefined ? { logFile: options.logFile } : {}),
    ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
    ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });
}

/** `--host`, else the first unix socket of the new configuration, else dockerd's default socket. */
function pingEndpoint(
  options: ApplyOptions,
  config: DaemonConfig,
  effective: EffectiveConfig,
): EngineEndpoint {
  if (options.host !== undefined) return endpointFromHost(options.host);
  return {
    kind: 'unix',
    socketPath: unixSocketOf(config) ?? unixSocketOf(effective.config) ?? DEFAULT_SOCKET,
  };
}

async function waitUp(
  attempt: StartAttempt,
  endpoint: EngineEndpoint,
  timeoutMs = DEFAULT_START_TIMEOUT_MS,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const up = await waitForPing(endpoint, { timeoutMs, stop: () => attempt.exited() !== undefined });
  if (up) return { ok: true };
  const exited = attempt.exited();
  if (exited) {
    return {
      ok: false,
      reason: `dockerd exited${exited.code !== null ? ` with code ${exited.code}` : ''}${exited.signal ? ` on ${exited.signal}` : ''}`,
    };
  }
  return {
    ok: false,
    reason: `dockerd did not answer /_ping on ${describeEndpoint(endpoint)} within ${Math.round(timeoutMs / 1000)} s`,
  };
}

/** What `/info` must show for a configuration; keys it cannot show are not checked. */
export function verifyInfo(config: DaemonConfig, info: EngineInfo): VerifyCheck[] {
  const checks: VerifyCheck[] = [];
  const add = (what: string, ok: boolean, expected: unknown, actual: unknown): void => {
    checks.push({
      what,
      ok,
      expected: String(expected),
      actual: actual === undefined ? '(absent)' : String(actual),
    });
  };
  const security = info.SecurityOptions ?? [];
  const remap = config['userns-remap'];
  if (typeof remap === 'string' && remap !== '') {
    add(
      'userns-remap (SecurityOptions)',
      security.includes('name=userns'),
      'name=userns',
      security.join(', '),
    );
  }
  if (typeof config['live-restore'] === 'boolean') {
    add(
      'live-restore (LiveRestoreEnabled)',
      info.LiveRestoreEnabled === config['live-restore'],
      config['live-restore'],
      info.LiveRestoreEnabled,
    );
  }
  if (typeof config['log-driver'] === 'string') {
    add(
      'log-driver (LoggingDriver)',
      info.LoggingDriver === config['log-driver'],
      config['log-driver'],
      info.LoggingDriver,
    );
  }
  if (typeof config.experimental === 'boolean') {
    add(
      'experimental (ExperimentalBuild)',
      info.ExperimentalBuild === config.experimental,
      config.experimental,
      info.ExperimentalBuild,
    );
  }
  if (typeof config.debug === 'boolean') {
    add('debug (Debug)', info.Debug === config.debug, config.debug, info.Debug);
  }
  if (typeof config['default-runtime'] === 'string') {
    add(
      'default-runtime (DefaultRuntime)',
      info.DefaultRuntime === config['default-runtime'],
      config['default-runtime'],
      info.DefaultRuntime,
    );
  }
  for (const label of config.labels ?? []) {
    add(
      `label ${label} (Labels)`,
      (info.Labels ?? []).includes(label),
      label,
      (info.Labels ?? []).join(', '),
    );
  }
  return checks;
}

async function verifyDaemon(
  config: DaemonConfig,
  effective: EffectiveConfig,
  endpoint: EngineEndpoint,
  options: ApplyOptions,
): Promise<VerifyCheck[]> {
  const info = await engineJson<EngineInfo>(endpoint, '/info');
  const checks = verifyInfo(config, info);
  checks.push(...(await verifyTcpListeners(effective, options)));
  return checks;
}

/** Each tcp listener is up; with TLS, it serves a certificate from tlscacert and refuses clients without one. */
async function verifyTcpListeners(effective: EffectiveConfig, options: ApplyOptions): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  const c = effective.config;
  const tls = c.tlsverify === true || (c.tls === true && c.tlsverify !== false);
  for (const raw of c.hosts ?? []) {
    let host: ReturnType<typeof parseDaemonHost>;
    try {
      host = parseDaemonHost(raw, { tls });
    } catch {
      continue;
    }
    if (host.scheme !== 'tcp' || host.host === undefined || host.port === undefined) continue;
    const address = dialAddress(host.host);
    const what = `listener ${host.normalized}`;
    if (!tls || c.tlsverify === false) {
      const up = await tcpReachable(address, host.port);
      checks.push({
        what,
        ok: up || options.allowPlainTcp !== true,
        expected: 'accepting connections',
        actual: up ? 'accepting connections' : 'not reachable',
      });
      continue;
    }
    const caPath = typeof c.tlscacert === 'string' ? c.tlscacert : undefined;
    const ca = caPath
      ? (options.overlay?.[caPath] ?? (await fs.readFile(caPath, 'utf8').catch(() => undefined)))
      : undefined;
    if (ca === undefined) continue; // the file checks reported it
    const probe = await probeTlsListener(address, host.port, ca);
    const ok = probe.reachable && probe.serverTrusted === true && !probe.answeredWithoutClientCert;
    checks.push({
      what,
      ok,
      expected: 'TLS with a certificate from tlscacert, clients without a certificate refused',
      actual: !probe.reachable
        ? `not reachable (${probe.detail})`
        : probe.serverTrusted !== true
          ? `its certificate does not chain to ${caPath} (${probe.detail})`
          : probe.answeredWithoutClientCert
            ? 'it answered a client without a certificate'
            : `refuses clients without a certificate (${probe.detail})`,
    });
  }
  return checks;
}

/** The unix sockets of the new configuration: root:<group> 0660 (fixed when something changed them). */
async function verifySockets(effective: EffectiveConfig): Promise<SocketReport[]> {
  const group = typeof effective.config.group === 'string' ? effective.config.group : 'docker';
  const reports: SocketReport[] = [];
  for (const raw of effective.config.hosts ?? []) {
    let host: ReturnType<typeof parseDaemonHost>;
    try {
      host = parseDaemonHost(raw);
    } catch {
      continue;
    }
    if (host.scheme !== 'unix' || !host.path) continue;
    const report = await checkSocket(host.path, group);
    reports.push(
      report.ok || report.expectedGid === undefined
        ? report
        : await ensureSocketPermissions(host.path, group),
    );
  }
  return reports;
}

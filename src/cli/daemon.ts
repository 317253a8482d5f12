import { Command, Option } from 'commander';
import { applyDaemonConfig, type ApplyResult } from '../daemon/apply.js';
import { hardenConfigFile } from '../daemon/harden-file.js';
import { parseListen } from '../daemon/host-init.js';
import { currentCommandLine, effectiveOf, readHostState } from '../daemon/host-state.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../daemon/profiles.js';
import { DEFAULT_PIDFILE, DEFAULT_PROCESS_LOG, parseRestartMode } from '../daemon/restart.js';
import { DOCKER_GROUP_WARNING, octal } from '../daemon/socket-perms.js';
import { daemonStatus } from '../daemon/status.js';
import { errorLines, validateDaemonConfig, validationError, warningLines } from '../daemon/validate.js';
import { DockwardError } from '../errors.js';
import { contextOf } from './context.js';
import { renderTable } from './output.js';

/** The options every daemon subcommand shares. */
interface HostFlags {
  config?: string;
  pidfile: string;
  root: string;
}

function hostFlags(cmd: Command): Command {
  return cmd
    .option(
      '--config <path>',
      'daemon.json (default: what dockerd reads: its --config-file, else /etc/docker/daemon.json)',
    )
    .option('--pidfile <path>', 'pidfile of the running dockerd', DEFAULT_PIDFILE)
    .option('--root <dir>', 'root folder the systemd units are read from (and the drop-in written to)', '/');
}

function profileOf(value: string): ProfileName {
  if (!isProfileName(value)) {
    throw new DockwardError('DW_E_USAGE', `unknown profile "${value}"`, {
      hint: `Pass one of ${PROFILE_NAMES.join(', ')}.`,
    });
  }
  return value;
}

function secondsOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 3600) {
    throw new DockwardError('DW_E_USAGE', `--timeout "${value}" is not a number of seconds (1-3600)`, {
      hint: 'For example --timeout 120.',
    });
  }
  return n;
}

function profileOptionsOf(opts: { certDir?: string; listen?: string }) {
  const listen = opts.listen ? parseListen(opts.listen) : undefined;
  return {
    ...(opts.certDir ? { certDir: opts.certDir } : {}),
    ...(listen ? { listenAddress: listen.address, port: listen.port } : {}),
  };
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `dockward daemon show|status|harden|validate|apply`. */
export function daemonCommand(): Command {
  const daemon = new Command('daemon').description(
    'dockerd configuration: show and check daemon.json, harden it with a profile, apply it with a restart and rollback.',
  );

  hostFlags(daemon.command('show'))
    .description(
      'The effective configuration: daemon.json merged with the dockerd command line, each key with its source.',
    )
    .option('--all', "include dockerd's defaults for keys nobody set")
    .action(async (opts: HostFlags & { all?: boolean }, cmd: Command) => {
      const { out } = contextOf(cmd);
      const state = await readHostState({
        ...(opts.config ? { configPath: opts.config } : {}),
        pidfile: opts.pidfile,
        root: opts.root,
      });
      const line = currentCommandLine(state);
      const effective = effectiveOf(
        state.file.path,
        state.file.analysis.config,
        state.file.analysis.keyOrder,
        line,
        opts.all === true,
      );
      const data = {
        configPath: state.file.path,
        configExists: state.file.exists,
        chosenBy: state.file.chosenBy,
        commandLine: line ? { from: line.from, where: line.where, argv: line.argv } : undefined,
        engine: state.engine,
        entries: effective.entries,
        conflicts: effective.conflicts,
        issues: state.file.analysis.issues,
      };
      out.result(data, (d) =>
        [
          `daemon.json  ${d.configPath}${d.configExists ? '' : ' (does not exist)'} (${d.chosenBy})`,
          `command line ${d.commandLine ? `${d.commandLine.argv.join(' ')} (${d.commandLine.where})` : 'none found (no running dockerd, no docker.service)'}`,
          `engine       ${d.engine.version ?? `${d.engine.major} (assumed)`}`,
          '',
          d.entries.length === 0
            ? 'no settings (dockerd runs with its defaults)'
            : renderTable(
                ['KEY', 'VALUE', 'SOURCE'],
                d.entries.map((e) => [e.key, show(e.value), e.source]),
              ),
          ...d.conflicts.map((c) => `CONFLICT ${c.key}: ${c.message}`),
          ...d.issues.map(
            (i) =>
              `${i.severity.toUpperCase()} ${i.line !== undefined ? `line ${i.line}, column ${i.column}: ` : ''}${i.message}`,
          ),
        ].join('\n'),
      );
    });

  hostFlags(daemon.command('status'))
    .description('Is dockerd running: pid, version, effective configuration, socket, last log lines.')
    .option('--host <url>', 'where to ask /version (default: the first unix socket configured)')
    .option(
      '--log-file <path>',
      'log of a dockerd not run by systemd (default: the file its output is open on)',
    )
    .option('--lines <n>', 'log lines to show', (v) => Number.parseInt(v, 10), 20)
    .action(async (opts: HostFlags & { host?: string; logFile?: string; lines: number }, cmd: Command) => {
      const { out } = contextOf(cmd);
      const status = await daemonStatus({
        ...(opts.config ? { configPath: opts.config } : {}),
        pidfile: opts.pidfile,
        root: opts.root,
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.logFile ? { logFile: opts.logFile } : {}),
        lines: opts.lines,
      });
      out.result(status, (s) =>
        [
          `dockerd      ${s.running ? `running, pid ${s.pid}` : `not running (no live pid in ${s.pidfile})`}, managed by ${s.managedBy}${s.unitState ? ` (docker.service ${s.unitState})` : ''}`,
          `command line ${s.commandLine ? s.commandLine.argv.join(' ') : '-'}`,
          `version      ${s.version ? `${s.version.Version} (API ${s.version.ApiVersion}) on ${s.endpoint}` : `no answer on ${s.endpoint}: ${s.versionError}`}`,
          `daemon.json  ${s.configPath}${s.configExists ? '' : ' (does not exist)'}`,
          '',
          s.effective.entries.length === 0
            ? 'no settings (dockerd runs with its defaults)'
            : renderTable(
                ['KEY', 'VALUE', 'SOURCE'],
                s.effective.entries.map((e) => [e.key, show(e.value), e.source]),
              ),
          ...s.effective.conflicts.map((c) => `CONFLICT ${c.key}: ${c.message}`),
          ...s.sockets.map(
            (k) =>
              `socket ${k.path}: ${k.exists ? `uid ${k.uid} gid ${k.gid} mode ${octal(k.mode ?? 0)}` : 'missing'}${k.ok ? ' (ok)' : ` (${k.problems.join('; ')})`}`,
          ),
          '',
          ...(s.unit
            ? [
                `${s.unit.source}:`,
                ...(s.unit.error ? [`  cannot read: ${s.unit.error}`] : s.unit.lines.map((l) => `  ${l}`)),
                '',
              ]
            : []),
          s.log
            ? [
                `last log lines (${s.log.source}):`,
                ...(s.log.error ? [`  cannot read: ${s.log.error}`] : s.log.lines.map((l) => `  ${l}`)),
              ].join('\n')
            : "no log (dockerd's output is not in a file: pass --log-file PATH)",
        ].join('\n'),
      );
    });

  hostFlags(daemon.command('harden'))
    .description(
      'Merge a hardening profile into daemon.json: report each change and conflict; --write writes it after a backup.',
    )
    .option('--profile <name>', PROFILE_NAMES.join(' | '), 'baseline')
    .option('--diff', 'print a unified diff')
    .option('--write', 'write the result atomically after a timestamped backup')
    .option('--cert-dir <dir>', 'remote-tls: folder of the server TLS files (default /etc/docker/tls)')
    .option('--listen <host:port>', 'remote-tls: TLS listener (default 0.0.0.0:2376)')
    .option(
      '--allow-plain-tcp',
      'accept a tcp listener without TLS client verification (never outside a lab)',
    )
    .action(
      async (
        opts: HostFlags & {
          profile: string;
          diff?: boolean;
          write?: boolean;
          certDir?: string;
          listen?: string;
          allowPlainTcp?: boolean;
        },
        cmd: Command,
      ) => {
        const { out } = contextOf(cmd);
        const res = await hardenConfigFile({
          ...(opts.config ? { configPath: opts.config } : {}),
          profile: profileOf(opts.profile),
          profileOptions: profileOptionsOf(opts),
          pidfile: opts.pidfile,
          root: opts.root,
          allowPlainTcp: opts.allowPlainTcp === true,
          write: opts.write === true,
        });
        out.result(res, (r) =>
          [
            `${r.path}${r.existed ? '' : ' (new file)'}: profile ${r.profile}${r.commandLine ? `, checked against ${r.commandLine.where}` : ''}`,
            renderTable(
              ['', 'KEY', 'FROM', 'TO'],
              r.changes.map((c) => [
                c.kind === 'add' ? '+' : c.kind === 'change' ? '~' : '=',
                c.key,
                c.from === undefined ? '-' : show(c.from),
                `${show(c.to)}${c.note ? ` (${c.note})` : ''}`,
              ]),
            ),
            ...r.conflicts.map(
              (c) =>
                `CONFLICT ${c.key} [${c.code}]: ${c.message}${c.resolution === 'systemd-drop-in' ? ' (daemon apply writes the systemd drop-in)' : ''}`,
            ),
            ...(opts.diff && r.diff ? ['', r.diff.trimEnd()] : []),
            '',
            !r.changed
              ? 'nothing to change: the file already has every setting of the profile'
              : r.written
                ? `wrote ${r.path}${r.backup ? ` (backup ${r.backup})` : ''}; restart dockerd to apply it (or use daemon apply)`
                : 'not written: pass --write to write it, or use daemon apply to write and restart',
            ...(r.changes.some((c) => c.key === 'group') ? ['', DOCKER_GROUP_WARNING] : []),
          ].join('\n'),
        );
      },
    );

  hostFlags(daemon.command('validate'))
    .description(
      'Check daemon.json as dockerd would (keys, types, flag conflicts, semantics, TLS files), then dockerd --validate when it has it (>= 23).',
    )
    .option('--allow-plain-tcp', 'accept a tcp listener without TLS client verification')
    .action(async (opts: HostFlags & { allowPlainTcp?: boolean }, cmd: Command) => {
      const { out } = contextOf(cmd);
      const state = await readHostState({
        ...(opts.config ? { configPath: opts.config } : {}),
        pidfile: opts.pidfile,
        root: opts.root,
      });
      if (!state.file.exists) {
        throw new DockwardError('DW_E_INPUT', `${state.file.path} does not exist`, {
          hint: 'Pass --config with the daemon.json to check.',
        });
      }
      const report = await validateDaemonConfig({
        path: state.file.path,
        content: state.file.bytes ?? '',
        commandLine: currentCommandLine(state),
        engine: state.engine,
        dockerdBinary: state.process?.exe ?? state.unitCommandLine?.argv[0] ?? 'dockerd',
        allowInsecureTcp: opts.allowPlainTcp === true,
      });
      const human = [
        `${report.path}: checked for dockerd ${report.engine.version ?? `${report.engine.major} (assumed)`}${report.commandLine ? ` with the command line of ${report.commandLine.where}` : ''}`,
        ...errorLines(report).map((l) => `ERROR   ${l}`),
        ...warningLines(report).map((l) => `WARNING ${l}`),
        `dockerd --validate: ${report.dockerdValidate.detail}`,
        report.ok ? 'OK: dockerd would start with this file' : 'FAILED: dockerd would refuse to start',
      ].join('\n');
      if (!report.ok) {
        // JSON callers get the error object (every problem in its message); humans the report too.
        if (!out.json) out.result(report, () => human);
        throw validationError(report);
      }
      out.result({ ...report, effective: report.effective.entries }, () => human);
    });

  hostFlags(daemon.command('apply'))
    .description(
      'Validate, back up, write, restart dockerd, wait for /_ping, verify through /info; roll back on any failure.',
    )
    .addOption(new Option('--from <file>', 'a prepared daemon.json to put in place').conflicts('profile'))
    .option('--profile <name>', `harden the current file with a profile: ${PROFILE_NAMES.join(' | ')}`)
    .option('--restart <mode>', 'systemd | process | none (default: detected)', 'auto')
    .option(
      '--host <url>',
      'where dockerd answers after the restart (default: the first unix socket configured)',
    )
    .option(
      '--log-file <path>',
      `process mode: where the restarted dockerd's output goes (default ${DEFAULT_PROCESS_LOG})`,
    )
    .option('--cert-dir <dir>', 'remote-tls: folder of the server TLS files (default /etc/docker/tls)')
    .option('--listen <host:port>', 'remote-tls: TLS listener (default 0.0.0.0:2376)')
    .option(
      '--allow-plain-tcp',
      'accept a tcp listener without TLS client verification (never outside a lab)',
    )
    .option(
      '--skip-checks',
      "write even when dockward's checks refuse the file; dockerd decides and a failed start is rolled back",
    )
    .option('--timeout <seconds>', 'how long dockerd may take to answer after the restart', secondsOf, 90)
    .action(
      async (
        opts: HostFlags & {
          from?: string;
          profile?: string;
          restart: string;
          host?: string;
          logFile?: string;
          certDir?: string;
          listen?: string;
          allowPlainTcp?: boolean;
          skipChecks?: boolean;
          timeout: number;
        },
        cmd: Command,
      ) => {
        const { out } = contextOf(cmd);
        if (!opts.config) {
          throw new DockwardError(
            'DW_E_USAGE',
            'daemon apply needs --config PATH (the daemon.json dockerd reads)',
            {
              hint: 'dockward daemon apply --config /etc/docker/daemon.json --profile baseline',
            },
          );
        }
        const res = await applyDaemonConfig({
          configPath: opts.config,
          ...(opts.from !== undefined ? { from: opts.from } : {}),
          ...(opts.profile !== undefined ? { profile: profileOf(opts.profile) } : {}),
          profileOptions: profileOptionsOf(opts),
          restart: parseRestartMode(opts.restart),
          pidfile: opts.pidfile,
          root: opts.root,
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.logFile ? { logFile: opts.logFile } : {}),
          allowPlainTcp: opts.allowPlainTcp === true,
          skipChecks: opts.skipChecks === true,
          startTimeoutMs: opts.timeout * 1000,
          progress: (line) => out.info(line),
        });
        out.result(res, renderApply);
      },
    );

  return daemon;
}

/** The human summary of an apply. */
export function renderApply(r: ApplyResult): string {
  if (!r.changed && !r.restart) return `nothing to apply: ${r.configPath} already holds these settings`;
  return [
    r.changed
      ? `applied ${r.configPath} (restart: ${r.mode}, ${r.modeReason})`
      : `restarted dockerd (${r.mode}): ${r.configPath} unchanged, but ${r.restartReason}`,
    ...(r.backup ? [`  backup       ${r.backup}`] : []),
    ...(r.dropIn ? [`  drop-in      ${r.dropIn.path} (without ${r.dropIn.removedFlags.join(', ')})`] : []),
    ...(r.restart
      ? [
          `  dockerd      pid ${r.restart.oldPid ?? '-'} -> ${r.restart.newPid ?? '-'} (output: ${r.restart.logSource})`,
        ]
      : []),
    ...r.verified.map((v) => `  ${v.ok ? 'ok  ' : 'FAIL'}         ${v.what}: ${v.actual}`),
    ...r.sockets.map(
      (s) =>
        `  ${s.ok ? 'ok  ' : 'FAIL'}         socket ${s.path} ${s.exists ? `mode ${octal(s.mode ?? 0)} group ${s.group}` : 'missing'}${s.fixed ? ' (fixed)' : ''}`,
    ),
    ...r.warnings.map((w) => `  warning      ${w}`),
    ...r.notes.map((n) => `  note         ${n}`),
    ...(r.sockets.length > 0 ? ['', DOCKER_GROUP_WARNING] : []),
  ].join('\n');
}

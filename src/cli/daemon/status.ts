import { type DaemonStatus, daemonStatus } from '../../daemon/status.js';
import { octal } from '../../daemon/socket-perms.js';
import { renderTable } from '../output.js';
import { type HostFlags, hostStateOf, showValue } from './host-options.js';

export interface DaemonStatusOptions extends HostFlags {
  host?: string;
  logFile?: string;
  lines: number;
}

/** `dockward daemon status`. */
export function daemonStatusCommand(opts: DaemonStatusOptions): Promise<DaemonStatus> {
  return daemonStatus({
    ...hostStateOf(opts),
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
    lines: opts.lines,
  });
}

export function renderDaemonStatus(s: DaemonStatus): string {
  return [
    `dockerd      ${s.running ? `running, pid ${s.pid}` : `not running (no live pid in ${s.pidfile})`}, managed by ${s.managedBy}${s.unitState ? ` (docker.service ${s.unitState})` : ''}`,
    `command line ${s.commandLine ? s.commandLine.argv.join(' ') : '-'}`,
    `version      ${s.version ? `${s.version.Version} (API ${s.version.ApiVersion}) on ${s.endpoint}` : `no answer on ${s.endpoint}: ${s.versionError}`}`,
    `daemon.json  ${s.configPath}${s.configExists ? '' : ' (does not exist)'}`,
    '',
    s.effective.entries.length === 0
      ? 'no settings (dockerd runs with its defaults)'
      : renderTable(
          ['KEY', 'VALUE', 'SOURCE'],
          s.effective.entries.map((e) => [e.key, showValue(e.value), e.source]),
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
  ].join('\n');
}

import { type ApplyResult, applyDaemonConfig } from '../../daemon/apply.js';
import { parseRestartMode } from '../../daemon/restart.js';
import { DOCKER_GROUP_WARNING, octal } from '../../daemon/socket-perms.js';
import { DockwardError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { profileOf } from '../options.js';
import { type HostFlags, hostStateOf, profileOptionsOf } from './host-options.js';

export interface DaemonApplyOptions extends HostFlags {
  from?: string;
  profile?: string;
  restart: string;
  host?: string;
  logFile?: string;
  certDir?: string;
  listen?: string;
  allowPlainTcp?: boolean;
  skipChecks?: boolean;
  /** seconds */
  timeout: number;
}

/** `dockward daemon apply`: validate, back up, write, restart, verify; roll back on any failure. */
export function daemonApply(ctx: CommandContext, opts: DaemonApplyOptions): Promise<ApplyResult> {
  if (!opts.config) {
    throw new DockwardError(
      'DW_E_USAGE',
      'daemon apply needs --config PATH (the daemon.json dockerd reads)',
      {
        hint: 'dockward daemon apply --config /etc/docker/daemon.json --profile baseline',
      },
    );
  }
  return applyDaemonConfig({
    ...hostStateOf(opts),
    configPath: opts.config,
    ...(opts.from !== undefined ? { from: opts.from } : {}),
    ...(opts.profile !== undefined ? { profile: profileOf(opts.profile) } : {}),
    profileOptions: profileOptionsOf(opts),
    restart: parseRestartMode(opts.restart),
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.logFile ? { logFile: opts.logFile } : {}),
    allowPlainTcp: opts.allowPlainTcp === true,
    skipChecks: opts.skipChecks === true,
    startTimeoutMs: opts.timeout * 1000,
    progress: (line) => ctx.out.info(line),
  });
}

/** The human summary of an apply (init prints it too). */
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

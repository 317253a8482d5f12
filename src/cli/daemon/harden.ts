import { type HardenFileResult, hardenConfigFile } from '../../daemon/harden-file.js';
import { DOCKER_GROUP_WARNING } from '../../daemon/socket-perms.js';
import { profileOf } from '../options.js';
import { renderTable } from '../output.js';
import { type HostFlags, hostStateOf, profileOptionsOf, showValue } from './host-options.js';

export interface DaemonHardenOptions extends HostFlags {
  profile: string;
  diff?: boolean;
  write?: boolean;
  certDir?: string;
  listen?: string;
  allowPlainTcp?: boolean;
}

/** `dockward daemon harden`: a profile merged into daemon.json, written only with --write. */
export function daemonHarden(opts: DaemonHardenOptions): Promise<HardenFileResult> {
  return hardenConfigFile({
    ...hostStateOf(opts),
    profile: profileOf(opts.profile),
    profileOptions: profileOptionsOf(opts),
    allowPlainTcp: opts.allowPlainTcp === true,
    write: opts.write === true,
  });
}

export function renderDaemonHarden(r: HardenFileResult, opts: { diff?: boolean }): string {
  return [
    `${r.path}${r.existed ? '' : ' (new file)'}: profile ${r.profile}${r.commandLine ? `, checked against ${r.commandLine.where}` : ''}`,
    renderTable(
      ['', 'KEY', 'FROM', 'TO'],
      r.changes.map((c) => [
        c.kind === 'add' ? '+' : c.kind === 'change' ? '~' : '=',
        c.key,
        c.from === undefined ? '-' : showValue(c.from),
        `${showValue(c.to)}${c.note ? ` (${c.note})` : ''}`,
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
  ].join('\n');
}

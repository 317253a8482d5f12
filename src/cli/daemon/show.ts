import { type DaemonConfigView, showDaemonConfig } from '../../daemon/show.js';
import { renderTable } from '../output.js';
import { type HostFlags, hostStateOf, showValue } from './host-options.js';

export interface DaemonShowOptions extends HostFlags {
  all?: boolean;
}

/** `dockward daemon show`. */
export function daemonShow(opts: DaemonShowOptions): Promise<DaemonConfigView> {
  return showDaemonConfig({ ...hostStateOf(opts), all: opts.all === true });
}

export function renderDaemonShow(d: DaemonConfigView): string {
  return [
    `daemon.json  ${d.configPath}${d.configExists ? '' : ' (does not exist)'} (${d.chosenBy})`,
    `command line ${d.commandLine ? `${d.commandLine.argv.join(' ')} (${d.commandLine.where})` : 'none found (no running dockerd, no docker.service)'}`,
    `engine       ${d.engine.version ?? `${d.engine.major} (assumed)`}`,
    '',
    d.entries.length === 0
      ? 'no settings (dockerd runs with its defaults)'
      : renderTable(
          ['KEY', 'VALUE', 'SOURCE'],
          d.entries.map((e) => [e.key, showValue(e.value), e.source]),
        ),
    ...d.conflicts.map((c) => `CONFLICT ${c.key}: ${c.message}`),
    ...d.issues.map(
      (i) =>
        `${i.severity.toUpperCase()} ${i.line !== undefined ? `line ${i.line}, column ${i.column}: ` : ''}${i.message}`,
    ),
  ].join('\n');
}

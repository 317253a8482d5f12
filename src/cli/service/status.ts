import { defaultIo, type ServiceStatus, serviceStatus } from '../../service/manage.js';
import { parseServiceName, unitName } from '../../service/unit.js';
import { DockwardError } from '../../errors.js';

/** `dockward service status NAME`. */
export function status(name: string, opts: { lines: string }): Promise<ServiceStatus> {
  const lines = Number(opts.lines);
  if (!Number.isInteger(lines) || lines < 0 || lines > 10_000) {
    throw new DockwardError('DW_E_USAGE', `--lines ${opts.lines} is not a number from 0 to 10000`, {
      hint: 'e.g. --lines 50',
    });
  }
  return serviceStatus(unitName(parseServiceName(name)), defaultIo(), lines);
}

export function renderStatus(s: ServiceStatus): string {
  return [
    `${s.unit}: ${s.installed ? '' : 'not installed, '}${s.active} (${s.sub}), ${s.enabled}${s.mainPid > 0 ? `, main pid ${s.mainPid}` : ''}, restarted ${s.restarts} time(s)`,
    ...(s.journal.length > 0 ? ['', ...s.journal.map((l) => `  ${l}`)] : []),
  ].join('\n');
}

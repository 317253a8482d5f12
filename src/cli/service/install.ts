import { defaultIo, type InstallResult, installService } from '../../service/manage.js';
import { parseServiceName } from '../../service/unit.js';
import type { CommandContext } from '../context.js';
import { renderStatus } from './status.js';

export interface InstallOptions {
  exec?: string;
}

/** `dockward service install NAME -- FLAGS`. */
export function install(
  ctx: CommandContext,
  name: string,
  args: readonly string[],
  opts: InstallOptions,
): Promise<InstallResult> {
  return installService(parseServiceName(name), args, {
    ...(opts.exec ? { exec: opts.exec } : {}),
    io: defaultIo((line) => ctx.out.info(line)),
  });
}

export function renderInstall(r: InstallResult): string {
  return [
    `installed ${r.unit} (${r.path})`,
    `  runs       ${[r.exec, r.name, ...r.args].join(' ')}`,
    `  as         ${r.user}${r.groups.length > 0 ? ` (groups ${r.groups.join(', ')})` : ''}`,
    ...r.warnings.map((w) => `  warning    ${w}`),
    '',
    renderStatus(r.status),
  ].join('\n');
}

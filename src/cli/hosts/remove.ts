import { removeHost } from '../../fleet/hosts.js';
import type { HostRecord } from '../../fleet/inventory.js';
import type { CommandContext } from '../context.js';

/** `dockward hosts remove NAME`. */
export function hostsRemove(ctx: CommandContext, opts: { name: string }): Promise<HostRecord> {
  return removeHost(ctx.paths, opts.name);
}

export function renderHostsRemove(r: HostRecord): string {
  return [
    `host ${r.name} removed`,
    ...(r.certName
      ? [`  its certificate ${r.certName} is still valid: dockward pki revoke ${r.certName}`]
      : []),
  ].join('\n');
}

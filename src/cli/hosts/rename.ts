import { renameHost } from '../../fleet/hosts.js';
import type { HostRecord } from '../../fleet/inventory.js';
import type { CommandContext } from '../context.js';

/** `dockward hosts rename FROM TO`. */
export function hostsRename(ctx: CommandContext, opts: { from: string; to: string }): Promise<HostRecord> {
  return renameHost(ctx.paths, opts.from, opts.to);
}

export function renderHostsRename(from: string, r: HostRecord): string {
  return `host ${from} renamed to ${r.name}`;
}

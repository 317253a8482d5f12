import { type HostContextResult, writeHostContext } from '../../fleet/hosts.js';
import type { CommandContext } from '../context.js';

/** `dockward hosts context NAME`: a docker context under $DOCKER_CONFIG. */
export function hostsContext(ctx: CommandContext, opts: { name: string }): Promise<HostContextResult> {
  return writeHostContext(ctx.paths, opts.name);
}

export function renderHostsContext(r: HostContextResult): string {
  return [
    `docker context ${r.name} written (${r.metaPath})`,
    `  use it: docker --context ${r.name} ps`,
    '  `dockward hosts renew` rewrites its certificate files',
  ].join('\n');
}

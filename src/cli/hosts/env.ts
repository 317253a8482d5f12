import { parseShell, renderEnv } from '../../fleet/env.js';
import { findHost, type HostRecord, loadInventory } from '../../fleet/inventory.js';
import type { CommandContext } from '../context.js';

export interface HostsEnvOptions {
  name: string;
  shell: string;
  unset?: boolean;
}

export interface HostsEnv {
  shell: ReturnType<typeof parseShell>;
  target: HostRecord | undefined;
}

/** `dockward hosts env NAME`: the shell lines for DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH. */
export async function hostsEnv(ctx: CommandContext, opts: HostsEnvOptions): Promise<HostsEnv> {
  const shell = parseShell(opts.shell);
  const h = findHost(await loadInventory(ctx.paths), opts.name);
  return { shell, target: opts.unset ? undefined : h };
}

export function hostsEnvData(e: HostsEnv): unknown {
  return {
    shell: e.shell,
    ...(e.target
      ? { DOCKER_HOST: e.target.endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: e.target.certDir }
      : {}),
  };
}

export function renderHostsEnv(e: HostsEnv): string {
  return renderEnv(e.shell, e.target);
}

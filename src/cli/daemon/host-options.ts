import type { Command } from 'commander';
import type { HostStateOptions } from '../../daemon/host-state.js';
import { parseListen } from '../../daemon/host-init.js';
import { DEFAULT_PIDFILE } from '../../daemon/restart.js';

/** The options every daemon subcommand shares. */
export interface HostFlags {
  config?: string;
  pidfile: string;
  root: string;
}

export function hostFlags(cmd: Command): Command {
  return cmd
    .option(
      '--config <path>',
      'daemon.json (default: what dockerd reads: its --config-file, else /etc/docker/daemon.json)',
    )
    .option('--pidfile <path>', 'pidfile of the running dockerd', DEFAULT_PIDFILE)
    .option('--root <dir>', 'root folder the systemd units are read from (and the drop-in written to)', '/');
}

export function hostStateOf(opts: HostFlags): HostStateOptions & { pidfile: string; root: string } {
  return { ...(opts.config ? { configPath: opts.config } : {}), pidfile: opts.pidfile, root: opts.root };
}

/** `--cert-dir` and `--listen` of the remote-tls profile. */
export function profileOptionsOf(opts: { certDir?: string; listen?: string }) {
  const listen = opts.listen ? parseListen(opts.listen) : undefined;
  return {
    ...(opts.certDir ? { certDir: opts.certDir } : {}),
    ...(listen ? { listenAddress: listen.address, port: listen.port } : {}),
  };
}

/** A daemon.json value in a table cell. */
export function showValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

import { Command } from 'commander';
import { DEFAULT_LISTEN } from '../../daemon/host-init.js';
import { DEFAULT_CERT_DIR } from '../../daemon/profiles.js';
import { DEFAULT_PIDFILE, DEFAULT_PROCESS_LOG } from '../../daemon/restart.js';
import { contextOf } from '../context.js';
import { collect, secondsOf } from '../options.js';
import { type InitOptions, init, renderInit } from './init.js';

/** `dockward init`: declarations only. */
export function initCommand(): Command {
  return new Command('init')
    .description(
      'Secure this Docker host in one go: PKI if missing, server certificate, TLS files, the remote-tls profile applied with a restart, a real TLS check.',
    )
    .option(
      '--san <san>',
      'SAN of the server certificate, repeatable (default: host name, its addresses, 127.0.0.1)',
      collect,
    )
    .option('--name <name>', 'name of the server certificate in the PKI (default: the host name)')
    .option(
      '--mode <mode>',
      'native: dockerd serves TLS itself; gateway: dockerd keeps its unix socket and dockward gateway runs as a service on the TLS port (enforces the CRL)',
      'native',
    )
    .option('--dry-run', 'print the plan and change nothing')
    .option('--tls-dir <dir>', "where dockerd's ca.pem, cert.pem and key.pem go", DEFAULT_CERT_DIR)
    .option('--config <path>', 'the daemon.json dockerd reads', '/etc/docker/daemon.json')
    .option('--listen <host:port>', 'the TLS listener', DEFAULT_LISTEN)
    .option('--restart <mode>', 'systemd | process | none (default: detected)', 'auto')
    .option('--pidfile <path>', 'pidfile of the running dockerd', DEFAULT_PIDFILE)
    .option('--host <url>', 'where dockerd answers locally after the restart (default: its unix socket)')
    .option(
      '--log-file <path>',
      `process mode: where the restarted dockerd's output goes (default ${DEFAULT_PROCESS_LOG})`,
    )
    .option('--root <dir>', 'root folder the systemd units are read from', '/')
    .option(
      '--allow <cidr>',
      "only these sources reach the TLS port (repeatable; native: an nftables table of dockward loaded at boot; gateway: the gateway's --allow; loopback always allowed)",
      collect,
    )
    .option('--timeout <seconds>', 'how long dockerd may take to answer after the restart', secondsOf, 90)
    .action(async (opts: InitOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await init(ctx, opts), renderInit);
    });
}

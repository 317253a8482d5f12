import { Command } from 'commander';
import { DEFAULT_LISTEN } from '../../daemon/host-init.js';
import { DEFAULT_CERT_DIR } from '../../daemon/profiles.js';
import { DEFAULT_PIDFILE } from '../../daemon/restart.js';
import { contextOf } from '../context.js';
import { collect, secondsOf } from '../options.js';
import { type HostInstallOptions, hostInstall, renderHostInstall } from './install.js';
import { type HostRequestOptions, hostRequest, renderHostRequest } from './request.js';

/** `dockward host ...` (run on the Docker host itself): declarations only. */
export function hostCommand(): Command {
  const host = new Command('host').description(
    "This Docker host's half of enrolment: its own key and a CSR, then the signed certificate installed. The key never leaves it.",
  );

  host
    .command('request')
    .description(
      'Make the server key (0400, root) in the TLS folder and print a certificate request for `dockward pki sign`.',
    )
    .option(
      '--san <san>',
      'DNS:host or IP:addr to ask for, repeatable (added to the host name and addresses)',
      collect,
    )
    .option('--no-host-sans', 'ask only for the --san names, not the host name and its addresses')
    .option('--name <name>', 'the CN, which `pki sign` names the certificate by (default: the host name)')
    .option('--tls-dir <dir>', "dockerd's TLS folder, where the key stays", DEFAULT_CERT_DIR)
    .option('--key-type <type>', 'ecdsa-p256 | rsa-2048 | rsa-4096', 'ecdsa-p256')
    .option('--out <file>', 'write the request to this file instead of printing it')
    .action(async (opts: HostRequestOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostRequest(ctx, opts), renderHostRequest);
    });

  host
    .command('install')
    .description(
      'Install a certificate signed for this host (it must match the key `host request` made) and apply remote-tls with a restart and rollback.',
    )
    .requiredOption('--cert <file>', 'the certificate `dockward pki sign` wrote')
    .requiredOption('--ca <file>', 'the CA certificate written beside it')
    .option('--tls-dir <dir>', "dockerd's TLS folder", DEFAULT_CERT_DIR)
    .option('--config <path>', 'the daemon.json dockerd reads', '/etc/docker/daemon.json')
    .option('--listen <host:port>', 'the TLS listener', DEFAULT_LISTEN)
    .option('--restart <mode>', 'systemd | process | none (default: detected)', 'auto')
    .option('--pidfile <path>', 'pidfile of the running dockerd', DEFAULT_PIDFILE)
    .option('--host <url>', 'where dockerd answers locally after the restart (default: its unix socket)')
    .option('--root <dir>', 'root folder the systemd units are read from', '/')
    .option('--timeout <seconds>', 'how long dockerd may take to answer after the restart', secondsOf, 90)
    .action(async (opts: HostInstallOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostInstall(ctx, opts), renderHostInstall);
    });

  return host;
}

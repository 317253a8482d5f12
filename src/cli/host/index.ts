import { Command } from 'commander';
import { DEFAULT_LISTEN } from '../../daemon/host-init.js';
import { GATEWAY_TLS_DIR } from '../../daemon/host-init-gateway.js';
import { DEFAULT_CERT_DIR } from '../../daemon/profiles.js';
import { DEFAULT_PIDFILE } from '../../daemon/restart.js';
import { contextOf } from '../context.js';
import { collect, secondsOf } from '../options.js';
import { type HostCrlOptions, hostCrl, renderHostCrl } from './crl.js';
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
    .option(
      '--tls-dir <dir>',
      `where the key is made and stays (gateway mode: ${GATEWAY_TLS_DIR})`,
      DEFAULT_CERT_DIR,
    )
    .option('--key-type <type>', 'ecdsa-p256 | rsa-2048 | rsa-4096', 'ecdsa-p256')
    .option('--out <file>', 'write the request to this file instead of printing it')
    .action(async (opts: HostRequestOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostRequest(ctx, opts), renderHostRequest);
    });

  host
    .command('install')
    .description(
      'Install a certificate signed for this host (it must match the key `host request` made) and apply remote-tls with a restart and rollback, or (--mode gateway) run the gateway service with it.',
    )
    .requiredOption('--cert <file>', 'the certificate `dockward pki sign` wrote')
    .requiredOption('--ca <file>', 'the CA certificate written beside it')
    .option(
      '--mode <mode>',
      'native: dockerd serves TLS itself; gateway: dockerd keeps its unix socket only and the dockward-gateway service serves TLS (revocation enforced)',
      'native',
    )
    .option(
      '--crl <file>',
      "gateway mode: the CA's CRL (pki/crl.pem of the admin machine); needed unless one is installed",
    )
    .option(
      '--allow <cidr>',
      'sources allowed to the TLS port, repeatable (native: nftables table inet dockward; gateway: the gateway refuses others)',
      collect,
    )
    .option(
      '--tls-dir <dir>',
      `the TLS folder (default: ${DEFAULT_CERT_DIR}; gateway mode: ${GATEWAY_TLS_DIR})`,
    )
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

  host
    .command('crl')
    .description(
      "Install a newer CRL for this host's gateway (checked against its CA) and reload it: revoked certificates are refused and their open connections closed.",
    )
    .requiredOption('--crl <file>', "the CA's CRL (pki/crl.pem of the admin machine)")
    .option('--tls-dir <dir>', "the gateway's TLS folder", GATEWAY_TLS_DIR)
    .action(async (opts: HostCrlOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostCrl(ctx, opts), renderHostCrl);
    });

  return host;
}

import { Command } from 'commander';
import { colorAllowed } from '../../log.js';
import { contextOf } from '../context.js';
import { collect, DEFAULT_FAIL_ON, listOf, parseDaysOption, positiveInt, windowOf } from '../options.js';
import { type HostsAddOptions, hostsAdd, renderHostsAdd } from './add.js';
import {
  type HostsAuditOptions,
  hostsAudit,
  hostsAuditData,
  hostsAuditFailure,
  renderHostsAudit,
} from './audit.js';
import { type HostsBundleOptions, hostsBundle, renderHostsBundle } from './bundle.js';
import { hostsContext, renderHostsContext } from './context.js';
import { type HostsEnvOptions, hostsEnv, hostsEnvData, renderHostsEnv } from './env.js';
import { hostsList, renderHostsList } from './list.js';
import { pushCrl, pushFailure, renderCrlPushes } from '../../fleet/push-crl.js';
import { type HostsProvisionOptions, hostsProvision, renderHostsProvision } from './provision.js';
import { hostsRemove, renderHostsRemove } from './remove.js';
import { hostsRename, renderHostsRename } from './rename.js';
import { type HostsRenewOptions, hostsRenew, renderHostsRenew, renewFailure } from './renew.js';
import { type HostsStatusOptions, hostsStatus, renderStatusTable, statusFailure } from './status.js';

/** `dockward hosts ...`: declarations only; each subcommand is a function in its own file. */
export function hostsCommand(): Command {
  const hosts = new Command('hosts').description(
    'Many Docker hosts from one machine: an inventory (hosts.json), shell env, docker contexts, CI bundles, status, renewal.',
  );

  hosts
    .command('add <name>')
    .description(
      'Add a host: issue a client certificate (or copy --ca/--cert/--key) and verify the connection.',
    )
    .requiredOption('--endpoint <url>', 'tcp://HOST:PORT of the TLS dockerd or gateway')
    .option(
      '--role <role>',
      'OU of the issued client certificate host-NAME: a built-in role (readonly | operator | admin) or a role of --policy FILE',
    )
    .option('--policy <file>', 'a policy file whose roles --role may name (the one the gateway runs with)')
    .option('--force', 'issue even when --role names no known role (prints a warning)')
    .option('--days <n>', 'validity of the issued client certificate in days', parseDaysOption)
    .option('--ca <file>', 'existing CA certificate (with --cert and --key: no certificate is issued)')
    .option('--cert <file>', 'existing client certificate')
    .option('--key <file>', 'existing client key')
    .option('--no-verify', 'add without the first TLS /_ping (the host may be down)')
    .option('--timeout <ms>', 'connection timeout for the verification', positiveInt('--timeout'), 5000)
    .action(async (name: string, opts: Omit<HostsAddOptions, 'name'>, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostsAdd(ctx, { name, ...opts }), renderHostsAdd);
    });

  hosts
    .command('provision <name>')
    .description(
      'Enrol a host over SSH: key and CSR made on the host, signed here, certificate installed and remote-tls applied there, verified over TLS, added with a client certificate and docker context.',
    )
    .requiredOption(
      '--ssh <user@host>',
      'where to ssh (root, or a user that may restart dockerd); its address becomes a SAN',
    )
    .option('--san <san>', 'more DNS:host or IP:addr for the server certificate, repeatable', collect)
    .option(
      '--role <role>',
      'OU of the client certificate host-NAME (readonly | operator | admin, or a role of --policy FILE)',
    )
    .option('--policy <file>', 'a policy file whose roles --role may name')
    .option('--force', 'issue even when --role names no known role (prints a warning)')
    .option(
      '--known-hosts <file>',
      "the known_hosts file the host's SSH key is checked against (default: ssh's own)",
    )
    .option('--identity <file>', "the SSH private key to log in with (default: ssh's own)")
    .option('--ssh-port <n>', 'SSH port', positiveInt('--ssh-port'))
    .option('--port <n>', "dockerd's TLS port on the host", positiveInt('--port'), 2376)
    .option(
      '--mode <mode>',
      'native: dockerd serves TLS itself; gateway: dockerd keeps its unix socket and the dockward-gateway service serves TLS (revocation enforced, CRL pushed on revoke)',
      'native',
    )
    .option(
      '--allow <cidr>',
      'sources allowed to the TLS port, repeatable (native: nftables on the host; gateway: the gateway refuses others)',
      collect,
    )
    .option('--days <n>', 'validity of the server certificate in days', parseDaysOption)
    .option('--timeout <ms>', 'connection timeout for the TLS verification', positiveInt('--timeout'), 10000)
    .action(async (name: string, opts: Omit<HostsProvisionOptions, 'name'>, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostsProvision(ctx, { name, ...opts }), renderHostsProvision);
    });

  hosts
    .command('push-crl [names...]')
    .description(
      "Send the PKI's current CRL over SSH to the hosts provisioned with --mode gateway (default: all of them) and reload their gateways; pki revoke does it by itself, this retries.",
    )
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const results = await pushCrl(ctx.paths, { names, progress: (line) => ctx.out.info(line) });
      ctx.out.result(results, renderCrlPushes);
      const failure = pushFailure(results);
      if (failure) throw failure;
    });

  hosts
    .command('list')
    .description('Every host in the inventory.')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostsList(ctx), renderHostsList);
    });

  hosts
    .command('remove <name>')
    .description('Remove a host (its copied certificate files too; an issued certificate stays in the PKI).')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostsRemove(ctx, { name }), renderHostsRemove);
    });

  hosts
    .command('rename <from> <to>')
    .description('Rename a host (docker contexts written before keep the old name).')
    .action(async (from: string, to: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostsRename(ctx, { from, to }), (r) => renderHostsRename(from, r));
    });

  hosts
    .command('env <name>')
    .description(
      'Shell lines setting DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH: eval "$(dockward hosts env NAME)".',
    )
    .option('--shell <shell>', 'bash | zsh | fish | powershell', 'bash')
    .option('--unset', 'print the lines that clear those variables')
    .action(async (name: string, opts: Omit<HostsEnvOptions, 'name'>, cmd: Command) => {
      const ctx = contextOf(cmd);
      const env = await hostsEnv(ctx, { name, ...opts });
      ctx.out.result(hostsEnvData(env), () => renderHostsEnv(env));
    });

  hosts
    .command('context <name>')
    .description(
      'Write a docker context NAME under $DOCKER_CONFIG (default ~/.docker): docker --context NAME ps.',
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostsContext(ctx, { name }), renderHostsContext);
    });

  hosts
    .command('bundle <name>')
    .description(
      "Write the host's certificates for CI: a tar.gz (ca.pem cert.pem key.pem README.md) or --format env.",
    )
    .requiredOption('--out <file>', 'the bundle file to write (0600)')
    .option('--format <format>', 'tar (gzip tarball) | env (dotenv, PEMs as one-line base64)', 'tar')
    .option('--force', 'replace an existing file')
    .action(async (name: string, opts: Omit<HostsBundleOptions, 'name'>, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await hostsBundle(ctx, { name, ...opts }), renderHostsBundle);
    });

  hosts
    .command('renew [names...]')
    .description(
      'Renew client certificates that expire soon and rewrite every docker context and bundle that copied them (the old certificate is revoked); rotate the server certificates of provisioned hosts that expire within the window too.',
    )
    .option('--within <window>', 'renew certificates expiring within this window (30d, 2w, 12h)', windowOf)
    .option('--force', 'renew the named hosts whatever their expiry')
    .option('--dry-run', 'print what would be renewed and rewritten; change nothing')
    .option('--keep-old', 'do not revoke the superseded certificate')
    .option(
      '--days <n>',
      'validity of the new certificates (default: as long as the old ones)',
      parseDaysOption,
    )
    .action(async (names: string[], opts: Omit<HostsRenewOptions, 'names'>, cmd: Command) => {
      const ctx = contextOf(cmd);
      const rows = await hostsRenew(ctx, { names, ...opts });
      ctx.out.result(rows, renderHostsRenew);
      const failure = renewFailure(rows);
      if (failure) throw failure;
    });

  hosts
    .command('status')
    .description(
      'Every host probed concurrently: reachable, versions, containers, cert days left, round trip.',
    )
    .option('--timeout <ms>', 'per-host timeout in milliseconds', positiveInt('--timeout'), 5000)
    .option('--concurrency <n>', 'hosts probed at once', positiveInt('--concurrency'), 16)
    .option(
      '--store <url>',
      "also append each host's row to an event store (the console's hosts page): sqlite:FILE or postgres://USER@HOST:PORT/DB",
    )
    .action(async (opts: HostsStatusOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const rows = await hostsStatus(ctx, opts);
      ctx.out.result(rows, (rs) => renderStatusTable(rs, colorAllowed(process.stdout)));
      const failure = statusFailure(rows);
      if (failure) throw failure;
    });

  hosts
    .command('audit')
    .description('The API-level audit rules on every host at once, one summary row per host.')
    .option(
      '--fail-on <level>',
      'exit 1 when a host has a failing finding at or above LEVEL: info|low|medium|high|critical, or none',
      DEFAULT_FAIL_ON,
    )
    .option('--include <ids>', 'only these rules: ids or CIS numbers, comma separated', listOf, [])
    .option('--exclude <ids>', 'leave out these rules: ids or CIS numbers, comma separated', listOf)
    .option('--timeout <ms>', 'per-request timeout in milliseconds', positiveInt('--timeout'), 5000)
    .option('--concurrency <n>', 'hosts audited at once', positiveInt('--concurrency'), 16)
    .addHelpText(
      'after',
      '\nFile and process rules need the host itself: run `dockward audit` there. An unreachable host is a\n' +
        'failing "audit-input" finding (high). Exit codes: 0 none at or above --fail-on, 1 some, 2 bad usage.',
    )
    .action(async (opts: HostsAuditOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const audits = await hostsAudit(ctx, opts);
      ctx.out.result(hostsAuditData(audits), () => renderHostsAudit(audits));
      const failure = hostsAuditFailure(audits, opts.failOn);
      if (failure) throw failure;
    });

  return hosts;
}

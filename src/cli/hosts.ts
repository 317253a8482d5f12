import { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { dockerConfigDir, writeDockerContext } from '../fleet/docker-context.js';
import { parseShell, renderEnv } from '../fleet/env.js';
import { addHost, removeHost, renameHost } from '../fleet/hosts.js';
import { findHost, loadInventory } from '../fleet/inventory.js';
import { fleetStatus, type HostStatus } from '../fleet/status.js';
import { contextOf, parseDaysOption } from './context.js';
import { renderTable } from './output.js';
import { cliPassphraseSource } from './passphrase.js';

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new DockwardError('DW_E_USAGE', `${flag} needs a whole number above 0, not "${value}"`);
    }
    return n;
  };
}

const STATUS_HEADERS = [
  'NAME',
  'ENDPOINT',
  'REACHABLE',
  'ENGINE',
  'API',
  'CONTAINERS',
  'SERVER CERT',
  'CLIENT CERT',
  'RTT',
] as const;

function days(n: number | undefined): string {
  return n === undefined ? '-' : `${n}d`;
}

function statusRow(r: HostStatus): string[] {
  return [
    r.name,
    r.endpoint,
    r.reachable ? 'yes' : `NO: ${r.error ?? ''}`,
    r.engineVersion ?? '-',
    r.apiVersion ?? '-',
    r.containersTotal === undefined ? '-' : `${r.containersRunning ?? 0}/${r.containersTotal}`,
    days(r.serverCertDaysLeft),
    days(r.clientCertDaysLeft),
    r.rttMs === undefined ? '-' : `${r.rttMs}ms`,
  ];
}

/** `dockward hosts ...`: the fleet inventory, shell env, docker contexts and status. */
export function hostsCommand(): Command {
  const hosts = new Command('hosts').description(
    'Many Docker hosts from one machine: an inventory (hosts.json), shell env, docker contexts, status.',
  );

  hosts
    .command('add <name>')
    .description(
      'Add a host: issue a client certificate (or copy --ca/--cert/--key) and verify the connection.',
    )
    .requiredOption('--endpoint <url>', 'tcp://HOST:PORT of the TLS dockerd or gateway')
    .option('--role <role>', 'OU of the issued client certificate host-NAME (the gateway role)')
    .option('--days <n>', 'validity of the issued client certificate in days', parseDaysOption)
    .option('--ca <file>', 'existing CA certificate (with --cert and --key: no certificate is issued)')
    .option('--cert <file>', 'existing client certificate')
    .option('--key <file>', 'existing client key')
    .option('--no-verify', 'add without the first TLS /_ping (the host may be down)')
    .option('--timeout <ms>', 'connection timeout for the verification', positiveInt('--timeout'), 5000)
    .action(
      async (
        name: string,
        opts: {
          endpoint: string;
          role?: string;
          days?: number;
          ca?: string;
          cert?: string;
          key?: string;
          verify: boolean;
          timeout: number;
        },
        cmd,
      ) => {
        const { paths, out } = contextOf(cmd);
        const given = [opts.ca, opts.cert, opts.key].filter((x) => x !== undefined).length;
        if (given !== 0 && given !== 3) {
          throw new DockwardError('DW_E_USAGE', '--ca, --cert and --key go together', {
            hint: 'Pass all three files, or none to have dockward issue a client certificate.',
          });
        }
        if (given === 3 && opts.role !== undefined) {
          throw new DockwardError(
            'DW_E_USAGE',
            '--role applies to an issued certificate, not to --cert files',
          );
        }
        const res = await addHost(
          paths,
          {
            name,
            endpoint: opts.endpoint,
            ...(opts.role ? { role: opts.role } : {}),
            ...(opts.days ? { days: opts.days } : {}),
            ...(given === 3 ? { files: { ca: opts.ca!, cert: opts.cert!, key: opts.key! } } : {}),
            verify: opts.verify,
            timeoutMs: opts.timeout,
          },
          cliPassphraseSource(),
        );
        out.result(res, (r) =>
          [
            `host ${r.host.name} added: ${r.host.endpoint}`,
            `  certificates  ${r.host.certDir}${r.host.certName ? ` (${r.host.certName})` : ''}`,
            r.probe
              ? `  verified      Docker ${r.probe.engineVersion} (API ${r.probe.apiVersion}), server cert ${r.probe.server.sans.join(', ')} until ${r.probe.server.notAfter}`
              : '  not verified  (--no-verify)',
          ].join('\n'),
        );
      },
    );

  hosts
    .command('list')
    .description('Every host in the inventory.')
    .action(async (_opts: unknown, cmd) => {
      const { paths, out } = contextOf(cmd);
      const inv = await loadInventory(paths);
      out.result(inv.hosts, (hs) =>
        renderTable(
          ['NAME', 'ENDPOINT', 'CERT', 'SERVER SANS', 'SERVER CERT UNTIL'],
          hs.map((h) => [
            h.name,
            h.endpoint,
            h.certName ?? h.certDir,
            h.server?.sans.join(',') ?? '-',
            h.server?.notAfter ?? '-',
          ]),
        ),
      );
    });

  hosts
    .command('remove <name>')
    .description('Remove a host (its copied certificate files too; an issued certificate stays in the PKI).')
    .action(async (name: string, _opts: unknown, cmd) => {
      const { paths, out } = contextOf(cmd);
      const h = await removeHost(paths, name);
      out.result(h, (r) =>
        [
          `host ${r.name} removed`,
          ...(r.certName
            ? [`  its certificate ${r.certName} is still valid: dockward pki revoke ${r.certName}`]
            : []),
        ].join('\n'),
      );
    });

  hosts
    .command('rename <from> <to>')
    .description('Rename a host (docker contexts written before keep the old name).')
    .action(async (from: string, to: string, _opts: unknown, cmd) => {
      const { paths, out } = contextOf(cmd);
      const h = await renameHost(paths, from, to);
      out.result(h, (r) => `host ${from} renamed to ${r.name}`);
    });

  hosts
    .command('env <name>')
    .description(
      'Shell lines setting DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH: eval "$(dockward hosts env NAME)".',
    )
    .option('--shell <shell>', 'bash | zsh | fish | powershell', 'bash')
    .option('--unset', 'print the lines that clear those variables')
    .action(async (name: string, opts: { shell: string; unset?: boolean }, cmd) => {
      const { paths, out } = contextOf(cmd);
      const shell = parseShell(opts.shell);
      const h = findHost(await loadInventory(paths), name);
      const target = opts.unset ? undefined : h;
      out.result(
        {
          shell,
          ...(target ? { DOCKER_HOST: h.endpoint, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: h.certDir } : {}),
        },
        () => renderEnv(shell, target),
      );
    });

  hosts
    .command('context <name>')
    .description(
      'Write a docker context NAME under $DOCKER_CONFIG (default ~/.docker): docker --context NAME ps.',
    )
    .action(async (name: string, _opts: unknown, cmd) => {
      const { paths, out } = contextOf(cmd);
      const h = findHost(await loadInventory(paths), name);
      const res = await writeDockerContext({
        name: h.name,
        host: h.endpoint,
        certDir: h.certDir,
        description: `dockward host ${h.name}`,
      });
      out.result({ name: h.name, dockerConfig: dockerConfigDir(), ...res }, (r) =>
        [`docker context ${r.name} written (${r.metaPath})`, `  use it: docker --context ${r.name} ps`].join(
          '\n',
        ),
      );
    });

  hosts
    .command('status')
    .description(
      'Every host probed concurrently: reachable, versions, containers, cert days left, round trip.',
    )
    .option('--timeout <ms>', 'per-host timeout in milliseconds', positiveInt('--timeout'), 5000)
    .option('--concurrency <n>', 'hosts probed at once', positiveInt('--concurrency'), 16)
    .action(async (opts: { timeout: number; concurrency: number }, cmd) => {
      const { paths, out } = contextOf(cmd);
      const inv = await loadInventory(paths);
      const rows = await fleetStatus(inv.hosts, { timeoutMs: opts.timeout, concurrency: opts.concurrency });
      out.result(rows, (rs) =>
        rs.length === 0
          ? 'no hosts: dockward hosts add NAME --endpoint tcp://HOST:2376'
          : renderTable(STATUS_HEADERS, rs.map(statusRow)),
      );
      const down = rows.filter((r) => !r.reachable);
      if (down.length > 0) {
        throw new DockwardError(
          'DW_E_HOST_UNREACHABLE',
          `${down.length} of ${rows.length} hosts unreachable: ${down.map((r) => r.name).join(', ')}`,
        );
      }
    });

  return hosts;
}

import { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { bundleHost, parseBundleFormat } from '../fleet/bundle.js';
import { parseShell, renderEnv } from '../fleet/env.js';
import { addHost, removeHost, renameHost, writeHostContext } from '../fleet/hosts.js';
import { ALL_RULES } from '../audit/rules/index.js';
import { selectRules } from '../audit/engine.js';
import { formatJson } from '../audit/format/json.js';
import { auditFleet, failingFindings, failingHosts, type HostAudit } from '../fleet/audit.js';
import { findHost, loadInventory } from '../fleet/inventory.js';
import { DEFAULT_RENEW_WINDOW_MS, type HostRenewal, renewHosts } from '../fleet/renew.js';
import { fleetStatus, type HostStatus } from '../fleet/status.js';
import { parseWindow } from '../pki/status.js';
import { DEFAULT_FAIL_ON, failOnOf, listOf } from './audit.js';
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

/** One row per host: counts by status and its worst failing findings. */
function renderAuditTable(audits: readonly HostAudit[]): string {
  const rows = audits.map((a) => {
    const s = a.report.summary;
    const worst = failingFindings(a.report);
    const sev = (['critical', 'high', 'medium', 'low'] as const)
      .map((l) => (s.failBySeverity[l] > 0 ? `${s.failBySeverity[l]} ${l}` : ''))
      .filter(Boolean)
      .join(', ');
    return [
      a.name,
      a.endpoint,
      String(s.byStatus.fail),
      sev || '-',
      String(s.byStatus.warn),
      String(s.byStatus.pass),
      String(s.byStatus.skip),
      worst
        .slice(0, 3)
        .map((f) => f.id)
        .join(', ') + (worst.length > 3 ? ', ...' : ''),
    ];
  });
  return renderTable(['HOST', 'ENDPOINT', 'FAIL', 'BY SEVERITY', 'WARN', 'PASS', 'SKIP', 'WORST'], rows);
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
    r.reachable ? 'yes' : `${r.problem === 'certificate' ? 'CERT' : 'NO'}: ${r.error ?? ''}`,
    r.engineVersion ?? '-',
    r.apiVersion ?? '-',
    r.containersTotal === undefined ? '-' : `${r.containersRunning ?? 0}/${r.containersTotal}`,
    days(r.serverCertDaysLeft),
    days(r.clientCertDaysLeft),
    r.rttMs === undefined ? '-' : `${r.rttMs}ms`,
  ];
}

const RED = '\x1b[31m';
const RESET = '\x1b[0m';

/** The status table; failing rows red when `color` (stdout is a terminal and NO_COLOR is unset). */
export function renderStatusTable(rows: readonly HostStatus[], color: boolean): string {
  const lines = renderTable(STATUS_HEADERS, rows.map(statusRow)).split('\n');
  return lines
    .map((line, i) => (color && i > 0 && !rows[i - 1]?.reachable ? `${RED}${line}${RESET}` : line))
    .join('\n');
}

/** One progress line for a terminal: `[########............] 12/50 hosts`. */
export function progressLine(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} hosts`;
}

function parseWindowOption(value: string): number {
  const ms = parseWindow(value);
  if (ms === undefined) {
    throw new DockwardError('DW_E_DURATION', `--within "${value}" is not a window`, {
      hint: 'Write it as 30d, 2w or 12h.',
    });
  }
  return ms;
}

function renewTable(rows: readonly HostRenewal[]): string {
  if (rows.length === 0) return 'no hosts: dockward hosts add NAME --endpoint tcp://HOST:2376';
  const table = renderTable(
    ['HOST', 'RESULT', 'OLD SERIAL', 'NEW SERIAL', 'VALID UNTIL', 'CONTEXTS', 'BUNDLES', 'OLD CERT'],
    rows.map((r) => [
      r.host,
      r.action,
      r.oldSerial ?? '-',
      r.newSerial ?? (r.action === 'would-renew' ? '(new)' : '-'),
      (r.newNotAfter ?? r.notAfter ?? '-').slice(0, 10),
      String(r.contexts.length),
      String(r.bundles.length),
      r.oldCert ?? '-',
    ]),
  );
  const notes = rows.flatMap((r) => [
    ...(r.reason ? [`${r.host}: ${r.reason}`] : []),
    ...r.contexts.map(
      (c) => `${r.host}: context ${c} ${r.action === 'renewed' ? 'rewritten' : 'to rewrite'}`,
    ),
    ...r.bundles.map((b) => `${r.host}: bundle ${b} ${r.action === 'renewed' ? 'rewritten' : 'to rewrite'}`),
    ...r.problems.map((p) => `${r.host}: ${p}`),
  ]);
  return [table, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

/** `dockward hosts ...`: the fleet inventory, shell env, docker contexts and status. */
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
            {
              hint: 'Drop --role (the imported certificate carries its own OU), or drop --ca/--cert/--key to issue one.',
            },
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
      const res = await writeHostContext(paths, name);
      out.result(res, (r) =>
        [
          `docker context ${r.name} written (${r.metaPath})`,
          `  use it: docker --context ${r.name} ps`,
          '  `dockward hosts renew` rewrites its certificate files',
        ].join('\n'),
      );
    });

  hosts
    .command('bundle <name>')
    .description(
      "Write the host's certificates for CI: a tar.gz (ca.pem cert.pem key.pem README.md) or --format env.",
    )
    .requiredOption('--out <file>', 'the bundle file to write (0600)')
    .option('--format <format>', 'tar (gzip tarball) | env (dotenv, PEMs as one-line base64)', 'tar')
    .option('--force', 'replace an existing file')
    .action(async (name: string, opts: { out: string; format: string; force?: boolean }, cmd) => {
      const { paths, out } = contextOf(cmd);
      const format = parseBundleFormat(opts.format);
      const res = await bundleHost(paths, name, { out: opts.out, format, force: opts.force === true });
      out.result(res, (r) =>
        [
          `${r.format} bundle for ${r.host} written: ${r.path} (0600, certificate serial ${r.serial})`,
          '  it holds a private key: store it as a CI secret (docs/ci-bundles.md)',
          '  `dockward hosts renew` rewrites this file with the new certificate',
        ].join('\n'),
      );
    });

  hosts
    .command('renew [names...]')
    .description(
      'Renew client certificates that expire soon and rewrite every docker context and bundle that copied them; the old certificate is revoked.',
    )
    .option(
      '--within <window>',
      'renew certificates expiring within this window (30d, 2w, 12h)',
      parseWindowOption,
    )
    .option('--force', 'renew the named hosts whatever their expiry')
    .option('--dry-run', 'print what would be renewed and rewritten; change nothing')
    .option('--keep-old', 'do not revoke the superseded certificate')
    .option(
      '--days <n>',
      'validity of the new certificates (default: as long as the old ones)',
      parseDaysOption,
    )
    .action(
      async (
        names: string[],
        opts: { within?: number; force?: boolean; dryRun?: boolean; keepOld?: boolean; days?: number },
        cmd,
      ) => {
        const { paths, out } = contextOf(cmd);
        if (opts.force && names.length === 0) {
          throw new DockwardError('DW_E_USAGE', '--force renews named hosts only', {
            hint: 'Name the hosts: dockward hosts renew web1 web2 --force.',
          });
        }
        const rows = await renewHosts(
          paths,
          {
            names,
            withinMs: opts.within ?? DEFAULT_RENEW_WINDOW_MS,
            force: opts.force === true,
            dryRun: opts.dryRun === true,
            keepOld: opts.keepOld === true,
            ...(opts.days ? { days: opts.days } : {}),
          },
          cliPassphraseSource(),
        );
        out.result(rows, renewTable);
        const incomplete = rows.filter((r) => r.incomplete);
        if (incomplete.length > 0) {
          throw new DockwardError(
            'DW_E_FILE',
            `copies of the new certificate could not all be written for ${incomplete.map((r) => r.host).join(', ')}`,
            {
              hint: 'Fix the paths named above, then `dockward hosts context NAME` / `hosts bundle NAME --force`.',
              resultPrinted: true,
            },
          );
        }
      },
    );

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
      // Progress only for a person watching a terminal: never in --json, a pipe or a log file.
      const showProgress = !out.json && process.stderr.isTTY === true && inv.hosts.length > 0;
      let done = 0;
      const rows = await fleetStatus(inv.hosts, {
        timeoutMs: opts.timeout,
        concurrency: opts.concurrency,
        ...(showProgress
          ? { onDone: () => process.stderr.write(`\r${progressLine(++done, inv.hosts.length)}`) }
          : {}),
      });
      if (showProgress) process.stderr.write('\r\x1b[K');
      const color = process.stdout.isTTY === true && !process.env['NO_COLOR'];
      out.result(rows, (rs) =>
        rs.length === 0
          ? 'no hosts: dockward hosts add NAME --endpoint tcp://HOST:2376'
          : renderStatusTable(rs, color),
      );
      const failing = rows.filter((r) => !r.reachable);
      if (failing.length > 0) {
        const unreachable = failing.some((r) => r.problem !== 'certificate');
        throw new DockwardError(
          unreachable ? 'DW_E_HOST_UNREACHABLE' : 'DW_E_HOST_CERT_MISMATCH',
          `${failing.length} of ${rows.length} hosts failing: ${failing
            .map((r) => `${r.name} (${r.problem === 'certificate' ? 'certificate' : 'unreachable'})`)
            .join(', ')}`,
          {
            hint: 'The table shows each failing host; check that its daemon or gateway runs and that its certificate chains to the CA (dockward hosts add ... again to re-record it).',
            resultPrinted: true,
          },
        );
      }
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
    .action(
      async (
        opts: { failOn: string; include: string[]; exclude?: string[]; timeout: number; concurrency: number },
        cmd,
      ) => {
        const { paths, out } = contextOf(cmd);
        const failOn = failOnOf(opts.failOn);
        // Unknown rule ids are a usage error before any host is contacted.
        selectRules(ALL_RULES, { include: opts.include, ...(opts.exclude ? { exclude: opts.exclude } : {}) });
        const inv = await loadInventory(paths);
        const audits = await auditFleet(inv.hosts, {
          concurrency: opts.concurrency,
          timeoutMs: opts.timeout,
          include: opts.include,
          ...(opts.exclude ? { exclude: opts.exclude } : {}),
        });
        out.result(
          audits.map((a) => ({ host: a.name, endpoint: a.endpoint, ...JSON.parse(formatJson(a.report)) })),
          () =>
            audits.length === 0
              ? 'no hosts: dockward hosts add NAME --endpoint tcp://HOST:2376'
              : renderAuditTable(audits),
        );
        const failing = failOn === undefined ? [] : failingHosts(audits, failOn);
        if (failing.length > 0) {
          throw new DockwardError(
            'DW_E_AUDIT_FAILED',
            `${failing.length} of ${audits.length} hosts have a failing finding at or above ${failOn}: ${failing
              .map((a) => a.name)
              .join(', ')}`,
            {
              hint: 'Fix what the table lists (dockward audit --host ... shows the details).',
              resultPrinted: true,
            },
          );
        }
      },
    );

  return hosts;
}

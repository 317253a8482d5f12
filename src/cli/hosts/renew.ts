import { DockwardError } from '../../errors.js';
import { DEFAULT_RENEW_WINDOW_MS, type HostRenewal, renewHosts } from '../../fleet/renew.js';
import type { CommandContext } from '../context.js';
import { renderTable } from '../output.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface HostsRenewOptions {
  names: string[];
  /** ms */
  within?: number;
  force?: boolean;
  dryRun?: boolean;
  keepOld?: boolean;
  days?: number;
}

/** `dockward hosts renew [NAMES...]`: renews soon-expiring client certificates and rewrites their copies. */
export function hostsRenew(ctx: CommandContext, opts: HostsRenewOptions): Promise<HostRenewal[]> {
  if (opts.force && opts.names.length === 0) {
    throw new DockwardError('DW_E_USAGE', '--force renews named hosts only', {
      hint: 'Name the hosts: dockward hosts renew web1 web2 --force.',
    });
  }
  return renewHosts(
    ctx.paths,
    {
      names: opts.names,
      withinMs: opts.within ?? DEFAULT_RENEW_WINDOW_MS,
      force: opts.force === true,
      dryRun: opts.dryRun === true,
      keepOld: opts.keepOld === true,
      ...(opts.days ? { days: opts.days } : {}),
      progress: (line) => ctx.out.info(line),
    },
    cliPassphraseSource(),
  );
}

/** After the table is printed: copies that could not be written fail the command. */
export function renewFailure(rows: readonly HostRenewal[]): DockwardError | undefined {
  const server = rows.filter((r) => r.server?.action === 'failed' || r.server?.action === 'rolled-back');
  if (server.length > 0) {
    return new DockwardError(
      'DW_E_APPLY_FAILED',
      `the server certificate of ${server.map((r) => r.host).join(', ')} was not rotated (${server.map((r) => r.server!.action).join(', ')})`,
      {
        hint: 'The host serves its previous certificate; the lines above say why. Fix the cause and run `dockward hosts renew NAME --force` again.',
        resultPrinted: true,
      },
    );
  }
  const incomplete = rows.filter((r) => r.incomplete);
  if (incomplete.length === 0) return undefined;
  return new DockwardError(
    'DW_E_FILE',
    `copies of the new certificate could not all be written for ${incomplete.map((r) => r.host).join(', ')}`,
    {
      hint: 'Fix the paths named above, then `dockward hosts context NAME` / `hosts bundle NAME --force`.',
      resultPrinted: true,
    },
  );
}

export function renderHostsRenew(rows: readonly HostRenewal[]): string {
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
    ...serverLines(r),
  ]);
  return [table, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

/** The server-certificate half of a host's row: serials, served fingerprint, downtime, containers. */
function serverLines(r: HostRenewal): string[] {
  const s = r.server;
  if (!s) return [];
  const head = `${r.host}: server certificate ${s.certName} (${s.mode})`;
  if (!s.rotation) {
    const what =
      s.action === 'would-rotate' ? `would rotate (expires ${s.notAfter?.slice(0, 10)})` : s.action;
    return [`${head} ${what}${s.reason ? `: ${s.reason}` : ''}`];
  }
  const x = s.rotation;
  return [
    `${head} ${s.action}: serial ${x.oldSerial} -> ${x.newSerial} (valid until ${x.newNotAfter.slice(0, 10)})`,
    `${r.host}:   served       SHA-256 ${x.servedFingerprint || '(nothing)'}`,
    `${r.host}:   downtime     ${x.downtimeMs} ms (longest gap between TLS /_ping answers)`,
    `${r.host}:   containers   ${x.containersKept} kept running${x.containersStopped.length > 0 ? `, stopped: ${x.containersStopped.join(', ')}` : ''}`,
    ...x.warnings.map((w) => `${r.host}:   warning      ${w}`),
  ];
}

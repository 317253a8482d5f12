import { DockwardError } from '../../errors.js';
import { hostStatusEvents } from '../../events/host-status.js';
import { checkStoreUrl, openEventStore } from '../../events/open.js';
import { loadInventory } from '../../fleet/inventory.js';
import { fleetStatus, type HostStatus } from '../../fleet/status.js';
import type { CommandContext } from '../context.js';
import { renderTable } from '../output.js';

export interface HostsStatusOptions {
  timeout: number;
  concurrency: number;
  /** Also append each host's row to this event store (`sqlite:FILE` or `postgres://...`). */
  store?: string;
}

/**
 * `dockward hosts status`: every host probed concurrently (a progress bar only for a person at a
 * terminal); with --store each row is appended to the event store, for the console's hosts page.
 */
export async function hostsStatus(ctx: CommandContext, opts: HostsStatusOptions): Promise<HostStatus[]> {
  // A bad URL is a usage error before any host is probed.
  if (opts.store) checkStoreUrl(opts.store);
  const inv = await loadInventory(ctx.paths);
  const showProgress = !ctx.out.json && process.stderr.isTTY === true && inv.hosts.length > 0;
  let done = 0;
  const rows = await fleetStatus(inv.hosts, {
    timeoutMs: opts.timeout,
    concurrency: opts.concurrency,
    ...(showProgress
      ? { onDone: () => process.stderr.write(`\r${progressLine(++done, inv.hosts.length)}`) }
      : {}),
  });
  if (showProgress) process.stderr.write('\r\x1b[K');
  if (opts.store) {
    const store = await openEventStore(opts.store);
    try {
      await store.appendHostStatus(hostStatusEvents(rows, new Date().toISOString(), 'hosts status'));
    } finally {
      await store.close();
    }
  }
  return rows;
}

/** After the table is printed: failing hosts fail the command. */
export function statusFailure(rows: readonly HostStatus[]): DockwardError | undefined {
  const failing = rows.filter((r) => !r.reachable);
  if (failing.length === 0) return undefined;
  const unreachable = failing.some((r) => r.problem !== 'certificate');
  return new DockwardError(
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
  if (rows.length === 0) return 'no hosts: dockward hosts add NAME --endpoint tcp://HOST:2376';
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

import { X509Certificate } from 'node:crypto';
import { describeError, isDockwardError } from '../errors.js';
import type { HostRecord } from './inventory.js';
import { readClientTls } from './inventory.js';
import { probeHost } from './probe.js';
import { daysLeft } from '../pki/status.js';
import { mapBounded } from '../async/map-bounded.js';

export interface HostStatus {
  name: string;
  endpoint: string;
  reachable: boolean;
  /** Why the row is red: no answer at all, or a TLS handshake refused on certificates. */
  problem?: 'unreachable' | 'certificate';
  error?: string;
  engineVersion?: string;
  apiVersion?: string;
  containersRunning?: number;
  containersTotal?: number;
  serverCertDaysLeft?: number;
  clientCertDaysLeft?: number;
  rttMs?: number;
}

/** Probes one host; never throws, so one dead host only makes its own row red. */
export async function hostStatus(host: HostRecord, timeoutMs: number): Promise<HostStatus> {
  const row: HostStatus = { name: host.name, endpoint: host.endpoint, reachable: false };
  try {
    const tls = await readClientTls(host.certDir);
    row.clientCertDaysLeft = daysLeft(new Date(new X509Certificate(tls.cert).validTo));
    const p = await probeHost(host.endpoint, tls, timeoutMs);
    row.reachable = true;
    row.engineVersion = p.engineVersion;
    row.apiVersion = p.apiVersion;
    if (p.containersRunning !== undefined) row.containersRunning = p.containersRunning;
    if (p.containersTotal !== undefined) row.containersTotal = p.containersTotal;
    row.serverCertDaysLeft = daysLeft(new Date(p.server.notAfter));
    row.rttMs = p.rttMs;
  } catch (err) {
    row.problem =
      isDockwardError(err) && err.code === 'DW_E_HOST_CERT_MISMATCH' ? 'certificate' : 'unreachable';
    row.error = isDockwardError(err) ? err.message : describeError(err);
  }
  return row;
}

/** hostStatus with a hard deadline on top of the probe's own timeout: a row always comes back. */
function boundedHostStatus(host: HostRecord, timeoutMs: number): Promise<HostStatus> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<HostStatus>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          name: host.name,
          endpoint: host.endpoint,
          reachable: false,
          problem: 'unreachable',
          error: `${host.endpoint} is unreachable: no answer within ${timeoutMs} ms`,
        }),
      timeoutMs + 1000,
    );
  });
  return Promise.race([hostStatus(host, timeoutMs), deadline]).finally(() => clearTimeout(timer));
}

/** Status of every host, concurrently (at most `concurrency` at once), each bounded by `timeoutMs`. */
export function fleetStatus(
  hosts: readonly HostRecord[],
  options: { timeoutMs: number; concurrency: number; onDone?: (row: HostStatus) => void },
): Promise<HostStatus[]> {
  return mapBounded(hosts, options.concurrency, async (h) => {
    const row = await boundedHostStatus(h, options.timeoutMs);
    options.onDone?.(row);
    return row;
  });
}

/** Fleet checks as store events: what `hosts status --store` and the console's hosts page append. */
import type { HostStatus } from '../fleet/status.js';
import type { HostCheckKind, HostStatusEvent } from './model.js';

/** One event per probed host, all stamped with the time of the run. */
export function hostStatusEvents(
  statuses: readonly HostStatus[],
  time: string,
  checkedBy: HostCheckKind,
): HostStatusEvent[] {
  return statuses.map((s) => ({
    time,
    checkedBy,
    host: s.name,
    endpoint: s.endpoint,
    reachable: s.reachable,
    ...(s.engineVersion ? { engineVersion: s.engineVersion } : {}),
    ...(s.containersRunning !== undefined ? { containersRunning: s.containersRunning } : {}),
    ...(s.containersTotal !== undefined ? { containersTotal: s.containersTotal } : {}),
    ...(s.serverCertDaysLeft !== undefined ? { serverCertDaysLeft: s.serverCertDaysLeft } : {}),
    ...(s.clientCertDaysLeft !== undefined ? { clientCertDaysLeft: s.clientCertDaysLeft } : {}),
    ...(s.error ? { error: s.error } : {}),
  }));
}

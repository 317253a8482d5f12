import { selectRules } from '../../audit/engine.js';
import { formatJson } from '../../audit/format/json.js';
import { ALL_RULES } from '../../audit/rules/index.js';
import { DockwardError } from '../../errors.js';
import { auditFleet, failingFindings, failingHosts, type HostAudit } from '../../fleet/audit.js';
import { loadInventory } from '../../fleet/inventory.js';
import type { CommandContext } from '../context.js';
import { failOnOf } from '../options.js';
import { renderTable } from '../output.js';

export interface HostsAuditOptions {
  failOn: string;
  include: string[];
  exclude?: string[];
  timeout: number;
  concurrency: number;
}

/** `dockward hosts audit`: the API-level rules on every host at once. */
export async function hostsAudit(ctx: CommandContext, opts: HostsAuditOptions): Promise<HostAudit[]> {
  failOnOf(opts.failOn);
  // Unknown rule ids are a usage error before any host is contacted.
  selectRules(ALL_RULES, { include: opts.include, ...(opts.exclude ? { exclude: opts.exclude } : {}) });
  const inv = await loadInventory(ctx.paths);
  return auditFleet(inv.hosts, {
    concurrency: opts.concurrency,
    timeoutMs: opts.timeout,
    include: opts.include,
    ...(opts.exclude ? { exclude: opts.exclude } : {}),
  });
}

export function hostsAuditData(audits: readonly HostAudit[]): unknown {
  return audits.map((a) => ({
    host: a.name,
    endpoint: a.endpoint,
    ...(JSON.parse(formatJson(a.report)) as object),
  }));
}

/** After the table is printed: hosts failing at --fail-on fail the command. */
export function hostsAuditFailure(
  audits: readonly HostAudit[],
  failOnText: string,
): DockwardError | undefined {
  const failOn = failOnOf(failOnText);
  const failing = failOn === undefined ? [] : failingHosts(audits, failOn);
  if (failing.length === 0) return undefined;
  return new DockwardError(
    'DW_E_AUDIT_FAILED',
    `${failing.length} of ${audits.length} hosts have a failing finding at or above ${failOn}: ${failing.map((a) => a.name).join(', ')}`,
    { hint: 'Fix what the table lists (dockward audit --host ... shows the details).', resultPrinted: true },
  );
}

/** One row per host: counts by status and its worst failing findings. */
export function renderHostsAudit(audits: readonly HostAudit[]): string {
  if (audits.length === 0) return 'no hosts: dockward hosts add NAME --endpoint tcp://HOST:2376';
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

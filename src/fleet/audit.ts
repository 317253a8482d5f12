/**
 * `hosts audit`: the API-level audit rules run against every host of the inventory at once
 * (bounded), each with the host's own client certificate. File rules are skipped for remote
 * targets by the audit itself; an unreachable host is a failing `audit-input` finding.
 */
import { join } from 'node:path';
import { runAudit } from '../audit/audit.js';
import { failsAt, severityRank } from '../audit/engine.js';
import type { AuditReport, Finding, Severity } from '../audit/model.js';
import type { HostRecord } from './inventory.js';
import { mapBounded } from '../async/map-bounded.js';

export interface HostAudit {
  name: string;
  endpoint: string;
  report: AuditReport;
}

export interface FleetAuditOptions {
  concurrency: number;
  timeoutMs: number;
  include?: readonly string[];
  exclude?: readonly string[];
  now?: Date;
}

/** Audits every host concurrently; one slow or dead host only delays its own row. */
export function auditFleet(hosts: readonly HostRecord[], options: FleetAuditOptions): Promise<HostAudit[]> {
  return mapBounded(hosts, options.concurrency, async (h) => ({
    name: h.name,
    endpoint: h.endpoint,
    report: await runAudit(
      { kind: 'remote', host: h.endpoint },
      {
        tls: {
          ca: join(h.certDir, 'ca.pem'),
          cert: join(h.certDir, 'cert.pem'),
          key: join(h.certDir, 'key.pem'),
        },
        timeoutMs: options.timeoutMs,
        ...(options.include ? { include: options.include } : {}),
        ...(options.exclude ? { exclude: options.exclude } : {}),
        ...(options.now ? { now: options.now } : {}),
      },
    ),
  }));
}

/** The hosts with a failing finding at or above `level`. */
export function failingHosts(audits: readonly HostAudit[], level: Severity): HostAudit[] {
  return audits.filter((a) => failsAt(a.report, level));
}

/** A host's failing findings, worst first, for the summary table. */
export function failingFindings(report: AuditReport): Finding[] {
  return report.findings
    .filter((f) => f.status === 'fail')
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
}

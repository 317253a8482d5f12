/**
 * `--format json`: the documented, stable schema (docs/audit.md). Field order is fixed; new
 * fields may be added, none removed or renamed.
 */
import type { AuditReport } from '../model.js';

/** Renders the report as JSON (one document, trailing newline). */
export function formatJson(report: AuditReport): string {
  const findings = report.findings.map((f) => ({
    id: f.id,
    cis: f.cis,
    severity: f.severity,
    status: f.status,
    title: f.title,
    evidence: f.evidence,
    remediation: f.remediation,
    area: f.area,
  }));
  const s = report.summary;
  const summary = {
    target: s.target,
    total: s.total,
    byStatus: s.byStatus,
    failBySeverity: s.failBySeverity,
  };
  return `${JSON.stringify({ findings, summary }, null, 2)}\n`;
}

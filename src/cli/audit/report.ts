import { formatJson } from '../../audit/format/json.js';
import { formatJunit } from '../../audit/format/junit.js';
import { formatSarif } from '../../audit/format/sarif.js';
import { formatTable } from '../../audit/format/table.js';
import type { AuditReport } from '../../audit/model.js';

export const AUDIT_FORMATS = ['table', 'json', 'sarif', 'junit'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** Renders the report in one format. */
export function renderReport(
  report: AuditReport,
  format: AuditFormat,
  options: { color: boolean; toolVersion: string },
): string {
  switch (format) {
    case 'table':
      return formatTable(report, { color: options.color });
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report, { toolVersion: options.toolVersion });
    case 'junit':
      return formatJunit(report);
  }
}

/** The human report: findings grouped by area, a colored status, evidence and fix where it matters, a summary line. */
import {
  AREAS,
  type AuditReport,
  type AuditSummary,
  type Finding,
  SEVERITIES,
  type Status,
} from '../model.js';

const AREA_TITLES: Record<(typeof AREAS)[number], string> = {
  'daemon-config': 'Daemon configuration (CIS 2)',
  'daemon-files': 'Daemon files (CIS 3)',
  tls: 'TLS certificates and keys',
  listeners: 'Listeners',
  containers: 'Containers (CIS 5)',
  host: 'Host',
};

const COLORS: Record<Status, string> = {
  pass: '\x1b[32m',
  fail: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[36m',
  skip: '\x1b[90m',
};
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';

export interface TableOptions {
  color: boolean;
  /** Also print evidence of passing findings (default false: only what needs attention). */
  verbose?: boolean;
}

/** Renders the report as text for a terminal. */
export function formatTable(report: AuditReport, options: TableOptions): string {
  const paint = (code: string, text: string) => (options.color ? `${code}${text}${RESET}` : text);
  const lines: string[] = [];
  const idWidth = Math.max(...report.findings.map((f) => label(f).length), 10);
  for (const area of AREAS) {
    const group = report.findings.filter((f) => f.area === area);
    if (group.length === 0) continue;
    if (lines.length > 0) lines.push('');
    lines.push(paint(BOLD, AREA_TITLES[area]));
    for (const f of group) {
      const status = paint(COLORS[f.status], f.status.toUpperCase().padEnd(4));
      lines.push(`  ${status}  ${f.severity.padEnd(8)} ${label(f).padEnd(idWidth)}  ${f.title}`);
      const showDetail = f.status === 'fail' || f.status === 'warn' || (options.verbose ?? false);
      const showEvidence = showDetail || f.status === 'info' || f.status === 'skip';
      if (showEvidence) for (const e of f.evidence) lines.push(`        ${paint(COLORS.skip, '│')} ${e}`);
      if (f.status === 'fail' || f.status === 'warn')
        lines.push(`        ${paint(COLORS.skip, '└')} fix: ${f.remediation}`);
    }
  }
  lines.push('', summaryLine(report.summary, paint));
  return `${lines.join('\n')}\n`;
}

function label(f: Finding): string {
  return f.cis ? `${f.id} (${f.cis})` : f.id;
}

/** `62 checks on local (unix:///var/run/docker.sock): 40 pass, 3 fail (1 critical, 2 high), ...` */
export function summaryLine(
  summary: AuditSummary,
  paint: (code: string, text: string) => string = (_c, t) => t,
): string {
  const s = summary.byStatus;
  const failing = [...SEVERITIES]
    .reverse()
    .filter((sev) => summary.failBySeverity[sev] > 0)
    .map((sev) => `${summary.failBySeverity[sev]} ${sev}`)
    .join(', ');
  const parts = [
    paint(COLORS.pass, `${s.pass} pass`),
    paint(COLORS.fail, `${s.fail} fail${failing ? ` (${failing})` : ''}`),
    paint(COLORS.warn, `${s.warn} warn`),
    paint(COLORS.info, `${s.info} info`),
    paint(COLORS.skip, `${s.skip} skip`),
  ];
  return `${summary.total} checks on ${summary.target}: ${parts.join(', ')}`;
}

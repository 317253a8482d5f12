/**
 * `--format junit`: one testsuite per area, one testcase per finding. A failing finding is a
 * <failure>, a skipped one <skipped>; warn and info carry their evidence in <system-out>.
 */
import { AREAS, type AuditReport, type Finding } from '../model.js';

/** Escapes text for XML content and attributes, dropping characters XML 1.0 cannot hold. */
export function xmlEscape(text: string): string {
  return (
    text
      // XML 1.0 allows only tab, newline, carriage return and these ranges; lone surrogates go too.
      .replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

function testcase(f: Finding): string {
  const name = xmlEscape(f.cis ? `${f.id} (CIS ${f.cis}): ${f.title}` : `${f.id}: ${f.title}`);
  const open = `    <testcase classname="dockward.audit.${f.area}" name="${name}"`;
  const body = f.evidence.join('\n');
  switch (f.status) {
    case 'fail':
      return `${open}>\n      <failure message="${xmlEscape(f.evidence[0] ?? f.title)}" type="${f.severity}">${xmlEscape(`${body}\nfix: ${f.remediation}`)}</failure>\n    </testcase>`;
    case 'skip':
      return `${open}>\n      <skipped message="${xmlEscape(f.evidence[0] ?? 'skipped')}"/>\n    </testcase>`;
    case 'warn':
    case 'info':
      return `${open}>\n      <system-out>${xmlEscape(`${f.status}: ${body}${f.status === 'warn' ? `\nfix: ${f.remediation}` : ''}`)}</system-out>\n    </testcase>`;
    default:
      return `${open}/>`;
  }
}

/** Renders the report as a JUnit XML document. */
export function formatJunit(report: AuditReport): string {
  const count = (list: readonly Finding[], status: Finding['status']) =>
    list.filter((f) => f.status === status).length;
  const all = report.findings;
  const suites = AREAS.map((area) => {
    const list = all.filter((f) => f.area === area);
    if (list.length === 0) return '';
    return `  <testsuite name="${area}" tests="${list.length}" failures="${count(list, 'fail')}" errors="0" skipped="${count(list, 'skip')}">\n${list.map(testcase).join('\n')}\n  </testsuite>\n`;
  }).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlEscape(`dockward audit ${report.summary.target}`)}" tests="${all.length}" failures="${count(all, 'fail')}" errors="0" skipped="${count(all, 'skip')}">\n${suites}</testsuites>\n`;
}

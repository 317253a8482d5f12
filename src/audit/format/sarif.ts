/**
 * `--format sarif`: SARIF 2.1.0 for code-scanning dashboards. Every rule that ran is described
 * in tool.driver.rules (help text = rationale and fix); results are the fail and warn findings
 * only, each pointing at the file its evidence names when there is one.
 */
import type { AuditReport, Finding, Severity } from '../model.js';
import { ALL_RULES } from '../rules/index.js';

export interface SarifOptions {
  toolVersion: string;
  /** Where the rules are documented (`<docsUrl>#<rule id>` becomes each rule's helpUri). */
  docsUrl?: string;
}

const CIS_URL = 'https://www.cisecurity.org/benchmark/docker';

/** GitHub's `security-severity` scale (0–10). */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

/** SARIF level of a finding: failures by severity, warnings at most `warning`. */
export function sarifLevel(f: Pick<Finding, 'status' | 'severity'>): 'error' | 'warning' | 'note' {
  if (f.severity === 'critical' || f.severity === 'high') return f.status === 'fail' ? 'error' : 'warning';
  if (f.severity === 'medium') return 'warning';
  return 'note';
}

/** The first host path the evidence names, with its line when it says `path:line`. */
function locationOf(f: Finding): { uri: string; line?: number } | undefined {
  for (const e of f.evidence) {
    const m = /(?:^|[\s(:])(\/[\w.@+-]+(?:\/[\w.@+-]+)+)(?::(\d+))?/.exec(e);
    if (m) return m[2] ? { uri: `file://${m[1]}`, line: Number(m[2]) } : { uri: `file://${m[1]}` };
  }
  return undefined;
}

/** Renders the report as a SARIF 2.1.0 log. */
export function formatSarif(report: AuditReport, options: SarifOptions): string {
  const known = new Map(ALL_RULES.map((r) => [r.id, r]));
  const rules = report.findings.map((f) => {
    const rule = known.get(f.id);
    const rationale = rule?.rationale ?? f.title;
    const remediation = rule?.remediation ?? f.remediation;
    const helpUri = options.docsUrl ? `${options.docsUrl}#${f.id}` : f.cis ? CIS_URL : undefined;
    return {
      id: f.id,
      name: f.id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase()),
      shortDescription: { text: f.title },
      fullDescription: { text: rationale },
      ...(helpUri ? { helpUri } : {}),
      help: {
        text: `${rationale}\n\nFix: ${remediation}`,
        markdown: `${rationale}\n\n**Fix:** \`${remediation.replace(/`/g, "'")}\``,
      },
      defaultConfiguration: { level: sarifLevel({ status: 'fail', severity: f.severity }) },
      properties: {
        tags: ['security', 'docker', ...(f.cis ? [`CIS-${f.cis}`] : [])],
        'security-severity': SECURITY_SEVERITY[f.severity],
        ...(f.cis ? { cis: f.cis } : {}),
        area: f.area,
      },
    };
  });
  const results = report.findings.flatMap((f, ruleIndex) => {
    if (f.status !== 'fail' && f.status !== 'warn') return [];
    const loc = locationOf(f);
    return [
      {
        ruleId: f.id,
        ruleIndex,
        level: sarifLevel(f),
        kind: 'fail',
        message: { text: `${f.title}: ${f.evidence.join('; ')}. Fix: ${f.remediation}` },
        ...(loc
          ? {
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: loc.uri },
                    ...(loc.line ? { region: { startLine: loc.line } } : {}),
                  },
                },
              ],
            }
          : {}),
        properties: { status: f.status, severity: f.severity, target: report.summary.target },
      },
    ];
  });
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'dockward',
            version: options.toolVersion,
            semanticVersion: options.toolVersion,
            ...(options.docsUrl ? { informationUri: options.docsUrl } : {}),
            rules,
          },
        },
        results,
        properties: { target: report.summary.target, summary: report.summary },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

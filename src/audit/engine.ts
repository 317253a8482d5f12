/**
 * Runs the rules over collected facts and builds the report. Never throws for a rule or a fact:
 * a rule whose fact is missing is `skip` with the reason, a fact that could not be read adds one
 * failing `audit-input` finding (so a read error is never a silent pass), and a rule that throws
 * becomes a failing finding carrying the error.
 */
import { closestName } from '../text/closest-name.js';
import { DockwardError } from '../errors.js';
import {
  type AuditFacts,
  type AuditReport,
  type AuditRule,
  type AuditSummary,
  type AuditTarget,
  type FactName,
  type Finding,
  SEVERITIES,
  type Severity,
  STATUSES,
  type Status,
} from './model.js';
import { ALL_RULES } from './rules/index.js';
import { isSeverity, parseSeverity } from './severity.js';

export { isSeverity, parseSeverity, SEVERITIES };

const FACT_NAMES: readonly FactName[] = [
  'config',
  'socketUnit',
  'files',
  'certs',
  'keys',
  'listeners',
  'engine',
  'dockerGroup',
];

/** Index of a severity in increasing order (info 0 … critical 4). */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** True when `severity` is `level` or more severe. */
export function atLeast(severity: Severity, level: Severity): boolean {
  return severityRank(severity) >= severityRank(level);
}

/** One line naming the target, for the summary. */
export function describeTarget(target: AuditTarget): string {
  switch (target.kind) {
    case 'local':
      return `local (${target.host})`;
    case 'remote':
      return target.host;
    case 'root':
      return `root ${target.root}`;
  }
}

/** Runs `rules` (default: all) over the facts. */
export function runRules(facts: AuditFacts, rules: readonly AuditRule[] = ALL_RULES): AuditReport {
  const findings: Finding[] = [];
  const inputErrors: string[] = [];
  for (const name of FACT_NAMES) {
    const fact = facts[name];
    if (fact.state === 'error')
      inputErrors.push(
        `${name}: ${fact.reason}${fact.where && !fact.reason.includes(fact.where) ? ` (${fact.where})` : ''}`,
      );
  }
  if (inputErrors.length > 0) {
    findings.push({
      id: 'audit-input',
      cis: null,
      severity: 'high',
      status: 'fail',
      area: 'host',
      title: 'Every audit input could be read',
      evidence: inputErrors,
      remediation: inputRemediation(facts.target),
    });
  }
  for (const rule of rules) findings.push(runRule(rule, facts));
  return { findings, summary: summarize(findings, describeTarget(facts.target)) };
}

/**
 * How to fix unreadable inputs, for this kind of target: a remote daemon needs its TLS client
 * files (root does not help there); host files need a user who may read them.
 */
function inputRemediation(target: AuditFacts['target']): string {
  if (target.kind === 'remote') {
    return (
      'Give the TLS client files of the remote daemon: --tlscacert ca.pem --tlscert cert.pem --tlskey key.pem ' +
      '(a folder from `dockward pki issue client NAME` or DOCKER_CERT_PATH), or --context NAME of a docker context ' +
      'that has them; check the address and that the daemon runs. The rules that need it were skipped, not passed'
    );
  }
  return 'Fix or make readable each input named in the evidence (run as root for host files); the rules that need it were skipped, not passed';
}

function runRule(rule: AuditRule, facts: AuditFacts): Finding {
  const base = {
    id: rule.id,
    cis: rule.cis ?? null,
    severity: rule.severity,
    area: rule.area,
    title: rule.title,
    remediation: rule.remediation,
  };
  const unavailable = rule.needs
    .map((name) => ({ name, fact: facts[name] }))
    .filter(({ fact }) => fact.state !== 'ok')
    .map(
      ({ name, fact }) =>
        `${name} ${fact.state === 'error' ? 'could not be read' : 'not available'}: ${fact.state === 'ok' ? '' : fact.reason}`,
    );
  if (unavailable.length > 0) return { ...base, status: 'skip', evidence: unavailable };
  try {
    const outcome = rule.check(facts);
    return {
      ...base,
      status: outcome.status,
      evidence: outcome.evidence,
      remediation: outcome.remediation ?? rule.remediation,
    };
  } catch (err) {
    // A broken rule must show up, not hide what it was meant to check.
    return {
      ...base,
      status: 'fail',
      evidence: [`the rule failed to run: ${err instanceof Error ? err.message : String(err)}`],
    };
  }
}

/** Counts findings by status and failing findings by severity. */
export function summarize(findings: readonly Finding[], target: string): AuditSummary {
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  const failBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) {
    byStatus[f.status] += 1;
    if (f.status === 'fail') failBySeverity[f.severity] += 1;
  }
  return { target, total: findings.length, byStatus, failBySeverity };
}

/** True when a failing finding at or above `level` exists (`--fail-on`: exit 1). */
export function failsAt(report: AuditReport, level: Severity): boolean {
  return report.findings.some((f) => f.status === 'fail' && atLeast(f.severity, level));
}

/**
 * Narrows the rules by id or CIS number (`tls-auth`, `2.7`, or a section prefix `3`). An unknown
 * selector is a usage error with the closest known one, so a typo never audits nothing silently.
 */
export function selectRules(
  rules: readonly AuditRule[],
  selection: { include?: readonly string[]; exclude?: readonly string[] },
): AuditRule[] {
  const known = [...rules.map((r) => r.id), ...rules.flatMap((r) => (r.cis ? [r.cis] : [])), 'audit-input'];
  const matches = (rule: AuditRule, sel: string): boolean =>
    rule.id === sel ||
    rule.cis === sel ||
    (rule.cis !== undefined && /^\d+$/.test(sel) && rule.cis.startsWith(`${sel}.`));
  const check = (list: readonly string[], flag: string): string[] => {
    const out = list
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const sel of out) {
      if (sel === 'audit-input' || rules.some((r) => matches(r, sel))) continue;
      const near = closestName(sel, known);
      throw new DockwardError('DW_E_USAGE', `${flag}: no rule "${sel}"`, {
        hint: `${near ? `Did you mean "${near}"? ` : ''}Select rules by id (tls-auth) or CIS number (2.7, or 3 for a section); docs/audit.md lists them.`,
      });
    }
    return out;
  };
  const include = check(selection.include ?? [], '--include');
  const exclude = check(selection.exclude ?? [], '--exclude');
  return rules.filter(
    (r) =>
      (include.length === 0 || include.some((s) => matches(r, s))) && !exclude.some((s) => matches(r, s)),
  );
}

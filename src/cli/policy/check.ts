import { DockwardError } from '../../errors.js';
import type { PolicySummary } from '../../policy/compile.js';
import { hostPowerFindings } from '../../policy/host-power.js';
import { loadPolicyDecider } from '../../policy/load.js';

export interface PolicyCheckOptions {
  file: string;
  /** Also refuse a policy where a role other than admin reaches host power. */
  strict?: boolean;
}

export interface PolicyCheckResult extends PolicySummary {
  /** Set with --strict (and then always empty: findings fail the check). */
  hostPower?: [];
}

/**
 * `dockward policy check FILE [--strict]`: a summary, or DW_E_POLICY naming file:line:col; with
 * --strict, DW_E_POLICY listing every host power construct a role other than admin can reach.
 */
export async function policyCheck(opts: PolicyCheckOptions): Promise<PolicyCheckResult> {
  const policy = await loadPolicyDecider(opts.file);
  const summary = policy.summary();
  if (!opts.strict) return summary;
  const findings = hostPowerFindings(policy);
  if (findings.length > 0) {
    const shown = findings
      .slice(0, 20)
      .map((f) => `  role ${f.role} reaches ${f.construct} (allowed by ${f.rule}): ${f.request}`);
    if (findings.length > 20) shown.push(`  ... and ${findings.length - 20} more`);
    throw new DockwardError(
      'DW_E_POLICY',
      `${opts.file}: ${findings.length} way${findings.length === 1 ? '' : 's'} for a role other than admin to reach host power:\n${shown.join('\n')}`,
      {
        hint: 'add deny rules like the built-in operator\'s (privileged, hostMounts: any, hostNamespaces: any, capAdd: { except: docker-default }, devices, unconfined: any), or give the role "extends: admin" if it is meant to be one; see docs/policy.md',
      },
    );
  }
  return { ...summary, hostPower: [] };
}

export function renderPolicySummary(s: PolicyCheckResult): string {
  const roles = s.roles.map((r) => {
    const bits = [
      ...(r.builtin ? ['built-in'] : []),
      ...(r.extends.length > 0 ? [`extends ${r.extends.join(', ')}`] : []),
      `${r.allow} allow`,
      `${r.deny} deny`,
    ];
    return `  ${r.name.padEnd(14)} ${bits.join('; ')}${r.description ? `\n  ${' '.repeat(14)} ${r.description}` : ''}`;
  });
  return [
    `${s.file}: valid`,
    `identities     ${s.identities} (the first that matches gives the role)`,
    `default role   ${s.defaultRole ?? 'none: a certificate that matches no identity is denied'}`,
    'roles:',
    ...roles,
    `body checked   ${s.bodyEndpoints.join(', ')}`,
    ...(s.hostPower ? ['strict         no role other than admin reaches host power'] : []),
  ].join('\n');
}

import type { PolicySummary } from '../../policy/compile.js';
import { loadPolicyDecider } from '../../policy/load.js';

export interface PolicyCheckOptions {
  file: string;
}

/** `dockward policy check FILE`: a summary, or DW_E_POLICY naming file:line:col. */
export async function policyCheck(opts: PolicyCheckOptions): Promise<PolicySummary> {
  return (await loadPolicyDecider(opts.file)).summary();
}

export function renderPolicySummary(s: PolicySummary): string {
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
  ].join('\n');
}

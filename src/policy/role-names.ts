import { DockwardError } from '../errors.js';
import { BUILTIN_ROLE_NAMES, type CompiledPolicy } from './compile.js';

/** The roles an OU may name: the built-in ones, plus every role of the policy file when one is given. */
export function knownRoles(policy?: CompiledPolicy): string[] {
  const names = new Set<string>(BUILTIN_ROLE_NAMES);
  for (const r of policy?.summary().roles ?? []) names.add(r.name);
  return [...names];
}

/** Edit distance (insertions, deletions, substitutions): how far a typo is from a role name. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name closest to `name` when it is near enough to be a typo of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (best === undefined || d < best.d) best = { name: k, d };
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(best.name.length / 3))
    ? best.name
    : undefined;
}

/**
 * Refuses an OU that names no role: the gateway would map such a certificate to readonly (or deny
 * it) and the user would find out only at the first refused request.
 */
export function checkRoleName(ou: string, known: readonly string[], policyFile?: string): void {
  if (known.includes(ou)) return;
  const near = closestName(ou, known);
  throw new DockwardError(
    'DW_E_ROLE_UNKNOWN',
    `--ou "${ou}" is not a role${near ? ` (did you mean "${near}"?)` : ''}: the roles are ${known.join(', ')}`,
    {
      hint: policyFile
        ? `Use one of the roles of ${policyFile} or a built-in role, or pass --force to issue it anyway.`
        : 'Use a built-in role, pass --policy FILE when the role is defined in a policy file, or --force to issue it anyway.',
    },
  );
}

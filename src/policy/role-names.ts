import { DockwardError } from '../errors.js';
import { closestName } from '../text/closest-name.js';
import { loadPolicyDecider } from './load.js';
import { BUILTIN_ROLE_NAMES, type CompiledPolicy } from './compile.js';

/** The roles an OU may name: the built-in ones, plus every role of the policy file when one is given. */
export function knownRoles(policy?: CompiledPolicy): string[] {
  const names = new Set<string>(BUILTIN_ROLE_NAMES);
  for (const r of policy?.summary().roles ?? []) names.add(r.name);
  return [...names];
}

/**
 * Refuses an OU that names no role: the gateway would map such a certificate to readonly (or deny
 * it) and the user would find out only at the first refused request.
 */
export function checkRoleName(
  ou: string,
  known: readonly string[],
  policyFile?: string,
  flag = '--ou',
): void {
  if (known.includes(ou)) return;
  const near = closestName(ou, known);
  throw new DockwardError(
    'DW_E_ROLE_UNKNOWN',
    `${flag} "${ou}" is not a role${near ? ` (did you mean "${near}"?)` : ''}: the roles are ${known.join(', ')}`,
    {
      hint: policyFile
        ? `Use one of the roles of ${policyFile} or a built-in role, or pass --force to issue it anyway.`
        : 'Use a built-in role, pass --policy FILE when the role is defined in a policy file, or --force to issue it anyway.',
    },
  );
}

/**
 * `--ou ROLE` / `--role ROLE` of the commands that issue client certificates: refused unless it
 * names a built-in role or a role of `policyFile`; with `force` it passes and `warn` says why.
 */
export async function assertKnownRole(
  role: string,
  options: { policyFile?: string; force?: boolean; flag?: string; warn: (line: string) => void },
): Promise<void> {
  const policy = options.policyFile !== undefined ? await loadPolicyDecider(options.policyFile) : undefined;
  try {
    checkRoleName(role, knownRoles(policy), options.policyFile, options.flag);
  } catch (err) {
    if (!options.force || !(err instanceof DockwardError)) throw err;
    options.warn(`warning: ${err.message}; issued anyway (--force)`);
  }
}

import type { Endpoint } from '../docker/endpoints/index.js';
import { BUILTIN_ROLE_NAMES, builtinPolicy, type CompiledPolicy, isHarmlessRead } from './engine.js';

export const BUILTIN_ROLES = BUILTIN_ROLE_NAMES;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

/** The role a certificate gets without a policy file: its OU, or readonly (fail closed). */
export function builtinRoleOf(ou: readonly string[]): BuiltinRole {
  for (const role of ['admin', 'operator', 'readonly'] as const) if (ou.includes(role)) return role;
  return 'readonly';
}

/** readonly's selector `@reads`: reads that leak nothing (no archive, export, attach, logs, exec, join tokens). */
export function readonlyAllows(endpoint: Endpoint): boolean {
  return isHarmlessRead(endpoint);
}

/**
 * The built-in roles without a policy file, compiled from src/policy/builtin-policy.ts (its
 * validated snapshot, builtin-policy-data.ts, so no yaml or zod at run time) by the
 * same engine as a policy file: `admin` may call everything (still audited); `readonly` only
 * reads that leak nothing; `operator` the container, image, volume and network lifecycle with
 * body rules against privileged, host mounts, host namespaces, extra capabilities, devices and
 * switched-off confinement. The OU names the role; no or an unknown OU gets readonly.
 */
export function builtinDecider(): CompiledPolicy {
  return builtinPolicy();
}

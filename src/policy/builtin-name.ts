/**
 * The word that selects the built-in roles instead of a policy file. On its own so the gateway's
 * CLI can tell it from a file name without loading the policy compiler.
 */
export const BUILTIN_POLICY_NAME = 'builtin';

import type { Allowlist } from '../allowlist.js';

/**
 * Stage "admit": the peer address against the allowlist, before any TLS byte, so a denied
 * address learns nothing (not even the certificate). Returns the refusal reason, if any.
 */
export function admit(
  allowlist: Allowlist,
  address: string | undefined,
  stopping: boolean,
): string | undefined {
  if (stopping) return 'gateway stopping';
  if (!allowlist.allows(address)) return 'address not in --allow';
  return undefined;
}

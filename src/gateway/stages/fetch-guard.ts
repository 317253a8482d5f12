import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describeError } from '../../errors.js';
import type { Decision } from '../../policy/decision.js';
import { forbiddenAddress, forbiddenAddresses } from '../../policy/fetch.js';

/** Every address a host name resolves to (all families). */
export type ResolveHost = (host: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** This host's own addresses, read per check: interfaces come and go. */
export function ownAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i.address);
}

/**
 * Stage "fetch-guard", after "decide": a request the policy allowed to make dockerd fetch from a
 * listed host goes on only when every address of every such host is one dockerd may be sent to
 * (never loopback, link-local, unspecified or this host's own). A name that does not resolve is
 * refused: fail closed. dockerd resolves the name again itself; see docs/policy.md for that limit.
 */
export async function guardFetch(
  decision: Decision,
  resolve: ResolveHost = resolveWithDns,
  own: () => readonly string[] = ownAddresses,
): Promise<{ rule: string; reason: string } | undefined> {
  const hosts = decision.fetchHosts ?? [];
  if (hosts.length === 0) return undefined;
  const blocked = forbiddenAddresses(own());
  const rule = `${decision.role}/fetch-address`;
  for (const host of hosts) {
    let addresses: string[];
    if (isIP(host) !== 0) addresses = [host];
    else {
      try {
        addresses = await resolve(host);
      } catch (err) {
        return {
          rule,
          reason: `cannot resolve ${host}, which the daemon would fetch from (${describeError(err)}); refused because its addresses cannot be checked`,
        };
      }
    }
    if (addresses.length === 0) {
      return { rule, reason: `${host} resolves to no address` };
    }
    for (const a of addresses) {
      const why = forbiddenAddress(a, blocked);
      if (why) {
        return { rule, reason: `the daemon would fetch from ${host}, and ${why}` };
      }
    }
  }
  return undefined;
}

import { BlockList, isIP } from 'node:net';
import { DockwardError } from '../errors.js';

export interface Allowlist {
  /** The CIDRs as given (normalized), for logs and `/healthz`. */
  readonly cidrs: readonly string[];
  /** True when the address may connect. Unparseable addresses are refused (fail closed). */
  allows(address: string | undefined): boolean;
}

/** With no --allow, only loopback may connect. */
export const LOOPBACK_ONLY = ['127.0.0.0/8', '::1/128'] as const;

/** Compiles CIDRs once (at start and reload) into a matcher; a malformed one throws DW_E_USAGE. */
export function compileAllowlist(cidrs: readonly string[]): Allowlist {
  const list = new BlockList();
  const normalized: string[] = [];
  for (const raw of cidrs) {
    const text = raw.trim();
    const slash = text.indexOf('/');
    const addr = slash === -1 ? text : text.slice(0, slash);
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const prefix = slash === -1 ? max : Number(text.slice(slash + 1));
    if (
      family === 0 ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > max ||
      (slash !== -1 && !/^\d+$/.test(text.slice(slash + 1)))
    ) {
      throw new DockwardError('DW_E_USAGE', `--allow "${raw}" is not an IPv4 or IPv6 address or CIDR`, {
        hint: 'Write it as 192.0.2.0/24, 10.1.2.3, 2001:db8::/32 or ::1.',
      });
    }
    list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
    normalized.push(`${addr}/${prefix}`);
  }
  return {
    cidrs: normalized,
    allows(address) {
      if (!address) return false;
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
      const a = mapped ? mapped[1]! : address;
      const family = isIP(a);
      if (family === 0) return false;
      return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

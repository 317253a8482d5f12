import { isIP } from 'node:net';
import { DockwardError } from '../errors.js';

/** A subject alternative name, normalized. */
export interface San {
  type: 'dns' | 'ip';
  value: string;
}

const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** True for a host name a certificate may carry: RFC 1123 labels, optionally one leading `*.`. */
export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.toLowerCase().split('.');
  if (labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((label) => DNS_LABEL.test(label));
}

/**
 * Parses `DNS:host`, `IP:addr`, or a bare value (an address is an IP SAN, anything else a DNS
 * SAN). Throws DW_E_SAN_INVALID with the offending value.
 */
export function parseSan(input: string): San {
  const trimmed = input.trim();
  const match = /^([A-Za-z]+):(.*)$/.exec(trimmed);
  // "::1" and other IPv6 addresses start with a colon-free prefix only when bare; try IP first.
  if (!match || isIP(trimmed) !== 0) return inferSan(trimmed, input);
  const prefix = match[1]!.toUpperCase();
  const value = match[2]!.trim();
  if (prefix === 'DNS') {
    if (!isValidDnsName(value)) throw badSan(input, `"${value}" is not a valid DNS name`);
    return { type: 'dns', value: value.toLowerCase() };
  }
  if (prefix === 'IP') {
    const ip = stripBrackets(value);
    if (isIP(ip) === 0) throw badSan(input, `"${value}" is not an IPv4 or IPv6 address`);
    return { type: 'ip', value: ip };
  }
  throw badSan(input, `unknown SAN type "${match[1]}"`);
}

function inferSan(value: string, input: string): San {
  const ip = stripBrackets(value);
  if (isIP(ip) !== 0) return { type: 'ip', value: ip };
  if (isValidDnsName(value)) return { type: 'dns', value: value.toLowerCase() };
  throw badSan(input, `"${value}" is neither a DNS name nor an IP address`);
}

function stripBrackets(value: string): string {
  return value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
}

function badSan(input: string, why: string): DockwardError {
  return new DockwardError('DW_E_SAN_INVALID', `malformed --san "${input}": ${why}`, {
    hint: 'Write each SAN as DNS:host.example.com or IP:192.0.2.10 (IPv6: IP:::1).',
  });
}

/** Parses and de-duplicates a list of SANs, keeping their order. */
export function parseSans(inputs: readonly string[]): San[] {
  const seen = new Set<string>();
  const out: San[] = [];
  for (const input of inputs) {
    const san = parseSan(input);
    const key = `${san.type}:${san.value}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(san);
    }
  }
  return out;
}

export function formatSan(san: San): string {
  return `${san.type === 'dns' ? 'DNS' : 'IP'}:${san.value}`;
}

/**
 * Server-side fetches: requests that make dockerd itself download from a place the client
 * names. `POST /build?remote=URL` clones or downloads a build context, `images/create?fromSrc=URL`
 * imports a tarball from a URL, and the plugin endpoints pull from the registry `remote` names.
 * dockerd runs on the host, so the client reaches the host's own network through it (SSRF):
 * loopback services, the cloud metadata address, the host's other interfaces. Pure functions
 * here; the gateway resolves names in src/gateway/stages/fetch-guard.ts.
 */
import { BlockList, isIP } from 'node:net';
import type { DecisionInput } from './decision.js';
import { nameGlob } from './glob.js';
import { parseImageRef } from './image-ref.js';

/** One place dockerd would fetch from. `host` is undefined when it cannot be read (fail closed). */
export interface FetchTarget {
  /** The query parameter and its value, for the denial message. */
  readonly what: string;
  readonly host: string | undefined;
}

/** moby builder/remotecontext: `remote=client-session` means "the context comes over /session". */
const CLIENT_SESSION = 'client-session';

function queryValues(query: URLSearchParams, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of query) if (k.toLowerCase() === lower) out.push(v);
  return out;
}

/** The host of a URL-ish text, lower-cased, without brackets or port; undefined when unreadable. */
function urlHost(text: string): string | undefined {
  try {
    const u = new URL(text);
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/**
 * The host a build `remote` names. dockerd (and BuildKit) take git references (`git://`,
 * `git@host:path`, `github.com/...`, `ssh://`, an http(s) URL ending in `.git`) and http(s)
 * URLs; anything else it cannot read is reported without a host so only `fetch: any` allows it.
 */
export function remoteHost(remote: string): string | undefined {
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):/.exec(remote);
  if (scp && !remote.includes('://')) return scp[1]!.toLowerCase();
  if (/^github\.com\//i.test(remote)) return 'github.com';
  if (/^(https?|git|ssh|git\+ssh):\/\//i.test(remote)) return urlHost(remote);
  return undefined;
}

/** The host `images/create?fromSrc=` would download from: dockerd reads a value without a scheme as `http://VALUE`. */
function fromSrcHost(src: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(src) ? urlHost(src) : urlHost(`http://${src}`);
}

/** The registry a plugin reference pulls from (`vieux/sshfs` is docker.io). */
function registryHost(ref: string): string | undefined {
  const parsed = parseImageRef(ref);
  if (parsed.kind !== 'named') return undefined;
  const domain = parsed.repository.split('/')[0]!;
  return urlHost(`http://${domain}`);
}

/** Every place this request would make dockerd fetch from (empty: none). */
export function fetchTargets(input: Pick<DecisionInput, 'endpoint' | 'query'>): FetchTarget[] {
  const q = input.query;
  switch (input.endpoint.name) {
    case 'build':
      return queryValues(q, 'remote')
        .filter((v) => v !== '' && v !== CLIENT_SESSION)
        .map((v) => ({ what: `remote=${v}`, host: remoteHost(v) }));
    case 'image.create':
      // `fromSrc=-` is an upload in the request body: nothing is fetched.
      return queryValues(q, 'fromSrc')
        .filter((v) => v !== '' && v !== '-')
        .map((v) => ({ what: `fromSrc=${v}`, host: fromSrcHost(v) }));
    case 'plugin.pull':
    case 'plugin.privileges':
    case 'plugin.upgrade':
      return queryValues(q, 'remote').map((v) => ({ what: `remote=${v}`, host: registryHost(v) }));
    default:
      return [];
  }
}

/** A role's fetch setting, compiled: nothing, any place, or listed hosts. */
export type FetchRule =
  | { readonly kind: 'none' }
  | { readonly kind: 'any' }
  | {
      readonly kind: 'hosts';
      readonly patterns: readonly string[];
      readonly test: (host: string) => boolean;
    };

export function compileFetchHosts(patterns: readonly string[]): FetchRule {
  const res = patterns.map((p) => nameGlob(p.toLowerCase().replace(/^\[|\]$/g, '')));
  return { kind: 'hosts', patterns, test: (host) => res.some((r) => r.test(host)) };
}

/**
 * Addresses dockerd must never be sent to, even for a listed host: loopback, unspecified,
 * link-local (169.254.169.254 is the cloud metadata service), multicast, and, added by the
 * caller, the host's own addresses. IPv4-mapped IPv6 addresses are checked as IPv4.
 */
export function forbiddenAddresses(own: readonly string[] = []): BlockList {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addSubnet('0.0.0.0', 8, 'ipv4');
  list.addSubnet('169.254.0.0', 16, 'ipv4');
  list.addSubnet('224.0.0.0', 4, 'ipv4');
  list.addAddress('255.255.255.255', 'ipv4');
  list.addAddress('::1', 'ipv6');
  list.addAddress('::', 'ipv6');
  list.addSubnet('fe80::', 10, 'ipv6');
  list.addSubnet('ff00::', 8, 'ipv6');
  for (const a of own) {
    const family = isIP(a);
    if (family === 4) list.addAddress(a, 'ipv4');
    else if (family === 6) list.addAddress(a.split('%')[0]!, 'ipv6');
  }
  return list;
}

/** Why an address may not be fetched from, or undefined when it may. */
export function forbiddenAddress(address: string, blocked: BlockList): string | undefined {
  let a = address.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1]!;
  const family = isIP(a);
  if (family === 0) return `"${address}" is not an IP address`;
  if (blocked.check(a, family === 4 ? 'ipv4' : 'ipv6')) {
    return `${address} is loopback, link-local, unspecified, multicast or one of this host's own addresses`;
  }
  return undefined;
}

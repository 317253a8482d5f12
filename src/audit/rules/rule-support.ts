/**
 * What the rules share: reading a setting of the effective configuration with where it came
 * from, the daemon's tcp endpoints (hosts and socket activation), file-mode arithmetic, and the
 * outcome shorthands. Pure; no I/O.
 */
import { type EffectiveConfig, sourceOf, tlsMode } from '../../daemon/effective-config.js';
import { parseDaemonHost } from '../../daemon/hosts.js';
import type { AuditFacts, Fact, RuleOutcome } from '../model.js';

/** The value of an ok fact (rules list it in `needs`, so the engine checked it). */
export function factValue<T>(fact: Fact<T>): T {
  if (fact.state !== 'ok') throw new Error(`fact not available: ${fact.reason}`);
  return fact.value;
}

/** The value of a fact when it is ok, else undefined (for facts a rule uses only if present). */
export function maybe<T>(fact: Fact<T>): T | undefined {
  return fact.state === 'ok' ? fact.value : undefined;
}

/** One setting with its value and where it came from. */
export interface Setting {
  value: unknown;
  /** Set by a file or a flag (not dockerd's default). */
  explicit: boolean;
  /** `file:/etc/docker/daemon.json:3`, `flag:/lib/systemd/system/docker.service:12` or `dockerd default`. */
  where: string;
}

/** Reads one key of the effective configuration. */
export function setting(effective: EffectiveConfig, key: string): Setting | undefined {
  const entry = effective.entries.find((e) => e.key === key);
  if (!entry) return undefined;
  const where = sourceOf(effective, key) ?? entry.source;
  return {
    value: entry.value,
    explicit: entry.kind !== 'default',
    where: entry.kind === 'default' ? 'dockerd default' : where,
  };
}

/** `icc: false (file:/etc/docker/daemon.json:3)`, or `icc: not set` for an absent key. */
export function describeSetting(effective: EffectiveConfig, key: string): string {
  const s = setting(effective, key);
  if (!s) return `${key}: not set`;
  const flags = effective.entries.find((e) => e.key === key)?.flags;
  const shown = flags && flags.length > 0 ? flags.join(' ') : JSON.stringify(s.value);
  return `${key}: ${shown} (${s.where})`;
}

/** A rule's check that passes when a daemon setting has exactly the value it asks for. */
export function settingIs(key: string, wanted: unknown): (facts: AuditFacts) => RuleOutcome {
  return (facts) => {
    const effective = factValue(facts.config);
    const evidence = describeSetting(effective, key);
    return setting(effective, key)?.value === wanted ? pass(evidence) : fail([evidence]);
  };
}

/** A tcp address dockerd serves, and where the configuration says so. */
export interface TcpEndpoint {
  /** The address as dockerd binds it (`0.0.0.0`, `127.0.0.1`, `::`, or `` for every address). */
  address: string;
  port: number;
  /** `tcp://0.0.0.0:2375` */
  url: string;
  /** Where: `hosts (file:/etc/docker/daemon.json:2)` or `ListenStream=2375 (/lib/systemd/system/docker.socket)`. */
  where: string;
  from: 'config' | 'socket-unit';
}

/**
 * The tcp endpoints the configuration opens: `tcp://` entries of hosts, and, when dockerd is
 * socket-activated (`-H fd://`), the tcp `ListenStream=` values of docker.socket. dockerd wraps
 * activated sockets in TLS exactly like its own listeners, so the same TLS settings apply.
 */
export function tcpEndpoints(facts: AuditFacts): TcpEndpoint[] {
  const effective = maybe(facts.config);
  if (!effective) return [];
  const tls = tlsMode(effective).tls;
  const hostsWhere = setting(effective, 'hosts')?.where ?? 'dockerd default';
  const out: TcpEndpoint[] = [];
  let socketActivated = false;
  for (const raw of effective.config.hosts ?? []) {
    let host: ReturnType<typeof parseDaemonHost>;
    try {
      host = parseDaemonHost(raw, { tls });
    } catch {
      continue; // dockerd refuses to start with it; not a listener
    }
    if (host.scheme === 'fd') socketActivated = true;
    if (host.scheme !== 'tcp' || host.host === undefined || host.port === undefined) continue;
    out.push({
      address: host.host,
      port: host.port,
      url: host.normalized,
      where: `hosts ${JSON.stringify(raw)} (${hostsWhere})`,
      from: 'config',
    });
  }
  const unit = maybe(facts.socketUnit);
  if (socketActivated && unit) {
    for (const stream of unit.listenStreams) {
      const tcp = parseListenStream(stream);
      if (!tcp) continue;
      const shown = tcp.address === '' ? '*' : tcp.address.includes(':') ? `[${tcp.address}]` : tcp.address;
      out.push({
        address: tcp.address,
        port: tcp.port,
        url: `tcp://${shown}:${tcp.port}`,
        where: `ListenStream=${stream} (${unit.path})`,
        from: 'socket-unit',
      });
    }
  }
  return out;
}

/**
 * A systemd `ListenStream=` value as tcp (systemd.socket(5)): a bare port listens on every
 * address; `addr:port` / `[v6]:port` on one; a path or `@name` is a unix socket (undefined).
 */
export function parseListenStream(value: string): { address: string; port: number } | undefined {
  const v = value.trim();
  if (v === '' || v.startsWith('/') || v.startsWith('@') || v.startsWith('vsock:')) return undefined;
  if (/^\d+$/.test(v)) return { address: '', port: Number(v) };
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  if (v6) return { address: v6[1]!, port: Number(v6[2]) };
  const v4 = /^([^:]+):(\d+)$/.exec(v);
  if (v4) return { address: v4[1]!, port: Number(v4[2]) };
  return undefined;
}

/** True for an address that binds every interface. */
export function isWildcardAddress(address: string): boolean {
  return address === '' || address === '0.0.0.0' || address === '::' || address === '[::]' || address === '*';
}

/** `0o644` → `0644`. */
export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/**
 * The permission bits `mode` grants beyond `max` (0 when it is at most `max`). Bitwise, never
 * numeric: 0606 is not "at most 660" because it grants others write, whatever 606 < 660 says.
 */
export function excessBits(mode: number, max: number): number {
  return mode & 0o7777 & ~max;
}

/** Reads excess permission bits as words: `others can write, group can read`. */
export function describeBits(bits: number): string {
  const parts: string[] = [];
  if (bits & 0o4000) parts.push('setuid');
  if (bits & 0o2000) parts.push('setgid');
  if (bits & 0o1000) parts.push('sticky');
  const who: Array<[string, number]> = [
    ['owner', 6],
    ['group', 3],
    ['others', 0],
  ];
  for (const [name, shift] of who) {
    const b = (bits >> shift) & 7;
    const what = [b & 4 ? 'read' : '', b & 2 ? 'write' : '', b & 1 ? 'execute' : ''].filter(Boolean);
    if (what.length > 0) parts.push(`${name} can ${what.join('/')}`);
  }
  return parts.join(', ');
}

export const pass = (...evidence: string[]): RuleOutcome => ({ status: 'pass', evidence });
export const fail = (evidence: string[], remediation?: string): RuleOutcome =>
  remediation === undefined ? { status: 'fail', evidence } : { status: 'fail', evidence, remediation };
export const warn = (evidence: string[], remediation?: string): RuleOutcome =>
  remediation === undefined ? { status: 'warn', evidence } : { status: 'warn', evidence, remediation };
export const info = (...evidence: string[]): RuleOutcome => ({ status: 'info', evidence });
export const skip = (...evidence: string[]): RuleOutcome => ({ status: 'skip', evidence });

/** The remediation command that writes the hardened configuration with TLS. */
export const HARDEN_REMOTE_TLS = 'dockward daemon harden --profile remote-tls --write';
export const HARDEN_BASELINE = 'dockward daemon harden --profile baseline --write';

/** A daemon.json snippet remediation: `Set in /etc/docker/daemon.json: {"icc": false} (or: ...)`. */
export function daemonJsonFix(snippet: Record<string, unknown>, also?: string): string {
  const text = `Set in daemon.json: ${JSON.stringify(snippet)}, then restart dockerd`;
  return also ? `${text} (or: ${also})` : text;
}

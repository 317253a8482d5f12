/**
 * The TCP ports dockerd really listens on, and what each does with a stranger. Sources: the
 * process's socket inodes matched against the LISTEN rows of its network namespace's
 * /proc/<pid>/net/tcp and tcp6; the `tcp://` hosts of the effective configuration; the
 * `ListenStream=` of docker.socket. Each port is then probed on loopback only: a plain HTTP
 * `GET /_ping`, and a TLS handshake that presents no client certificate.
 */
import { promises as fs } from 'node:fs';
import { endianness } from 'node:os';
import { isIP } from 'node:net';
import type { EffectiveConfig } from '../../daemon/effective-config.js';
import { tlsMode } from '../../daemon/effective-config.js';
import { isLoopbackHost, parseDaemonHost } from '../../daemon/hosts.js';
import { engineGet, probeTlsListener } from '../../docker/engine-client.js';
import type { AuditFacts, Fact, ListenerFact } from '../model.js';
import { socketInodesOf } from './process.js';

/** A row of /proc/net/tcp or tcp6. */
export interface TcpSocketRow {
  address: string;
  port: number;
  /** Kernel TCP state (0x0A is LISTEN). */
  state: number;
  inode: number;
}

/** A TCP address:port pair a source says dockerd listens on. */
export interface ListenAddress {
  address: string;
  port: number;
}

const TCP_LISTEN = 0x0a;

/** Reverses the bytes of an 8-hex-digit word (the kernel prints addresses in host byte order). */
function swapWord(hex: string): string {
  return hex.match(/../g)!.reverse().join('');
}

/**
 * Decodes a /proc/net/tcp* address (`0100007F:0CEA`, 32 hex digits for IPv6). The address is in
 * host byte order per 32-bit word, the port is plain hex. IPv4-mapped IPv6 (`::ffff:a.b.c.d`)
 * comes back as the IPv4 address, as dockerd's listener is then reachable on it.
 */
export function decodeProcAddress(text: string, littleEndian = endianness() === 'LE'): ListenAddress {
  const [hexAddr = '', hexPort = ''] = text.split(':');
  const port = Number.parseInt(hexPort, 16);
  const words = (hexAddr.match(/.{8}/g) ?? []).map((w) => (littleEndian ? swapWord(w) : w));
  const bytes = words
    .join('')
    .match(/../g)!
    .map((b) => Number.parseInt(b, 16));
  if (bytes.length === 4) return { address: bytes.join('.'), port };
  const isMapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isMapped) return { address: bytes.slice(12).join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { address: compressIpv6(groups), port };
}

/** `0:0:0:0:0:0:0:1` → `::1` (the longest run of zero groups becomes `::`). */
function compressIpv6(groups: readonly string[]): string {
  let best = { start: -1, len: 0 };
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.len).join(':');
  return `${head}::${tail}`;
}

/** Parses /proc/net/tcp or /proc/net/tcp6 (header line first). */
export function parseProcNetTcp(text: string, littleEndian = endianness() === 'LE'): TcpSocketRow[] {
  const rows: TcpSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const { address, port } = decodeProcAddress(cols[1]!, littleEndian);
    const state = Number.parseInt(cols[3]!, 16);
    const inode = Number(cols[9]);
    if (!Number.isInteger(inode) || Number.isNaN(port)) continue;
    rows.push({ address, port, state, inode });
  }
  return rows;
}

/** The LISTEN rows whose inode the process holds. */
export function listeningOf(rows: readonly TcpSocketRow[], inodes: ReadonlySet<number>): ListenAddress[] {
  const seen = new Set<string>();
  const out: ListenAddress[] = [];
  for (const r of rows) {
    if (r.state !== TCP_LISTEN || !inodes.has(r.inode)) continue;
    const key = `${r.address}|${r.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ address: r.address, port: r.port });
  }
  return out;
}

/** The TCP listeners a process has open, read from its own network namespace's tables. */
export async function processTcpListeners(pid: number, procRoot = '/proc'): Promise<ListenAddress[]> {
  const inodes = await socketInodesOf(pid, procRoot);
  if (inodes.size === 0) return [];
  const tables = await Promise.all(
    ['tcp', 'tcp6'].map((t) => fs.readFile(`${procRoot}/${pid}/net/${t}`, 'utf8').catch(() => '')),
  );
  return listeningOf(
    tables.flatMap((t) => parseProcNetTcp(t)),
    inodes,
  );
}

/** The `tcp://` hosts of an effective configuration (its default port depends on TLS). */
export function configTcpHosts(effective: EffectiveConfig): ListenAddress[] {
  const tls = tlsMode(effective).tls;
  const out: ListenAddress[] = [];
  for (const raw of effective.config.hosts ?? []) {
    try {
      const h = parseDaemonHost(raw, { tls });
      if (h.scheme === 'tcp' && h.host !== undefined && h.port !== undefined)
        out.push({ address: h.host, port: h.port });
    } catch {
      // an invalid host is a config rule's business
    }
  }
  return out;
}

/**
 * The TCP addresses of systemd `ListenStream=` values: `2375` (every address, dual stack),
 * `0.0.0.0:2375`, `[::]:2375`; paths (unix sockets) are left out.
 */
export function listenStreamAddresses(values: readonly string[]): ListenAddress[] {
  const out: ListenAddress[] = [];
  for (const raw of values) {
    const v = raw.trim();
    if (/^\d+$/.test(v)) {
      out.push({ address: '::', port: Number(v) });
      continue;
    }
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:/\s]+):(\d+)$/.exec(v);
    if (m) out.push({ address: m[1]!, port: Number(m[2]) });
  }
  return out;
}

type Seen = ListenerFact['seenIn'][number];

/**
 * Merges the sources into one fact per listener. The same port seen with a wildcard or a name in
 * one source and an address in another (a socket unit's `2375`, the process's `0.0.0.0:2375`,
 * a configured `localhost`) is one listener; two distinct specific addresses are two.
 */
export function mergeListeners(sources: Partial<Record<Seen, readonly ListenAddress[]>>): ListenerFact[] {
  const facts: ListenerFact[] = [];
  const order: Seen[] = ['process', 'config', 'socket-unit'];
  for (const seen of order) {
    for (const a of sources[seen] ?? []) {
      const address = normalizeAddress(a.address);
      const same =
        facts.find((f) => f.port === a.port && f.address === address) ??
        facts.find((f) => f.port === a.port && (isVague(f.address) || isVague(address)));
      if (same) {
        if (!same.seenIn.includes(seen)) same.seenIn.push(seen);
      } else {
        facts.push({ address, port: a.port, seenIn: [seen] });
      }
    }
  }
  return facts;
}

/** A wildcard or a host name: it may stand for the address another source shows. */
function isVague(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || isIP(address) === 0;
}

function normalizeAddress(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '');
  return bare === '' ? '0.0.0.0' : bare;
}

/** What a loopback probe of one listener found. */
export interface ProbeResult {
  plainHttpPing?: boolean;
  tlsWithoutClientCert?: ListenerFact['tlsWithoutClientCert'];
  /** Readable account of what happened (`answered /_ping in plain HTTP on 127.0.0.1:2375`). */
  detail: string;
}

/** The addresses to dial for a listener, or undefined with a reason when it must not be probed. */
export function probeAddressesOf(address: string): { dial: string[] } | { skip: string } {
  if (address === '0.0.0.0') return { dial: ['127.0.0.1'] };
  // A dual-stack `::` listener answers on both loopbacks; ::1 may be missing in a container.
  if (address === '::') return { dial: ['::1', '127.0.0.1'] };
  if (isLoopbackHost(address)) return { dial: [address] };
  return { skip: `not probed: ${address} is not a loopback address (dockward probes on loopback only)` };
}

/** Plain `GET /_ping`: did a Docker API answer "OK" without TLS? undefined: nothing answered. */
async function plainPing(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ answered: boolean; ok: boolean; detail: string }> {
  try {
    const res = await engineGet({ kind: 'tcp', host, port }, '/_ping', timeoutMs);
    const ok = res.status === 200 && res.body.trim() === 'OK';
    return {
      answered: true,
      ok,
      detail: `plain HTTP GET /_ping: ${res.status} ${res.body.trim().slice(0, 60)}`,
    };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { answered: false, ok: false, detail: `plain HTTP GET /_ping: ${e.code ?? e.message}` };
  }
}

/** Probes one listener at one dial address: plain HTTP, then TLS with no client certificate. */
export async function probeOnce(host: string, port: number, timeoutMs = 2_000): Promise<ProbeResult> {
  const plain = await plainPing(host, port, timeoutMs);
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (plain.ok) {
    return {
      plainHttpPing: true,
      tlsWithoutClientCert: 'not-tls',
      detail: `answered GET /_ping with "OK" in plain HTTP on ${where}`,
    };
  }
  const tls = await probeTlsListener(host, port, undefined, timeoutMs);
  let verdict: NonNullable<ListenerFact['tlsWithoutClientCert']>;
  // Only an answer to /_ping counts as accepted: a gateway that completes the handshake and then
  // refuses the request (dockward answers 403 to a client without a certificate) verifies too.
  if (tls.answeredWithoutClientCert) verdict = 'accepted';
  else if (tls.statusLine !== undefined) verdict = 'refused';
  // A server that finished the handshake, or sent a TLS alert, speaks TLS and turned us away.
  else if (tls.handshakeDone === true || /ALERT/.test(tls.errorCode ?? '')) verdict = 'refused';
  else if (!tls.reachable && !plain.answered) verdict = 'unreachable';
  else verdict = 'not-tls';
  const tlsText =
    verdict === 'accepted'
      ? `a TLS client without a certificate got "${tls.statusLine}"`
      : verdict === 'refused'
        ? `TLS without a client certificate refused (${tls.statusLine !== undefined ? `answered "${tls.statusLine}"` : tls.detail})`
        : verdict === 'not-tls'
          ? `does not speak TLS (${tls.detail})`
          : `unreachable (${tls.detail})`;
  return {
    plainHttpPing: false,
    tlsWithoutClientCert: verdict,
    detail: `${where}: ${plain.detail}; ${tlsText}`,
  };
}

/** Probes a listener on loopback (wildcards are dialled on loopback; other addresses are not probed). */
export async function probeListener(address: string, port: number, timeoutMs = 2_000): Promise<ProbeResult> {
  const plan = probeAddressesOf(address);
  if ('skip' in plan) return { detail: plan.skip };
  let last: ProbeResult | undefined;
  for (const host of plan.dial) {
    last = await probeOnce(host, port, timeoutMs);
    if (last.tlsWithoutClientCert !== 'unreachable') return last;
  }
  return last!;
}

/** Inputs of the listener collector. */
export interface ListenerInputs {
  /** The dockerd's pid on this host (its sockets are read), when known. */
  pid?: number;
  config: AuditFacts['config'];
  socketUnit: AuditFacts['socketUnit'];
  /** Probe each listener on loopback (false for an offline --root tree). */
  probe: boolean;
  procRoot?: string;
  timeoutMs?: number;
}

/**
 * Collects the listener fact: merged sources, each probed on loopback. A source that failed is
 * not an error of this fact (its own fact carries the error); with no source at all it is
 * `missing`.
 */
export async function collectListeners(input: ListenerInputs): Promise<Fact<ListenerFact[]>> {
  const sources: Partial<Record<Seen, ListenAddress[]>> = {};
  if (input.pid !== undefined) sources.process = await processTcpListeners(input.pid, input.procRoot);
  if (input.config.state === 'ok') sources.config = configTcpHosts(input.config.value);
  if (input.socketUnit.state === 'ok')
    sources['socket-unit'] = listenStreamAddresses(input.socketUnit.value.listenStreams);
  if (Object.keys(sources).length === 0) {
    return {
      state: 'missing',
      reason: 'no dockerd process, configuration or socket unit to read listeners from',
    };
  }
  const facts = mergeListeners(sources);
  if (input.probe) {
    await Promise.all(
      facts.map(async (f) => applyProbe(f, await probeListener(f.address, f.port, input.timeoutMs))),
    );
  }
  return { state: 'ok', value: facts };
}

/** Copies a probe result onto its fact. */
export function applyProbe(fact: ListenerFact, probe: ProbeResult): ListenerFact {
  if (probe.plainHttpPing !== undefined) fact.plainHttpPing = probe.plainHttpPing;
  if (probe.tlsWithoutClientCert !== undefined) fact.tlsWithoutClientCert = probe.tlsWithoutClientCert;
  fact.probeDetail = probe.detail;
  return fact;
}

import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { DockwardError } from '../errors.js';

/** PEM material a client presents to a host (the DOCKER_CERT_PATH trio, read into memory). */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** Parses `tcp://HOST:PORT` (IPv6 as `tcp://[::1]:2376`); the docker CLI's TLS default port is 2376. */
export function parseEndpoint(endpoint: string): Endpoint {
  const bad = () =>
    new DockwardError('DW_E_USAGE', `"${endpoint}" is not a tcp://HOST:PORT endpoint`, {
      hint: 'Write the endpoint as tcp://HOST:PORT, for example tcp://192.0.2.10:2376.',
    });
  if (!endpoint.startsWith('tcp://')) throw bad();
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw bad();
  }
  if (url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search || url.username) {
    throw bad();
  }
  const port = url.port === '' ? 2376 : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port };
}

export interface ServerCertInfo {
  subject: string;
  sans: string[];
  notAfter: string;
}

export interface ProbeResult {
  engineVersion: string;
  apiVersion: string;
  containersRunning?: number;
  containersTotal?: number;
  server: ServerCertInfo;
  /** Round trip of the /_ping request in milliseconds. */
  rttMs: number;
}

interface Reply {
  status: number;
  body: string;
  server?: ServerCertInfo;
}

function get(ep: Endpoint, path: string, tls: ClientTls, signal: AbortSignal): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ep.host,
        port: ep.port,
        path,
        method: 'GET',
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        // One fresh connection per probe: an agent would keep sockets open to dead hosts.
        agent: false,
        signal,
      },
      (res) => {
        const sock = res.socket as TLSSocket;
        const peer = sock.getPeerCertificate?.();
        const server: ServerCertInfo | undefined = peer?.valid_to
          ? {
              subject: peer.subject?.CN ? String(peer.subject.CN) : '',
              sans: (peer.subjectaltname ?? '')
                .split(',')
                .map((s) => s.trim().replace('IP Address:', 'IP:'))
                .filter((s) => s.length > 0),
              notAfter: new Date(peer.valid_to).toISOString(),
            }
          : undefined;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(server ? { server } : {}),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function parseJson(body: string, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    if (v && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    // fall through: reported below
  }
  throw new DockwardError('DW_E_HOST_UNREACHABLE', `${what} did not answer with JSON`);
}

/**
 * TLS GET /_ping, /version and (best effort) /info with the host's client certificate, bounded
 * by `timeoutMs` in total. Throws DW_E_HOST_UNREACHABLE with the reason when the ping fails.
 */
export async function probeHost(endpoint: string, tls: ClientTls, timeoutMs: number): Promise<ProbeResult> {
  const ep = parseEndpoint(endpoint);
  const signal = AbortSignal.timeout(timeoutMs);
  const fail = (reason: string, cause?: unknown) =>
    new DockwardError('DW_E_HOST_UNREACHABLE', `${endpoint} is unreachable: ${reason}`, {
      hint: 'Check that the host listens there with TLS and that its CA signed both certificates.',
      ...(cause === undefined ? {} : { cause }),
    });
  const started = performance.now();
  let ping: Reply;
  try {
    ping = await get(ep, '/_ping', tls, signal);
  } catch (err) {
    if (signal.aborted) throw fail(`no answer within ${timeoutMs} ms`, err);
    throw fail(err instanceof Error ? err.message : String(err), err);
  }
  const rttMs = Math.round(performance.now() - started);
  if (ping.status !== 200 || ping.server === undefined) throw fail(`/_ping answered HTTP ${ping.status}`);
  let version: Reply;
  try {
    version = await get(ep, '/version', tls, signal);
  } catch (err) {
    throw fail(signal.aborted ? `no /version within ${timeoutMs} ms` : String(err), err);
  }
  if (version.status !== 200) throw fail(`/version answered HTTP ${version.status}`);
  const v = parseJson(version.body, `${endpoint} /version`);
  const result: ProbeResult = {
    engineVersion: String(v['Version'] ?? ''),
    apiVersion: String(v['ApiVersion'] ?? ''),
    server: ping.server,
    rttMs,
  };
  // /info may be denied by the gateway's policy for a read-only role; the row just leaves it blank.
  const info = await get(ep, '/info', tls, signal).catch(() => undefined);
  if (info?.status === 200) {
    const i = parseJson(info.body, `${endpoint} /info`);
    if (typeof i['ContainersRunning'] === 'number') result.containersRunning = i['ContainersRunning'];
    if (typeof i['Containers'] === 'number') result.containersTotal = i['Containers'];
  }
  return result;
}

import { Agent } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type EngineResponse, engineGet, type ServerCertInfo } from '../docker/engine-client.js';
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

export type { ServerCertInfo } from '../docker/engine-client.js';

export interface ProbeResult {
  engineVersion: string;
  apiVersion: string;
  containersRunning?: number;
  containersTotal?: number;
  server: ServerCertInfo;
  /** Round trip of the /_ping request in milliseconds. */
  rttMs: number;
}

/** A GET through the one Engine API client, on the probe's shared connection and deadline. */
function get(
  ep: Endpoint,
  path: string,
  tls: ClientTls,
  agent: Agent,
  signal: AbortSignal,
): Promise<EngineResponse> {
  return engineGet({ kind: 'tcp', host: ep.host, port: ep.port, tls }, path, {
    agent,
    signal,
    timeoutMs: Number.POSITIVE_INFINITY, // the probe's signal is the deadline
  });
}

function parseJson(body: string, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(body);
    if (v && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    // fall through: reported below
  }
  throw new DockwardError('DW_E_HOST_UNREACHABLE', `${what} did not answer with JSON`, {
    hint: 'Check that the endpoint is a Docker daemon or a dockward gateway (not another TLS service) on that port.',
  });
}

/** Node's codes for a server certificate the host's CA does not vouch for (or names another host). */
const SERVER_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A Node TLS server (the dockward gateway) refuses a client certificate by closing, without an alert. */
const CLOSED_AFTER_HANDSHAKE = 'DW_CLOSED_AFTER_HANDSHAKE';

/** TLS alerts a server sends when it refuses the client certificate (unknown CA, revoked, ...). */
const CLIENT_REFUSED =
  /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_(UNKNOWN|REVOKED|EXPIRED|REQUIRED)|UNSUPPORTED_CERTIFICATE)$/;

/**
 * The reason a TLS connection failed on certificates, or undefined when it failed otherwise
 * (refused, timed out, not TLS): the first is a trust problem to fix, the second a host that is down.
 */
export function certificateFailure(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (SERVER_VERIFY_CODES.has(code)) {
    return `the server certificate does not verify against the host's CA: ${message} (${code})`;
  }
  if (CLIENT_REFUSED.test(code)) return `the host refused the client certificate: ${message} (${code})`;
  if (code === CLOSED_AFTER_HANDSHAKE) {
    return 'the host closed the connection right after the TLS handshake without answering: it most likely refused the client certificate (not from its CA, or revoked)';
  }
  return undefined;
}

/**
 * With TLS 1.3 a server refuses the client certificate after the client thinks the handshake is
 * done, and Node's HTTP client often reports only "socket hang up". A raw TLS connection that
 * sends a request and reads reports the alert itself; returns it when it names a certificate, or
 * a CLOSED_AFTER_HANDSHAKE error when the server hung up on a completed handshake without a word.
 */
function handshakeAlert(ep: Endpoint, tls: ClientTls, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(undefined);
    const sock = tlsConnect({
      host: ep.host,
      port: ep.port,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      ...(isIP(ep.host) ? {} : { servername: ep.host }),
    });
    const done = (v: unknown) => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(v);
    };
    const onAbort = () => done(undefined);
    signal.addEventListener('abort', onAbort);
    let secure = false;
    sock.on('secureConnect', () => {
      secure = true;
      sock.write('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
    });
    sock.on('error', (err) => done(certificateFailure(err) ? err : undefined));
    sock.on('data', () => done(undefined));
    sock.on('close', () =>
      done(
        secure
          ? Object.assign(new Error('closed after the TLS handshake'), { code: CLOSED_AFTER_HANDSHAKE })
          : undefined,
      ),
    );
  });
}

/**
 * TLS GET /_ping, /version and (best effort) /info with the host's client certificate, bounded
 * by `timeoutMs` in total. Throws DW_E_HOST_CERT_MISMATCH when a certificate is refused on either
 * side, DW_E_HOST_UNREACHABLE with the reason when the ping fails otherwise.
 */
export async function probeHost(endpoint: string, tls: ClientTls, timeoutMs: number): Promise<ProbeResult> {
  const ep = parseEndpoint(endpoint);
  const signal = AbortSignal.timeout(timeoutMs);
  // One connection for the three requests (one handshake), closed when the probe ends so no
  // socket to a dead or slow host outlives its timeout.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await probeWith(endpoint, ep, tls, agent, signal, timeoutMs);
  } finally {
    agent.destroy();
  }
}

async function probeWith(
  endpoint: string,
  ep: Endpoint,
  tls: ClientTls,
  agent: Agent,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<ProbeResult> {
  const fail = (reason: string, cause?: unknown) => {
    const certReason = cause === undefined || signal.aborted ? undefined : certificateFailure(cause);
    if (certReason) {
      return new DockwardError('DW_E_HOST_CERT_MISMATCH', `${endpoint}: ${certReason}`, {
        hint: 'The host must present a server certificate from the same CA as the client certificate, naming the endpoint address, and trust that CA for clients.',
        cause,
      });
    }
    return new DockwardError('DW_E_HOST_UNREACHABLE', `${endpoint} is unreachable: ${reason}`, {
      hint: 'Check that the host listens there with TLS and that its CA signed both certificates.',
      ...(cause === undefined ? {} : { cause }),
    });
  };
  const started = performance.now();
  let ping: EngineResponse;
  try {
    ping = await get(ep, '/_ping', tls, agent, signal);
  } catch (err) {
    if (signal.aborted) throw fail(`no answer within ${timeoutMs} ms`, err);
    const alert = certificateFailure(err) ? undefined : await handshakeAlert(ep, tls, signal);
    throw fail(err instanceof Error ? err.message : String(err), alert ?? err);
  }
  const rttMs = Math.round(performance.now() - started);
  if (ping.status !== 200 || ping.server === undefined) throw fail(`/_ping answered HTTP ${ping.status}`);
  let version: EngineResponse;
  try {
    version = await get(ep, '/version', tls, agent, signal);
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
  const info = await get(ep, '/info', tls, agent, signal).catch(() => undefined);
  if (info?.status === 200) {
    const i = parseJson(info.body, `${endpoint} /info`);
    if (typeof i['ContainersRunning'] === 'number') result.containersRunning = i['ContainersRunning'];
    if (typeof i['Containers'] === 'number') result.containersTotal = i['Containers'];
  }
  return result;
}

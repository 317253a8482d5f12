/**
 * The small Engine API client the CLI commands share (`daemon apply|status`, `init`, `up`):
 * `/_ping`, `/version`, `/info` over a unix socket or TCP+TLS, buffered GETs with a hard deadline.
 * The gateway's hot path uses its own streaming upstream (src/gateway/upstream.ts).
 */
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, connect as netConnect } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { explainTlsError } from './tls-errors.js';

/** Where a dockerd answers: its unix socket, or a TCP listener with the client's TLS material. */
export type EngineEndpoint =
  | { kind: 'unix'; socketPath: string }
  | {
      kind: 'tcp';
      host: string;
      port: number;
      /** PEM texts; without `cert`/`key` the client presents no certificate. */
      tls?: { ca: string; cert?: string; key?: string; servername?: string };
    };

/** The server certificate a TLS endpoint presented (fleet status shows its SANs and expiry). */
export interface ServerCertInfo {
  subject: string;
  sans: string[];
  notAfter: string;
}

export interface EngineResponse {
  status: number;
  body: string;
  /** Over TLS: the certificate the server presented. */
  server?: ServerCertInfo;
}

export interface EngineGetOptions {
  /** Deadline for the whole exchange (default 10 s; Infinity: none but `signal`). */
  timeoutMs?: number;
  /** Reuse connections (one TLS handshake for several requests); default: a connection per request. */
  agent?: HttpsAgent;
  /** Aborts the request (a deadline shared by several requests). */
  signal?: AbortSignal;
}

/** `unix:///path` or `tcp://host:port` → an endpoint (TLS material is added by the caller). */
export function endpointFromHost(host: string): EngineEndpoint {
  if (host.startsWith('unix://')) return { kind: 'unix', socketPath: host.slice('unix://'.length) };
  const m = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(host);
  if (m) return { kind: 'tcp', host: m[1]!, port: Number(m[2]) };
  if (host.startsWith('/')) return { kind: 'unix', socketPath: host };
  throw new Error(`cannot reach "${host}": write unix:///path/docker.sock or tcp://host:port`);
}

/** A readable name for messages. */
export function describeEndpoint(endpoint: EngineEndpoint): string {
  return endpoint.kind === 'unix'
    ? `unix://${endpoint.socketPath}`
    : `tcp://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}

/** A GET to the endpoint over the right transport (unix socket, plain TCP, or TLS with verification). */
function openGet(
  endpoint: EngineEndpoint,
  path: string,
  onResponse: (res: IncomingMessage) => void,
  options: EngineGetOptions = {},
): ClientRequest {
  const base: RequestOptions = {
    method: 'GET',
    path,
    headers: { host: 'docker' },
    agent: options.agent ?? false,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (endpoint.kind === 'unix') return httpRequest({ ...base, socketPath: endpoint.socketPath }, onResponse);
  if (!endpoint.tls) return httpRequest({ ...base, host: endpoint.host, port: endpoint.port }, onResponse);
  return httpsRequest(
    {
      ...base,
      host: endpoint.host,
      port: endpoint.port,
      ca: endpoint.tls.ca,
      ...(endpoint.tls.cert !== undefined ? { cert: endpoint.tls.cert } : {}),
      ...(endpoint.tls.key !== undefined ? { key: endpoint.tls.key } : {}),
      // SNI carries names only: for an IP, '' sends none (Node warns otherwise) and the
      // certificate's IP SANs are checked against `host`. Left unset, the agent would take
      // the Host header ("docker") as the name to verify.
      servername: endpoint.tls.servername ?? (isIP(endpoint.host) !== 0 ? '' : endpoint.host),
      rejectUnauthorized: true,
    },
    onResponse,
  );
}

/** The presented certificate's subject CN, SANs (`DNS:x`, `IP:y`) and expiry, when the socket is TLS. */
function serverCertOf(res: IncomingMessage): ServerCertInfo | undefined {
  const socket = res.socket as TLSSocket;
  const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!peer?.valid_to) return undefined;
  return {
    subject: peer.subject?.CN ? String(peer.subject.CN) : '',
    sans: (peer.subjectaltname ?? '')
      .split(',')
      .map((s) => s.trim().replace('IP Address:', 'IP:'))
      .filter((s) => s.length > 0),
    notAfter: new Date(peer.valid_to).toISOString(),
  };
}

/** One GET with a deadline for the whole exchange; rejects on network or TLS errors. */
export function engineGet(
  endpoint: EngineEndpoint,
  path: string,
  timeout: number | EngineGetOptions = 10_000,
): Promise<EngineResponse> {
  const options = typeof timeout === 'number' ? { timeoutMs: timeout } : timeout;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = openGet(
      endpoint,
      path,
      (res) => {
        const server = serverCertOf(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(server ? { server } : {}),
          });
        });
        // An abort mid-body may only close the response: settle rather than hang.
        res.on('close', () => {
          if (!res.complete) {
            clearTimeout(timer);
            reject(new Error(`connection closed during ${path}`));
          }
        });
      },
      options,
    );
    // With only a signal (timeoutMs Infinity) the caller's deadline is the one that counts.
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(
          () =>
            req.destroy(
              new Error(`${path} on ${describeEndpoint(endpoint)}: no answer within ${timeoutMs} ms`),
            ),
          timeoutMs,
        )
      : undefined;
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** True when `/_ping` answers 200 OK. */
export async function ping(endpoint: EngineEndpoint, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await engineGet(endpoint, '/_ping', timeoutMs);
    return res.status === 200 && res.body === 'OK';
  } catch {
    return false;
  }
}

/**
 * Polls `/_ping` until it answers (true), the time is up (false), or `stop()` returns true
 * (e.g. the dockerd being waited for has exited), which ends the wait early with false.
 */
export async function waitForPing(
  endpoint: EngineEndpoint,
  options: { timeoutMs: number; intervalMs?: number; stop?: () => boolean },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (options.stop?.()) return false;
    if (await ping(endpoint)) return true;
    await sleep(options.intervalMs ?? 200);
  }
  return false;
}

/** GET a JSON document; throws with the status and body when it is not 200. */
export async function engineJson<T>(endpoint: EngineEndpoint, path: string, timeoutMs = 10_000): Promise<T> {
  const res = await engineGet(endpoint, path, timeoutMs);
  if (res.status !== 200) {
    throw new Error(`${path} on ${describeEndpoint(endpoint)} answered ${res.status}: ${res.body.trim()}`);
  }
  return JSON.parse(res.body) as T;
}

/** The fields of `/version` dockward reads. */
export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
}

/** The fields of `/info` dockward reads to check that settings took effect. */
export interface EngineInfo {
  ID?: string;
  SecurityOptions?: string[];
  LiveRestoreEnabled?: boolean;
  LoggingDriver?: string;
  ExperimentalBuild?: boolean;
  Debug?: boolean;
  Labels?: string[];
  DefaultRuntime?: string;
  DockerRootDir?: string;
  CgroupDriver?: string;
  ServerVersion?: string;
}

/** What a TCP listener did with a client that presents no certificate. */
export interface ListenerProbe {
  /** A TCP connection was accepted. */
  reachable: boolean;
  /** The server's certificate chains to the CA given (undefined: no TLS handshake got that far). */
  serverTrusted: boolean | undefined;
  /** The daemon answered `/_ping` to a client without a certificate. */
  answeredWithoutClientCert: boolean;
  /** What happened, for messages (`tls: certificate required`, `ECONNREFUSED`). */
  detail: string;
  /** The handshake completed on the client's side (with TLS 1.3 a server may still refuse right after). */
  handshakeDone?: boolean;
  /** The first line of any HTTP answer (`HTTP/1.1 200 OK`), when one came. */
  statusLine?: string;
  /** The error code that ended the exchange (`ERR_SSL_WRONG_VERSION_NUMBER`, `ECONNRESET`), if any. */
  errorCode?: string;
  /** The SHA-256 fingerprint of the certificate the server presented (`AA:BB:...`), when one came. */
  peerFingerprint256?: string;
}

/**
 * Connects to a TLS listener without a client certificate, trusting only `caPem` (or nothing:
 * `serverTrusted` is then false), and asks `/_ping`. A dockerd with tlsverify must refuse (an
 * alert during or right after the handshake).
 */
export function probeTlsListener(
  host: string,
  port: number,
  caPem: string | undefined,
  timeoutMs = 10_000,
): Promise<ListenerProbe> {
  return new Promise((resolve) => {
    let reachable = false;
    let serverTrusted: boolean | undefined;
    let response = '';
    let settled = false;
    let handshakeDone = false;
    let errorCode: string | undefined;
    let peerFingerprint256: string | undefined;
    const finish = (detail: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const statusLine = /^HTTP\/\d/.test(response) ? response.split('\r\n')[0] : undefined;
      resolve({
        reachable,
        serverTrusted,
        answeredWithoutClientCert: /^HTTP\/1\.[01] 200/.test(response),
        detail,
        handshakeDone,
        ...(statusLine !== undefined ? { statusLine } : {}),
        ...(errorCode !== undefined ? { errorCode } : {}),
        ...(peerFingerprint256 !== undefined ? { peerFingerprint256 } : {}),
      });
    };
    // The name is not checked here (the listener may be 0.0.0.0); the chain to the CA is.
    const socket = tlsConnect({
      host,
      port,
      ...(caPem !== undefined ? { ca: caPem } : {}),
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      // SNI carries host names only (RFC 6066); Node warns when given an IP address.
      ...(isIP(host) !== 0 ? {} : { servername: host }),
    });
    socket.on('connect', () => {
      reachable = true;
    });
    socket.on('secureConnect', () => {
      reachable = true;
      handshakeDone = true;
      serverTrusted = caPem !== undefined && socket.authorized;
      peerFingerprint256 = socket.getPeerCertificate().fingerprint256 || undefined;
      socket.write('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
    });
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      errorCode ??= err.code;
      finish(explainTlsError(err));
    });
    socket.on('close', () =>
      finish(response === '' ? 'closed without an answer' : response.split('\r\n')[0]!),
    );
    const timer = setTimeout(() => {
      errorCode ??= 'ETIMEDOUT';
      finish(`no answer within ${timeoutMs} ms`);
    }, timeoutMs);
  });
}

/** True when a plain TCP connection to host:port is accepted. */
export function tcpReachable(host: string, port: number, timeoutMs = 5_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.on('connect', () => done(true));
    socket.on('error', () => done(false));
    const timer = setTimeout(() => done(false), timeoutMs);
  });
}

/** Waits until a TCP port accepts connections, up to `timeoutMs`; false when it never did. */
export async function waitForTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await tcpReachable(host, port, 1_000)) return true;
    await sleep(100);
  }
  return false;
}

/** The address to dial for a listener bound to `host`: the wildcard addresses mean loopback. */
export function dialAddress(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}

/** An open streaming response (`/events`): its status, the body stream, and how to end it. */
export interface EngineStream {
  status: number;
  response: IncomingMessage;
  /** Ends the request and its connection (safe to call more than once). */
  close(): void;
}

/**
 * Opens a GET whose body is an open-ended stream (`/events`). Only the wait for the response head
 * has a deadline; once it answers, the stream may stay idle for hours. TCP keepalive notices a
 * peer that vanished without closing.
 */
export function engineStream(
  endpoint: EngineEndpoint,
  path: string,
  connectTimeoutMs = 10_000,
): Promise<EngineStream> {
  return new Promise((resolve, reject) => {
    const req = openGet(endpoint, path, (res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode ?? 0, response: res, close: () => req.destroy() });
    });
    req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    const timer = setTimeout(
      () =>
        req.destroy(
          new Error(`${path} on ${describeEndpoint(endpoint)}: no answer within ${connectTimeoutMs} ms`),
        ),
      connectTimeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

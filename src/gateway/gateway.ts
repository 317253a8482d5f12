import { watch, type FSWatcher } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ROUTE_TABLE, type RouteTable } from '../docker/endpoints/index.js';
import { DockwardError, describeError } from '../errors.js';
import type { Decider } from '../policy/decision.js';
import { type Allowlist, compileAllowlist, LOOPBACK_ONLY } from './allowlist.js';
import { type AuditSink, type ClientAddress, NULL_AUDIT_SINK } from './audit-sink.js';
import { RecordRateLimiter } from './record-rate.js';
import { sendRawError } from './http-errors.js';
import type { Identity } from './identity.js';
import { type GatewayMetrics, handshakeReason, NO_METRICS } from './metrics.js';
import type { ConnectionInfo } from './request-context.js';
import { DEFAULT_HTTP_OPTIONS, HttpConnection, type HttpLayerOptions } from './http/connection.js';
import { BodyMemory, DEFAULT_LIMITS, type GatewayLimits, KeyedCounter } from './limits.js';
import { Pipeline } from './pipeline.js';
import { admit } from './stages/admit.js';
import { identify } from './stages/identify.js';
import { Ownership } from './ownership/ownership.js';
import { loadTlsMaterial, type TlsFiles, type TlsMaterial } from './tls-material.js';
import type { Upstream } from './upstream.js';

export interface GatewayConfig {
  listenHost: string;
  listenPort: number;
  tls: TlsFiles;
  /** CIDRs allowed to connect; empty means loopback only. */
  allow: readonly string[];
  upstream: Upstream;
  /** Builds the decider; called at start and on every reload (a throw keeps the old one). */
  loadDecider: () => Promise<Decider>;
  audit: AuditSink;
  logger: Logger;
  metrics?: GatewayMetrics;
  /** Files whose change triggers a reload (certificates, CRL, policy). */
  watchFiles?: readonly string[];
  /** End the open connections of certificates found revoked on reload. */
  closeRevoked?: boolean;
  /** Slowloris guard: the whole request head must arrive within this time. */
  headersTimeoutMs?: number;
  /** Largest request head accepted (431 above). */
  maxHeaderBytes?: number;
  handshakeTimeoutMs?: number;
  routes?: RouteTable;
  /** Largest request body read for a policy decision (413 above; default 4 MiB). */
  bodyLimit?: number;
  /** Requests per second per identity (`--audit-rate`; 0 or none: no limit). */
  auditRate?: number;
  /** Connection ids `start, start + step, ...` (workers share one audit log). */
  connIds?: { start: number; step: number };
  /** Skip the start-up notes (each worker but the first). */
  quiet?: boolean;
  /** Resource limits (limits.ts); each one not given takes its default. */
  limits?: Partial<GatewayLimits>;
}

export interface ReloadResult {
  ok: boolean;
  error?: string;
  closedRevoked: number;
}

/**
 * The mTLS gateway. A connection goes: TCP accept -> admit (IP allowlist, closed before the TLS
 * handshake) -> TLS with the client certificate checked against the CA and CRL -> identify; then
 * each request goes through the pipeline (src/gateway/pipeline.ts): canonicalize -> decide ->
 * record -> forward (pooled, streamed or hijacked) -> complete. See docs/gateway-lifecycle.md.
 */
export class Gateway {
  readonly metrics: GatewayMetrics;
  private readonly netServer: NetServer;
  private readonly tlsServer: TlsServer;
  private readonly httpOptions: HttpLayerOptions;
  private readonly http = new Map<TLSSocket, HttpConnection>();
  private allowlist: Allowlist;
  private material!: TlsMaterial;
  private decider!: Decider;
  private readonly connections = new Map<TLSSocket, ConnectionInfo>();
  private readonly rawSockets = new Set<Socket>();
  private connIdNext: number;
  private readonly connIdStep: number;
  private watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly pipeline: Pipeline;
  private readonly ownership: Ownership;
  private readonly limits: GatewayLimits;
  /** Raw sockets in a TLS handshake, by `address:port` (a TLSSocket reports the same peer). */
  private readonly handshaking = new Map<string, Socket>();
  /** Sockets waiting for a handshake slot, queued per client address (served round robin). */
  private readonly handshakeQueue = new Map<string, Socket[]>();
  private queued = 0;
  private readonly perIdentity: KeyedCounter;
  private readonly bodyMemory: BodyMemory;

  private constructor(private readonly config: GatewayConfig) {
    this.metrics = config.metrics ?? NO_METRICS;
    this.connIdNext = config.connIds?.start ?? 1;
    this.connIdStep = config.connIds?.step ?? 1;
    this.allowlist = compileAllowlist(config.allow.length > 0 ? config.allow : LOOPBACK_ONLY);
    const routes = config.routes ?? ROUTE_TABLE;
    this.ownership = Ownership.forUpstream(config.upstream, config.logger);
    this.limits = { ...DEFAULT_LIMITS, ...config.limits };
    this.perIdentity = new KeyedCounter(this.limits.maxConnectionsPerIdentity);
    this.bodyMemory = new BodyMemory(this.limits.bodyMemory);
    this.pipeline = new Pipeline({
      routes,
      decider: () => this.decider,
      audit: () => config.audit,
      upstream: () => config.upstream,
      ownership: () => this.ownership,
      metrics: this.metrics,
      logger: config.logger,
      ...(config.bodyLimit !== undefined ? { bodyLimit: config.bodyLimit } : {}),
      jsonCost: this.limits.json,
      streams: new KeyedCounter(this.limits.maxStreamsPerIdentity),
      ...(config.auditRate ? { recordRate: new RecordRateLimiter(config.auditRate) } : {}),
    });
    // The gateway's own HTTP/1.1 layer (src/gateway/http/): strict parsing, re-framed requests.
    this.httpOptions = {
      ...DEFAULT_HTTP_OPTIONS,
      maxHeadBytes: config.maxHeaderBytes ?? DEFAULT_HTTP_OPTIONS.maxHeadBytes,
      headersTimeoutMs: config.headersTimeoutMs ?? DEFAULT_HTTP_OPTIONS.headersTimeoutMs,
      bodyTimeoutMs: this.limits.bodyTimeoutMs,
    };
    this.tlsServer = createTlsServer({
      requestCert: true,
      // OpenSSL verifies the chain, validity and CRL; onSecure refuses what failed, with the reason
      // recorded and told to the client, and never hands such a socket to the HTTP layer.
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      handshakeTimeout: config.handshakeTimeoutMs ?? 10_000,
      minVersion: 'TLSv1.2',
    });
    this.tlsServer.on('secureConnection', (socket) => this.onSecure(socket));
    this.tlsServer.on('tlsClientError', (err, socket) => this.onTlsError(err, socket));
    this.netServer = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.onTcp(socket));
  }

  /** Loads certificates and policy, then listens. Throws (nothing listening) when either is bad. */
  static async start(config: GatewayConfig): Promise<Gateway> {
    const gw = new Gateway(config);
    gw.material = await loadTlsMaterial(config.tls);
    gw.tlsServer.setSecureContext(secureContextOptions(gw.material));
    gw.decider = await config.loadDecider();
    await new Promise<void>((resolve, reject) => {
      gw.netServer.once('error', reject);
      gw.netServer.listen(config.listenPort, config.listenHost, () => {
        gw.netServer.off('error', reject);
        resolve();
      });
    });
    gw.watch();
    gw.ownership.start();
    if (config.quiet) return gw;
    const log = config.logger;
    log.info(
      { listen: gw.address(), upstream: config.upstream.url, allow: gw.allowlist.cidrs },
      'gateway listening',
    );
    if (config.allow.length === 0)
      log.warn('no --allow given: only loopback clients (127.0.0.0/8, ::1) may connect');
    log.info({ policy: gw.decider.describe() }, 'policy loaded');
    if (config.audit === NULL_AUDIT_SINK) log.warn('no --audit-log: requests are not recorded');
    return gw;
  }

  private newConnId(): number {
    const id = this.connIdNext;
    this.connIdNext += this.connIdStep;
    return id;
  }

  address(): { host: string; port: number } {
    const a = this.netServer.address();
    if (a && typeof a === 'object') return { host: a.address, port: a.port };
    return { host: this.config.listenHost, port: this.config.listenPort };
  }

  health(): { ok: boolean; connections: number; crlNextUpdate?: string; serverCertNotAfter: string } {
    const now = Date.now();
    const crlOk = !this.material.crlNextUpdate || this.material.crlNextUpdate.getTime() > now;
    return {
      ok: !this.stopping && crlOk && this.material.serverCertNotAfter.getTime() > now,
      connections: this.connections.size,
      ...(this.material.crlNextUpdate ? { crlNextUpdate: this.material.crlNextUpdate.toISOString() } : {}),
      serverCertNotAfter: this.material.serverCertNotAfter.toISOString(),
    };
  }

  /**
   * Reloads certificates, CRL, allowlist and policy. Established connections stay up; a bad file
   * keeps everything as it was (and is logged). With closeRevoked, connections whose certificate
   * the new CRL lists are ended.
   */
  async reload(allow?: readonly string[]): Promise<ReloadResult> {
    const log = this.config.logger;
    try {
      const material = await loadTlsMaterial(this.config.tls);
      const decider = await this.config.loadDecider();
      const allowlist = allow ? compileAllowlist(allow.length > 0 ? allow : LOOPBACK_ONLY) : this.allowlist;
      this.tlsServer.setSecureContext(secureContextOptions(material));
      this.material = material;
      this.decider = decider;
      this.allowlist = allowlist;
      let closedRevoked = 0;
      for (const [socket, info] of this.connections) {
        if (material.revoked.has(info.identity.serial)) {
          if (this.config.closeRevoked) {
            closedRevoked++;
            this.config.audit.connection({
              connId: info.connId,
              event: 'revoked-closed',
              client: info.client,
              identity: info.identity,
              reason: 'certificate revoked by the reloaded CRL',
            });
            socket.destroy();
          } else {
            log.warn(
              { connId: info.connId, cn: info.identity.cn },
              'an open connection uses a now-revoked certificate (use --close-revoked to end it)',
            );
          }
        }
      }
      this.metrics.reloads.inc({ result: 'ok' });
      log.info({ revoked: material.revoked.size, closedRevoked }, 'reloaded certificates, CRL and policy');
      return { ok: true, closedRevoked };
    } catch (err) {
      this.metrics.reloads.inc({ result: 'error' });
      log.error({ err: describeError(err) }, 'reload failed: keeping the previous configuration');
      return { ok: false, error: describeError(err), closedRevoked: 0 };
    }
  }

  /** Stops accepting, lets requests in flight finish until the deadline, then closes the rest. */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const w of this.watchers) w.close();
    clearTimeout(this.reloadTimer);
    const closed = new Promise<void>((resolve) => this.netServer.close(() => resolve()));
    for (const http of this.http.values()) http.closeIfIdle();
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline && [...this.connections.values()].some((c) => c.active > 0)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const socket of this.connections.keys()) socket.destroy();
    for (const socket of this.rawSockets) socket.destroy();
    await closed;
    // Let the destroyed requests record their completion before the audit log closes.
    const settle = Date.now() + 2000;
    while (
      Date.now() < settle &&
      (this.connections.size > 0 || [...this.connections.values()].some((c) => c.active > 0))
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setImmediate(r));
    this.ownership.stop();
    this.config.upstream.destroy();
    await this.config.audit.close();
  }

  // --- connection level -------------------------------------------------------------------

  private onTcp(socket: Socket): void {
    const client = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const refusal = admit(this.allowlist, socket.remoteAddress, this.stopping);
    if (refusal) {
      // Closed before any TLS byte: a denied address learns nothing, not even the certificate.
      const connId = this.newConnId();
      this.metrics.denied.inc({ reason: 'address' });
      this.config.audit.connection({
        connId,
        event: 'denied-address',
        client,
        reason: refusal,
      });
      socket.destroy();
      return;
    }
    this.rawSockets.add(socket);
    socket.on('error', () => undefined);
    if (this.handshaking.size < this.limits.maxHandshakes) {
      socket.once('close', () => this.rawSockets.delete(socket));
      this.startHandshake(socket);
      return;
    }
    if (this.queued >= this.limits.handshakeQueue) {
      // Dropped before the handshake: a flood of connections costs no crypto.
      this.rawSockets.delete(socket);
      this.metrics.denied.inc({ reason: 'limit' });
      this.config.audit.connection({
        connId: this.newConnId(),
        event: 'limited',
        client,
        reason: `${this.limits.handshakeQueue} connections already wait for a TLS handshake (--max-handshakes)`,
      });
      socket.destroy();
      return;
    }
    // Waits, unread, for a slot; fair between addresses, so one flooding peer does not hold
    // every other client's handshake behind its own.
    const address = client.address;
    const queue = this.handshakeQueue.get(address);
    if (queue) queue.push(socket);
    else this.handshakeQueue.set(address, [socket]);
    this.queued++;
    socket.once('close', () => {
      this.rawSockets.delete(socket);
      const q = this.handshakeQueue.get(address);
      const i = q ? q.indexOf(socket) : -1;
      if (q && i >= 0) {
        q.splice(i, 1);
        this.queued--;
        if (q.length === 0) this.handshakeQueue.delete(address);
      }
    });
  }

  private startHandshake(socket: Socket): void {
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    this.handshaking.set(key, socket);
    socket.once('close', () => this.handshakeDone(key, socket));
    this.tlsServer.emit('connection', socket);
  }

  /** A handshake ended (secure, failed or the socket closed): the next waiting one starts. */
  private handshakeDone(key: string, socket?: Socket): void {
    const held = this.handshaking.get(key);
    if (!held || (socket && held !== socket)) return;
    this.handshaking.delete(key);
    while (this.handshaking.size < this.limits.maxHandshakes && this.queued > 0) {
      const next = this.nextQueued();
      if (next && !next.destroyed) this.startHandshake(next);
    }
  }

  private nextQueued(): Socket | undefined {
    for (const [address, queue] of this.handshakeQueue) {
      this.handshakeQueue.delete(address);
      const socket = queue.shift();
      this.queued--;
      // Back of the line: the next slot goes to the next address.
      if (queue.length > 0) this.handshakeQueue.set(address, queue);
      return socket;
    }
    return undefined;
  }

  private onTlsError(err: Error & { code?: string }, socket: TLSSocket): void {
    this.handshakeDone(`${socket.remoteAddress}:${socket.remotePort}`);
    const reason = handshakeReason(err.code, err.message);
    this.metrics.handshakeFailures.inc({ reason });
    this.metrics.denied.inc({ reason: 'tls' });
    this.config.audit.connection({
      connId: this.newConnId(),
      event: 'handshake-failed',
      client: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      reason: `${reason}: ${err.code ?? ''} ${err.message}`.trim(),
    });
    socket.destroy();
  }

  private onSecure(socket: TLSSocket): void {
    this.handshakeDone(`${socket.remoteAddress}:${socket.remotePort}`);
    const client = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const connId = this.newConnId();
    const who = identify(
      {
        peer: socket.getPeerCertificate(),
        authorized: socket.authorized,
        authorizationError: socket.authorizationError,
      },
      this.material.revoked,
    );
    if (!('identity' in who) || 'reason' in who) {
      this.refuseConnection(socket, connId, client, who.reason, who.identity);
      return;
    }
    const cn = who.identity.cn;
    if (this.connections.size >= this.limits.maxConnections) {
      this.limitConnection(
        socket,
        connId,
        client,
        who.identity,
        new DockwardError(
          'DW_E_GATEWAY_BUSY',
          `the gateway has ${this.limits.maxConnections} connections open (--max-connections); retry later`,
        ),
      );
      return;
    }
    if (!this.perIdentity.take(cn)) {
      this.limitConnection(
        socket,
        connId,
        client,
        who.identity,
        new DockwardError(
          'DW_E_LIMIT_REACHED',
          `${cn} has ${this.limits.maxConnectionsPerIdentity} connections open (--max-connections-per-identity)`,
        ),
      );
      return;
    }
    const info: ConnectionInfo = {
      connId,
      client,
      identity: who.identity,
      socket,
      openedAt: Date.now(),
      active: 0,
    };
    this.connections.set(socket, info);
    this.metrics.connections.inc();
    const cipher = socket.getCipher();
    this.config.audit.connection({
      connId,
      event: 'accepted',
      client,
      identity: who.identity,
      tlsVersion: socket.getProtocol() ?? '',
      cipher: cipher?.name ?? '',
    });
    socket.once('close', () => {
      this.connections.delete(socket);
      this.perIdentity.give(cn);
      this.metrics.connections.dec();
      this.config.audit.connection({ connId, event: 'closed', client, identity: who.identity });
    });
    socket.on('error', () => undefined);
    // Plain and upgrade requests alike go through the one pipeline.
    const http = new HttpConnection(
      socket,
      this.httpOptions,
      (io) => void this.pipeline.run(info, io),
      (err) => this.onBadRequest(info, err),
      this.bodyMemory.for(cn),
    );
    this.http.set(socket, http);
    socket.once('close', () => this.http.delete(socket));
  }

  /**
   * Ends a connection whose certificate was refused. The handshake has completed, so the client
   * is told why in a Docker-style error (the CLI prints it) instead of a bare reset; nothing it
   * sends is parsed or forwarded.
   */
  private refuseConnection(
    socket: TLSSocket,
    connId: number,
    client: ClientAddress,
    reason: string,
    identity?: Identity,
  ): void {
    const label = handshakeReason(undefined, reason);
    this.metrics.handshakeFailures.inc({ reason: label });
    this.metrics.denied.inc({ reason: 'tls' });
    this.config.audit.connection({
      connId,
      event: 'handshake-failed',
      client,
      reason: `${label}: ${reason}`,
      ...(identity ? { identity } : {}),
    });
    this.answerAndClose(socket, new DockwardError('DW_E_DENIED', `client certificate refused: ${reason}`));
  }

  /** Ends an authenticated connection over a connection limit, telling the client why. */
  private limitConnection(
    socket: TLSSocket,
    connId: number,
    client: ClientAddress,
    identity: Identity,
    err: DockwardError,
  ): void {
    this.metrics.denied.inc({ reason: 'limit' });
    this.config.audit.connection({ connId, event: 'limited', client, identity, reason: err.message });
    this.answerAndClose(socket, err);
  }

  /** Answers the first request on a connection that will not be served with `err`, then closes. */
  private answerAndClose(socket: TLSSocket, err: DockwardError): void {
    socket.on('error', () => undefined);
    const answer = () => {
      clearTimeout(timer);
      sendRawError(socket, err);
    };
    // Answer once the request head starts to arrive (or after a moment), so HTTP clients read it.
    const timer = setTimeout(answer, 2000);
    timer.unref();
    socket.once('data', answer);
  }

  /** A request head the HTTP layer refused before the pipeline saw it (it answered already). */
  private onBadRequest(info: ConnectionInfo, err: DockwardError): void {
    this.metrics.denied.inc({ reason: 'bad-request' });
    this.config.logger.warn(
      { connId: info.connId, code: err.code, err: err.message },
      'refused a malformed request',
    );
  }

  private watch(): void {
    const files = this.config.watchFiles ?? [];
    for (const file of files) {
      try {
        // Editors and `pki` replace files by rename: watch the file and debounce.
        const w = watch(file, { persistent: false }, () => this.scheduleReload());
        w.on('error', () => undefined);
        this.watchers.push(w);
      } catch {
        this.config.logger.warn({ file }, 'cannot watch file for changes; reload with SIGHUP');
      }
    }
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      // Re-arm the watchers: a rename leaves the old inode watched.
      for (const w of this.watchers) w.close();
      this.watchers = [];
      void this.reload().then(() => this.watch());
    }, 200);
    this.reloadTimer.unref();
  }
}

function secureContextOptions(m: TlsMaterial) {
  return m.options;
}

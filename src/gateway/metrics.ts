import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways may share a
 * process in tests). Labels never carry ids, addresses or names: their values are bounded.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  /**
   * Requests counted since the last read, by their labels joined: prom-client hashes a label
   * object on every inc() (sorting its keys), a cost on every request; these are added to the
   * counter whenever it is read (/metrics, the workers' aggregation), so what it shows is exact.
   */
  private pendingRequests = new Map<string, { labels: RequestLabels; n: number }>();
  readonly requests = new Counter({
    name: 'dockward_requests_total',
    help: 'Requests by endpoint, method, status code and decision.',
    labelNames: ['endpoint', 'method', 'code', 'decision'] as const,
    registers: [this.registry],
    collect: () => this.flushRequests(),
  });
  readonly duration = new Histogram({
    name: 'dockward_request_duration_seconds',
    help: 'Time from request to the end of the response (hijacked streams: to the close).',
    labelNames: ['endpoint'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'dockward_connections_active',
    help: 'Client connections open now (after admission).',
    registers: [this.registry],
  });
  readonly handshakeFailures = new Counter({
    name: 'dockward_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly denied = new Counter({
    name: 'dockward_denied_total',
    help: 'Refusals by reason (address, tls, policy, unknown-endpoint, bad-request, ...).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'dockward_reloads_total',
    help: 'Configuration reloads, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly feedClients = new Gauge({
    name: 'dockward_audit_feed_clients',
    help: 'Clients connected to the live audit feed (--audit-feed) now.',
    registers: [this.registry],
  });
  readonly feedOverflows = new Counter({
    name: 'dockward_audit_feed_overflows_total',
    help: 'Audit feed clients disconnected for falling more than 1 MiB behind.',
    registers: [this.registry],
  });

  /** One request done: counted in `dockward_requests_total` (seen there at its next read). */
  countRequest(endpoint: string, method: string, code: number, decision: 'allow' | 'deny'): void {
    const key = `${endpoint} ${method} ${code} ${decision}`;
    const seen = this.pendingRequests.get(key);
    if (seen) seen.n++;
    else this.pendingRequests.set(key, { labels: { endpoint, method, code: String(code), decision }, n: 1 });
  }

  private flushRequests(): void {
    if (this.pendingRequests.size === 0) return;
    const pending = this.pendingRequests;
    this.pendingRequests = new Map();
    for (const { labels, n } of pending.values()) this.requests.inc(labels, n);
  }
}

interface RequestLabels {
  endpoint: string;
  method: string;
  code: string;
  decision: string;
}

/** Maps an OpenSSL/Node verification error to a bounded reason label. */
export function handshakeReason(code: string | undefined, message: string): string {
  const c = (code ?? '').toUpperCase();
  const m = message.toLowerCase();
  if (c.includes('CRL') || m.includes('crl')) return 'crl';
  if (c.includes('CERT_REVOKED') || m.includes('revoked')) return 'revoked';
  if (c.includes('CERT_HAS_EXPIRED') || m.includes('expired')) return 'expired';
  if (c.includes('CERT_NOT_YET_VALID') || m.includes('not yet valid')) return 'not-yet-valid';
  if (
    m.includes('no client certificate') ||
    m.includes('peer did not return a certificate') ||
    c.includes('CERT_REQUIRED')
  )
    return 'no-certificate';
  if (
    c.includes('UNABLE_TO_VERIFY') ||
    c.includes('UNABLE_TO_GET_ISSUER') ||
    c.includes('SELF_SIGNED') ||
    m.includes('unknown ca') ||
    m.includes('untrusted')
  )
    return 'untrusted';
  if (c.includes('INVALID_PURPOSE') || m.includes('purpose') || m.includes('clientauth'))
    return 'wrong-purpose';
  if (
    m.includes('version') ||
    c.includes('VERSION') ||
    c.includes('UNSUPPORTED_PROTOCOL') ||
    m.includes('unsupported protocol')
  )
    return 'protocol-version';
  if (c.includes('CRL') || m.includes('crl')) return 'crl';
  if (m.includes('timeout') || m.includes('timed out')) return 'timeout';
  return 'other';
}

/**
 * Serves `/metrics` and `/healthz` on their own plain-HTTP listener (keep it on loopback); the
 * gateway and the monitor each pass their own registry.
 */
export function startMetricsServer(
  metrics: { readonly registry: { readonly contentType: string; metrics(): Promise<string> } },
  host: string,
  port: number,
  health: () => { ok: boolean; [key: string]: unknown },
): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (req.url === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(h));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: 'dockward: /metrics and /healthz only' }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayMetrics } from './metrics.js';

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways may share a
 * process in tests). Labels never carry ids, addresses or names: their values are bounded.
 */
export class PromGatewayMetrics implements GatewayMetrics {
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

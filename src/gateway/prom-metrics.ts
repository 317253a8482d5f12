import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayMetrics } from './metrics.js';

/**
 * The gateway's Prometheus metrics, in a registry of its own (several gateways may share a
 * process in tests). Labels never carry ids, addresses or names: their values are bounded.
 */
export class PromGatewayMetrics implements GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'dockward_requests_total',
    help: 'Requests by endpoint, method, status code and decision.',
    labelNames: ['endpoint', 'method', 'code', 'decision'] as const,
    registers: [this.registry],
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
}

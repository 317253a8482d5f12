import type { Server } from 'node:http';

type Labels<L extends string> = Partial<Record<L, string | number>>;

/**
 * What the gateway counts. prom-client (about 10 MB of RSS) is loaded only when the metrics are
 * served (`--metrics`, prom-metrics.ts); otherwise the gateway counts into NO_METRICS, which
 * keeps nothing: no one could read it.
 */
export interface GatewayMetrics {
  readonly requests: { inc(labels: Labels<'endpoint' | 'method' | 'code' | 'decision'>): void };
  readonly duration: { observe(labels: Labels<'endpoint'>, seconds: number): void };
  readonly connections: { inc(): void; dec(): void };
  readonly handshakeFailures: { inc(labels: Labels<'reason'>): void };
  readonly denied: { inc(labels: Labels<'reason'>): void };
  readonly reloads: { inc(labels: Labels<'result'>): void };
  readonly feedClients: { set(value: number): void };
  readonly feedOverflows: { inc(): void };
  /** One request done: counted in `dockward_requests_total` (the cheap form of requests.inc). */
  countRequest(endpoint: string, method: string, code: number, decision: 'allow' | 'deny'): void;
}

const nothing = () => undefined;

/** The metrics of a gateway whose metrics nobody serves. */
export const NO_METRICS: GatewayMetrics = Object.freeze({
  requests: { inc: nothing },
  duration: { observe: nothing },
  connections: { inc: nothing, dec: nothing },
  handshakeFailures: { inc: nothing },
  denied: { inc: nothing },
  reloads: { inc: nothing },
  feedClients: { set: nothing },
  feedOverflows: { inc: nothing },
  countRequest: nothing,
});

/** The gateway's metrics: prom-client's when they are served, else NO_METRICS (nothing loaded). */
export async function gatewayMetrics(
  served: boolean,
): Promise<GatewayMetrics & { readonly registry?: MetricsRegistry }> {
  if (!served) return NO_METRICS;
  const { PromGatewayMetrics } = await import('./prom-metrics.js');
  return new PromGatewayMetrics();
}

/** What the metrics listener reads: prom-client's Registry and AggregatorRegistry both fit. */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
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
export async function startMetricsServer(
  metrics: { readonly registry: MetricsRegistry },
  host: string,
  port: number,
  health: () => { ok: boolean; [key: string]: unknown },
): Promise<Server> {
  // Loaded here: a gateway without --metrics needs no HTTP server.
  const { createServer } = await import('node:http');
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

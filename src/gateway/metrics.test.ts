import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayMetrics, NO_METRICS } from './metrics.js';

describe('gatewayMetrics', () => {
  it('counts into nothing (no registry, prom-client not needed) when the metrics are not served', async () => {
    const m = await gatewayMetrics(false);
    assert.equal(m, NO_METRICS);
    assert.equal(m.registry, undefined);
    m.requests.inc({ endpoint: 'ping', method: 'GET', code: 200, decision: 'allow' });
    m.connections.inc();
    m.duration.observe({ endpoint: 'ping' }, 0.001);
  });

  it('counts in a prom-client registry when they are served', async () => {
    const m = await gatewayMetrics(true);
    assert.ok(m.registry);
    m.requests.inc({ endpoint: 'ping', method: 'GET', code: 200, decision: 'allow' });
    m.requests.inc({ endpoint: 'ping', method: 'GET', code: 200, decision: 'allow' });
    m.connections.inc();
    m.duration.observe({ endpoint: 'ping' }, 0.002);
    const text = await m.registry.metrics();
    assert.match(
      text,
      /dockward_requests_total\{endpoint="ping",method="GET",code="200",decision="allow"\} 2/,
    );
    assert.match(text, /dockward_connections_active 1/);
    assert.match(text, /dockward_request_duration_seconds_bucket\{le="0.0025",endpoint="ping"\} 1/);
  });
});

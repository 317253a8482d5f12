import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayMetrics, NO_METRICS } from './metrics.js';
import { PromGatewayMetrics } from './prom-metrics.js';

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

function line(text: string, labels: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(`dockward_requests_total{${labels}}`));
}

describe('PromGatewayMetrics request counter (counted cheaply, shown exactly)', () => {
  it('shows every counted request at each read, and keeps counting after it', async () => {
    const m = new PromGatewayMetrics();
    m.countRequest('ping', 'GET', 200, 'allow');
    m.countRequest('ping', 'GET', 200, 'allow');
    m.countRequest('containers.create', 'POST', 403, 'deny');
    let text = await m.registry.metrics();
    assert.equal(
      line(text, 'endpoint="ping",method="GET",code="200",decision="allow"'),
      'dockward_requests_total{endpoint="ping",method="GET",code="200",decision="allow"} 2',
    );
    assert.equal(
      line(text, 'endpoint="containers.create",method="POST",code="403",decision="deny"'),
      'dockward_requests_total{endpoint="containers.create",method="POST",code="403",decision="deny"} 1',
    );
    // A second read without new requests changes nothing; new ones add to what was shown.
    text = await m.registry.metrics();
    assert.match(text, /decision="allow"\} 2\n/);
    m.countRequest('ping', 'GET', 200, 'allow');
    text = await m.registry.metrics();
    assert.match(text, /code="200",decision="allow"\} 3\n/);
    // The JSON form (what a worker sends the primary) is exact too.
    m.countRequest('ping', 'GET', 200, 'allow');
    const json = await m.registry.getMetricsAsJSON();
    const counter = json.find((x) => x.name === 'dockward_requests_total') as unknown as {
      values: { value: number; labels: Record<string, string> }[];
    };
    assert.equal(counter.values.find((v) => v.labels['code'] === '200')?.value, 4);
  });
});

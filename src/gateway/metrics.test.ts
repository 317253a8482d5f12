/**
 * The gateway's request counter: counted cheaply per request, shown exactly whenever read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayMetrics } from './metrics.js';

function line(text: string, labels: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(`dockward_requests_total{${labels}}`));
}

describe('GatewayMetrics request counter', () => {
  it('shows every counted request at each read, and keeps counting after it', async () => {
    const m = new GatewayMetrics();
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

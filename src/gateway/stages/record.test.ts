import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTE_TABLE } from '../../docker/endpoints/index.js';
import type { AuditSink, CompletionRecord, DecisionRecord } from '../audit-sink.js';
import { canonicalize } from '../canonical-request.js';
import type { RequestContext } from '../request-context.js';
import { recordCompletion, recordDecision } from './record.js';

/** An in-memory sink: the records the stage hands over, as the audit-log writer receives them. */
function memorySink() {
  const decisions: DecisionRecord[] = [];
  const completions: CompletionRecord[] = [];
  const sink: AuditSink = {
    decision: async (r) => {
      decisions.push(r);
    },
    completion: (r) => completions.push(r),
    connection: () => undefined,
    close: async () => undefined,
  };
  return { sink, decisions, completions };
}

function context(): RequestContext {
  const c = canonicalize('GET', '/v1.41/containers/json', ROUTE_TABLE);
  assert.ok(c.ok);
  return {
    requestId: 'r1',
    conn: {
      connId: 7,
      client: { address: '127.0.0.1', port: 5000 },
      identity: { cn: 'olivia', ou: ['operator'], serial: '0a', fingerprint: 'ff', sans: [] },
      socket: undefined as never, // the stage never touches the socket
      openedAt: 0,
      active: 1,
    },
    head: {
      method: 'GET',
      target: '/v1.41/containers/json',
      rawHeaders: ['USER-AGENT', 'Docker-Client/24'],
      upgrade: false,
    },
    startedAt: process.hrtime.bigint(),
    canonical: c.request,
    decision: { allow: true, role: 'operator', rule: 'operator/read', reason: 'reads are allowed' },
    bytesIn: 0,
    bytesOut: 12,
  };
}

describe('stage record', () => {
  it('records an allowed request with its canonical path, rule and user agent', async () => {
    const m = memorySink();
    await recordDecision(m.sink, context());
    assert.equal(m.decisions.length, 1);
    const r = m.decisions[0]!;
    assert.equal(r.decision, 'allow');
    assert.equal(r.canonicalPath, '/containers/json');
    assert.equal(r.apiVersion, '1.41');
    assert.equal(r.endpoint, 'container.list');
    assert.equal(r.rule, 'operator/read');
    assert.equal(r.userAgent, 'Docker-Client/24');
  });

  it('records a refusal as a deny with its reason, even after an allow', async () => {
    const m = memorySink();
    await recordDecision(m.sink, context(), { rule: 'DW_E_BAD_REQUEST', reason: 'bad body' });
    assert.equal(m.decisions[0]!.decision, 'deny');
    assert.equal(m.decisions[0]!.rule, 'DW_E_BAD_REQUEST');
    assert.equal(m.decisions[0]!.reason, 'bad body');
  });

  it('records the completion with status, bytes and the error', () => {
    const m = memorySink();
    const ctx = { ...context(), status: 200, hijacked: true, error: 'client closed the connection' };
    recordCompletion(m.sink, ctx);
    assert.equal(m.completions[0]!.status, 200);
    assert.equal(m.completions[0]!.bytesOut, 12);
    assert.equal(m.completions[0]!.hijacked, true);
    assert.equal(m.completions[0]!.error, 'client closed the connection');
  });
});

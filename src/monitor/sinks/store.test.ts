import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../../gateway/audit-log/test-support.js';
import { SqliteEventStore } from '../../events/sqlite.js';
import type { Alert } from '../model.js';
import { openSink, parseSinkSpec } from './index.js';

const base = tempDir('dw-store-sink-');
after(() => rmSync(base, { recursive: true, force: true }));

const alert = (uuid: string, rule: string): Alert => ({
  uuid,
  output: `${rule} fired`,
  priority: 'Critical',
  rule,
  time: new Date().toISOString(),
  output_fields: { 'user.identity': 'alice' },
  source: 'dockward-gateway',
  tags: ['gateway'],
  hostname: 'mon-1',
});

describe('the event-store alert sink', () => {
  it('stores each alert once by uuid, with its rule and a lower-case priority', async () => {
    const file = join(base, 'events.db');
    const sink = await openSink(parseSinkSpec(`store:sqlite:${file}`), { json: false, spoolDir: base });
    await sink.deliver(alert('u-1', 'Revoked certificate used'));
    await sink.deliver(alert('u-1', 'Revoked certificate used'));
    await sink.deliver(alert('u-2', 'Burst of policy denials'));
    await sink.close();
    const store = await SqliteEventStore.open(file);
    const rows = await store.queryAlerts({});
    await store.close();
    assert.deepEqual(rows.map((r) => r.uuid).sort(), ['u-1', 'u-2']);
    assert.equal(rows[0]?.priority, 'critical');
    assert.equal(rows.find((r) => r.uuid === 'u-1')?.fields?.['user.identity'], 'alice');
  });

  it('refuses a store sink without a store URL', () => {
    assert.throws(() => parseSinkSpec('store:mysql://x'), /not an event store URL/);
  });
});

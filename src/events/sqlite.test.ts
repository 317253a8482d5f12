import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sampleRecord, tempDir } from '../gateway/audit-log/test-support.js';
import { AuditLogWriter } from '../gateway/audit-log/writer.js';
import type { ShippedRecord } from './model.js';
import { openEventStore } from './open.js';
import { AuditShipper } from './shipper.js';
import { SqliteEventStore } from './sqlite.js';
import { verifyStoredChain } from './verify-chain.js';

const base = tempDir('dw-events-');
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(base, `case-${++n}`);

async function writeLog(path: string, count: number, from = 0): Promise<void> {
  const log = await AuditLogWriter.open(path);
  for (let i = from; i < from + count; i++) log.append(sampleRecord(i));
  await log.close();
}

describe('SQLite event store and shipper', () => {
  it('ships a log once, even when the shipper is started twice, and the stored chain verifies', async () => {
    const dir = fresh();
    const log = join(dir, 'gateway.log');
    await writeLog(log, 40);
    const store = await SqliteEventStore.open(join(dir, 'events.db'));
    for (let round = 0; round < 2; round++) {
      const shipper = new AuditShipper({ store, logPath: log, source: 'gw-a', host: 'h1', pollMs: 20 });
      shipper.start();
      await shipper.drain();
      await shipper.stop();
      assert.equal(shipper.shipped, round === 0 ? 40 : 0);
    }
    assert.equal(await store.lastSeq('gw-a'), 40);
    const chain = await verifyStoredChain(store, 'gw-a');
    assert.equal(chain.ok, true);
    assert.equal(chain.records, 40);
    assert.equal(chain.matchesHead, true);
    await store.close();
  });

  it('filters by identity, decision and time, pages with a cursor and joins the response', async () => {
    const dir = fresh();
    const log = join(dir, 'gateway.log');
    await writeLog(log, 100);
    const store = await SqliteEventStore.open(join(dir, 'events.db'));
    const shipper = new AuditShipper({ store, logPath: log, source: 'gw-a', host: 'h1', pollMs: 20 });
    shipper.start();
    await shipper.drain();
    await shipper.stop();
    const denies = await store.queryAudit({ identity: 'alice', decision: 'deny', limit: 1000 });
    assert.ok(denies.records.length > 0);
    for (const r of denies.records) {
      assert.equal(r.record.type, 'request');
      if (r.record.type === 'request') assert.equal(r.record.decision, 'deny');
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.queryAudit({ identity: 'alice', limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.records.map((r) => r.record.seq));
      cursor = page.next;
    } while (cursor);
    const all = await store.queryAudit({ identity: 'alice', limit: 1000 });
    assert.deepEqual(
      seen,
      all.records.map((r) => r.record.seq),
    );
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
    const withResponse = all.records.find((r) => r.response !== undefined);
    assert.equal(withResponse?.response?.type, 'response');
    const none = await store.queryAudit({
      identity: 'alice',
      since: new Date(Date.now() + 60_000).toISOString(),
    });
    assert.equal(none.records.length, 0);
    await store.close();
  });

  it('names an edited stored record when verifying the chain', async () => {
    const dir = fresh();
    const log = join(dir, 'gateway.log');
    await writeLog(log, 10);
    // Edit line 5 of a copy as if it had been altered before shipping.
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[4] = lines[4]!.replace('"alice"', '"mallory"');
    writeFileSync(log, lines.join('\n'));
    const store = await openEventStore(`sqlite:${join(dir, 'events.db')}`);
    const shipper = new AuditShipper({ store, logPath: log, source: 'gw-a', host: 'h1', pollMs: 20 });
    shipper.start();
    await shipper.drain();
    await shipper.stop();
    const chain = await verifyStoredChain(store, 'gw-a');
    assert.equal(chain.ok, false);
    assert.equal(chain.problem?.seq, 5);
    await store.close();
  });

  it('keeps the newest host status of each host, of every check or of `hosts status` runs only', async () => {
    const store = await SqliteEventStore.open(':memory:');
    const row = (time: string, host: string, checkedBy: 'hosts status' | 'console', reachable: boolean) => ({
      time,
      host,
      endpoint: `tcp://${host}:2376`,
      reachable,
      checkedBy,
    });
    await store.appendHostStatus([
      row('2026-01-01T00:00:00.000Z', 'a', 'hosts status', true),
      row('2026-01-01T00:00:00.000Z', 'b', 'hosts status', false),
    ]);
    await store.appendHostStatus([row('2026-01-02T00:00:00.000Z', 'a', 'console', false)]);
    const all = await store.latestHostStatus();
    assert.deepEqual(
      all.map((r) => [r.host, r.checkedBy, r.reachable]),
      [
        ['a', 'console', false],
        ['b', 'hosts status', false],
      ],
    );
    const runs = await store.latestHostStatus('hosts status');
    assert.deepEqual(
      runs.map((r) => [r.host, r.time, r.reachable]),
      [
        ['a', '2026-01-01T00:00:00.000Z', true],
        ['b', '2026-01-01T00:00:00.000Z', false],
      ],
    );
    await store.close();
  });

  it('prunes audit records, alerts and host status older than the retention window', async () => {
    const store = await SqliteEventStore.open(':memory:', { retentionDays: 90 });
    const old = new Date(Date.now() - 91 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 89 * 86_400_000).toISOString();
    await store.appendAlerts([
      { uuid: 'old', time: old, rule: 'r', priority: 'high', output: 'o', host: 'h' },
    ]);
    await store.appendHostStatus([{ time: old, host: 'h', endpoint: 'tcp://h:2376', reachable: true }]);
    const records = [old, recent].map((time, i) => ({
      source: 'gw-a',
      host: 'h1',
      record: { ...sampleRecord(0), seq: i + 1, time, prev: '0'.repeat(64), hash: String(i).repeat(64) },
    })) as unknown as ShippedRecord[];
    // The first append prunes (nothing pruned yet this minute), after inserting.
    assert.equal(await store.appendAudit(records), 2);
    assert.deepEqual(
      (await store.scanSource('gw-a', 0, 10)).map((r) => r.seq),
      [2],
    );
    assert.deepEqual(
      (await store.sources()).map((s) => [s.source, s.records]),
      [['gw-a', 1]],
    );
    assert.equal((await store.queryAlerts({})).length, 0);
    assert.equal((await store.latestHostStatus()).length, 0);
    await store.close();
  });

  it('refuses a store URL it does not know', async () => {
    await assert.rejects(openEventStore('mysql://x'), /not an event store URL/);
  });
});

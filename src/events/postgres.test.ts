// The PostgreSQL store against a real, private PostgreSQL (Debian's postgresql, initdb in a temp
// folder, a port on 127.0.0.1): migrations, exactly-once appends, filters, chain verification.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PrivatePostgres, startPostgres } from '../../test/e2e/support/postgres.js';
import { sampleRecord, tempDir } from '../gateway/audit-log/test-support.js';
import { AuditLogWriter } from '../gateway/audit-log/writer.js';
import pgClient from 'pg';
import type { ShippedRecord } from './model.js';
import { PostgresEventStore } from './postgres.js';
import { AuditShipper } from './shipper.js';
import { verifyStoredChain } from './verify-chain.js';

const base = tempDir('dw-events-pg-');
let pg: PrivatePostgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.cleanup();
  rmSync(base, { recursive: true, force: true });
});

describe('PostgreSQL event store', () => {
  it('migrates once, stores each record once by (source, seq) and verifies the chain from the store', async () => {
    const log = join(base, 'gateway.log');
    const writer = await AuditLogWriter.open(log);
    for (let i = 0; i < 60; i++) writer.append(sampleRecord(i));
    await writer.close();
    // Two opens: the second finds the migrations applied.
    const first = await PostgresEventStore.open(pg.url);
    await first.close();
    const store = await PostgresEventStore.open(pg.url);
    for (let round = 0; round < 2; round++) {
      const shipper = new AuditShipper({ store, logPath: log, source: 'gw-a', host: 'h1', pollMs: 20 });
      shipper.start();
      await shipper.drain();
      await shipper.stop();
      assert.equal(shipper.shipped, round === 0 ? 60 : 0);
    }
    // Appending the same records again directly is a no-op too.
    const again = await store.scanSource('gw-a', 0, 10);
    assert.equal(await store.appendAudit(again.map((record) => ({ source: 'gw-a', host: 'h1', record }))), 0);
    assert.deepEqual(
      (await store.sources()).map((s) => [s.source, s.host, s.records]),
      [['gw-a', 'h1', 60]],
    );
    const chain = await verifyStoredChain(store, 'gw-a');
    assert.equal(chain.ok, true);
    assert.equal(chain.records, 60);
    assert.equal(chain.matchesHead, true);
    const denies = await store.queryAudit({ identity: 'alice', decision: 'deny', limit: 1000 });
    assert.ok(denies.records.length > 0);
    for (const r of denies.records) assert.equal(r.record.type === 'request' && r.record.decision, 'deny');
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.queryAudit({
        identity: 'alice',
        limit: 4,
        order: 'desc',
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.records.map((r) => r.record.seq));
      cursor = page.next;
    } while (cursor);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => b - a),
    );
    assert.equal(seen.length, (await store.queryAudit({ identity: 'alice', limit: 1000 })).records.length);
    await store.close();
  });

  it('adds the chain-head certificate column to a database an older dockward migrated, keeping its head', async () => {
    const store = await PostgresEventStore.open(pg.url);
    await store.putChainHead({
      source: 'old-gw',
      seq: 3,
      hash: 'ab'.repeat(32),
      time: '2026-01-01T00:00:00.000Z',
    });
    await store.close();
    // Back to the layout of migration 2: no certificate column, version 3 not applied.
    const raw = new pgClient.Client({ connectionString: pg.url });
    await raw.connect();
    await raw.query(
      'ALTER TABLE chain_heads DROP COLUMN certificate; DELETE FROM schema_migrations WHERE version = 3',
    );
    await raw.end();
    const again = await PostgresEventStore.open(pg.url);
    await again.putChainHead({
      source: 'new-gw',
      seq: 1,
      hash: 'cd'.repeat(32),
      time: '2026-01-01T00:00:00.000Z',
      signature: 'c2ln',
      certificate: '-----BEGIN CERTIFICATE-----',
    });
    const heads = (await again.chainHeads()).filter((h) => h.source.endsWith('-gw'));
    assert.deepEqual(
      heads.map((h) => [h.source, h.seq, h.signature ?? null, h.certificate ?? null]),
      [
        ['new-gw', 1, 'c2ln', '-----BEGIN CERTIFICATE-----'],
        ['old-gw', 3, null, null],
      ],
    );
    // A signed head is not replaced by an unsigned one for the same seq.
    await again.putChainHead({
      source: 'new-gw',
      seq: 1,
      hash: 'cd'.repeat(32),
      time: '2026-01-01T00:00:00.000Z',
    });
    assert.equal((await again.chainHeads()).find((h) => h.source === 'new-gw')?.signature, 'c2ln');
    await again.close();
  });

  it('prunes audit records, alerts and host status older than 90 days, as SQLite does', async () => {
    const store = await PostgresEventStore.open(pg.url);
    const old = new Date(Date.now() - 91 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 89 * 86_400_000).toISOString();
    await store.appendAlerts([
      { uuid: 'old-alert', time: old, rule: 'r', priority: 'high', output: 'o', host: 'h' },
    ]);
    await store.appendHostStatus([
      {
        time: old,
        host: 'pruned-host',
        endpoint: 'tcp://h:2376',
        reachable: true,
        checkedBy: 'hosts status',
      },
    ]);
    const records = [old, recent].map((time, i) => ({
      source: 'gw-retention',
      host: 'h1',
      record: { ...sampleRecord(0), seq: i + 1, time, prev: '0'.repeat(64), hash: String(i).repeat(64) },
    })) as unknown as ShippedRecord[];
    assert.equal(await store.appendAudit(records), 2);
    assert.deepEqual(
      (await store.scanSource('gw-retention', 0, 10)).map((r) => r.seq),
      [2],
    );
    assert.deepEqual(
      (await store.sources()).filter((s) => s.source === 'gw-retention').map((s) => s.records),
      [1],
    );
    assert.equal((await store.queryAlerts({ rule: 'r' })).length, 0);
    assert.equal((await store.latestHostStatus()).filter((r) => r.host === 'pruned-host').length, 0);
    await store.close();
    // retentionDays: 0 keeps everything.
    const keep = await PostgresEventStore.open(pg.url, { retentionDays: 0 });
    await keep.appendAudit([{ ...records[0]!, source: 'gw-keep' }]);
    assert.equal((await keep.scanSource('gw-keep', 0, 10)).length, 1);
    await keep.close();
  });

  it("returns the newest `hosts status` row of each host apart from the console's probes", async () => {
    const store = await PostgresEventStore.open(pg.url);
    const t = (d: number) => new Date(Date.now() - d * 60_000).toISOString();
    await store.appendHostStatus([
      {
        time: t(10),
        host: 'fleet-a',
        endpoint: 'tcp://a:2376',
        reachable: true,
        checkedBy: 'hosts status',
        engineVersion: '28.0.1',
      },
    ]);
    await store.appendHostStatus([
      { time: t(5), host: 'fleet-a', endpoint: 'tcp://a:2376', reachable: false, checkedBy: 'console' },
    ]);
    const all = (await store.latestHostStatus()).filter((r) => r.host === 'fleet-a');
    assert.deepEqual(
      all.map((r) => [r.checkedBy, r.reachable]),
      [['console', false]],
    );
    const runs = (await store.latestHostStatus('hosts status')).filter((r) => r.host === 'fleet-a');
    assert.deepEqual(
      runs.map((r) => [r.checkedBy, r.reachable, r.engineVersion]),
      [['hosts status', true, '28.0.1']],
    );
    await store.close();
  });
});

// The PostgreSQL store against a real, private PostgreSQL (Debian's postgresql, initdb in a temp
// folder, a port on 127.0.0.1): migrations, exactly-once appends, filters, chain verification.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type PrivatePostgres, startPostgres } from '../../test/e2e/support/postgres.js';
import { sampleRecord, tempDir } from '../gateway/audit-log/test-support.js';
import { AuditLogWriter } from '../gateway/audit-log/writer.js';
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
});

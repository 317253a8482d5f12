import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sampleRecord, tempDir } from '../gateway/audit-log/test-support.js';
import { AuditLogWriter } from '../gateway/audit-log/writer.js';
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

  it('refuses a store URL it does not know', async () => {
    await assert.rejects(openEventStore('mysql://x'), /not an event store URL/);
  });
});

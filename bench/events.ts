// Event store figures: 1,000,000 audit records in SQLite and in PostgreSQL (a private cluster,
// started here like the e2e suites do), ingest rate, and the console's filtered audit page
// (one identity, last 24 h, newest first, 50 rows) median latency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EventStore, ShippedRecord } from '../src/events/model.js';
import { PostgresEventStore } from '../src/events/postgres.js';
import { SqliteEventStore } from '../src/events/sqlite.js';
import { sealRecord } from '../src/gateway/audit-log/chain.js';
import { type AuditRecord, ZERO_HASH } from '../src/gateway/audit-log/record.js';
import { postgresBin, startPostgres } from '../test/e2e/support/postgres.js';
import type { BenchFigure } from './pki.js';
import { summarize } from './stats.js';

const TOTAL = 1_000_000;
const BATCH = 5000;
const IDENTITIES = 100;
const SPAN_MS = 30 * 86_400_000;
const QUERIES = 25;

/** The i-th record of a gateway log spread evenly over the last 30 days, 100 identities in turn. */
function* records(source: string): Generator<ShippedRecord[]> {
  const start = Date.now() - SPAN_MS;
  let prev = ZERO_HASH;
  for (let from = 0; from < TOTAL; from += BATCH) {
    const batch: ShippedRecord[] = [];
    for (let i = from; i < Math.min(TOTAL, from + BATCH); i++) {
      const seq = i + 1;
      const time = new Date(start + Math.floor((i * SPAN_MS) / TOTAL)).toISOString();
      const body =
        i % 2 === 0
          ? {
              type: 'request',
              requestId: `r${i >> 1}`,
              connId: `c${i >> 4}`,
              client: { address: '127.0.0.1', port: 40000 + (i % 20000) },
              identity: { cn: `user-${(i >> 1) % IDENTITIES}`, ou: ['operator'], serial: '5f3a9c0e12' },
              method: 'GET',
              rawPath: '/v1.41/containers/json',
              canonicalPath: '/containers/json',
              apiVersion: '1.41',
              endpoint: 'container.list',
              decision: i % 10 === 0 ? 'deny' : 'allow',
            }
          : {
              type: 'response',
              requestId: `r${i >> 1}`,
              connId: `c${i >> 4}`,
              status: 200,
              bytesIn: 0,
              bytesOut: 512,
              durationMs: 1.5,
            };
      const sealed = sealRecord(body, { v: 1, seq, time, prev });
      batch.push({
        source,
        host: 'bench',
        record: Object.assign({}, body, { v: 1, seq, time, prev, hash: sealed.hash }) as AuditRecord,
      });
      prev = sealed.hash;
    }
    yield batch;
  }
}

async function fill(store: EventStore, name: string): Promise<BenchFigure> {
  const rates: number[] = [];
  for (const batch of records('bench:gateway.log')) {
    const t0 = process.hrtime.bigint();
    await store.appendAudit(batch);
    rates.push(batch.length / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return {
    id: `events.${name}.ingest`,
    label: `event store ${name}: ingest of 1,000,000 audit records (batches of ${BATCH})`,
    unit: 'records/s',
    summary: summarize(rates),
    ...(name === 'sqlite' ? { target: { op: '>=' as const, value: 20_000 } } : {}),
  };
}

async function auditPage(store: EventStore, name: string): Promise<BenchFigure> {
  const since = new Date(Date.now() - 86_400_000).toISOString();
  const times: number[] = [];
  for (let q = 0; q < QUERIES + 3; q++) {
    const identity = `user-${(q * 37) % IDENTITIES}`;
    const t0 = process.hrtime.bigint();
    const page = await store.queryAudit({ identity, since, order: 'desc', limit: 50 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (page.records.length === 0) throw new Error(`bench: the ${name} audit page found no records`);
    if (q >= 3) times.push(ms);
  }
  return {
    id: `events.${name}.audit-page`,
    label: `event store ${name}: audit page, identity + last 24 h, 1,000,000 records`,
    unit: 'ms',
    summary: summarize(times),
    target: { op: '<', value: 200 },
  };
}

export async function benchEvents(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-events-'));
  try {
    const sqlite = await SqliteEventStore.open(join(dir, 'events.db'), { retentionDays: 0 });
    figures.push(await fill(sqlite, 'sqlite'));
    figures.push(await auditPage(sqlite, 'sqlite'));
    await sqlite.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!postgresBin()) {
    console.error("bench: PostgreSQL figures skipped: Debian's postgresql is not installed");
    return figures;
  }
  const pgServer = await startPostgres();
  try {
    const store = await PostgresEventStore.open(pgServer.url);
    figures.push(await fill(store, 'postgres'));
    // ANALYZE after the bulk load, as autovacuum would shortly after.
    const client = new pg.Client({ connectionString: pgServer.url });
    await client.connect();
    await client.query('ANALYZE audit');
    await client.end();
    figures.push(await auditPage(store, 'postgres'));
    await store.close();
  } finally {
    await pgServer.cleanup();
  }
  return figures;
}

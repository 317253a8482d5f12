/**
 * The event store for teams and many gateways: PostgreSQL through a `pg` connection pool, with
 * numbered migrations applied at open (in a transaction, under an advisory lock so two gateways
 * starting together do not race). Same tables and filters as the SQLite store.
 */
import pg from 'pg';
import { DockwardError, describeError } from '../errors.js';
import type { AuditRecord } from '../gateway/audit-log/record.js';
import {
  type AlertEvent,
  type AlertQuery,
  type AuditPage,
  type AuditQuery,
  type ChainHead,
  columnsOf,
  decodeCursor,
  encodeCursor,
  type EventStore,
  type HostCheckKind,
  type HostStatusEvent,
  pageSize,
  type ShippedRecord,
  type StoredRecord,
} from './model.js';

/** Applied in order; each runs once (`schema_migrations` remembers which). Never edit one: add one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE audit (
     id BIGSERIAL PRIMARY KEY,
     source TEXT NOT NULL,
     host TEXT NOT NULL,
     seq BIGINT NOT NULL,
     time_ms BIGINT NOT NULL,
     type TEXT NOT NULL,
     identity TEXT,
     request_id TEXT,
     endpoint TEXT,
     decision TEXT,
     -- text, not jsonb: the record is kept byte for byte so its hash still verifies
     record TEXT NOT NULL,
     UNIQUE (source, seq)
   );
   CREATE INDEX audit_identity_time ON audit (identity, time_ms, id) WHERE type <> 'response';
   CREATE INDEX audit_time ON audit (time_ms, id) WHERE type <> 'response';
   CREATE INDEX audit_response ON audit (source, request_id) WHERE type = 'response';
   CREATE INDEX audit_request ON audit (source, request_id) WHERE type = 'request';
   CREATE TABLE chain_heads (source TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL,
     time TEXT NOT NULL, signature TEXT);
   CREATE TABLE alerts (uuid TEXT PRIMARY KEY, time_ms BIGINT NOT NULL, rule TEXT NOT NULL,
     priority TEXT NOT NULL, output TEXT NOT NULL, host TEXT NOT NULL, fields TEXT);
   CREATE INDEX alerts_time ON alerts (time_ms);
   CREATE TABLE host_status (id BIGSERIAL PRIMARY KEY, time_ms BIGINT NOT NULL, host TEXT NOT NULL,
     row TEXT NOT NULL);
   CREATE INDEX host_status_host ON host_status (host, time_ms);`,
  // One row per gateway log, kept in step by appendAudit: the console lists logs without a scan.
  `CREATE TABLE sources (source TEXT PRIMARY KEY, host TEXT NOT NULL, records BIGINT NOT NULL,
     last_ms BIGINT NOT NULL);
   INSERT INTO sources SELECT source, MAX(host), COUNT(*), MAX(time_ms) FROM audit GROUP BY source;`,
  // The signer's certificate beside each chain head's signature.
  'ALTER TABLE chain_heads ADD COLUMN IF NOT EXISTS certificate TEXT;',
];

/** Any number: the advisory lock that serializes migrations between processes. */
const MIGRATION_LOCK = 0x64770001;

interface AuditRow {
  id: string;
  source: string;
  host: string;
  time_ms: string;
  record: string;
  response: string | null;
}

export interface PostgresStoreOptions {
  /** Pool size (default 4). */
  max?: number;
  /** Rows older than this many days are pruned (default 90; 0 keeps everything), as in SQLite. */
  retentionDays?: number;
}

const DAY_MS = 86_400_000;
/** Prune at most once a minute: a DELETE per batch would cost more than the inserts. */
const PRUNE_EVERY_MS = 60_000;

export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private readonly retentionMs: number;
  private lastPrune = 0;

  private constructor(pool: pg.Pool, options: PostgresStoreOptions) {
    this.pool = pool;
    this.retentionMs = (options.retentionDays ?? 90) * DAY_MS;
  }

  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresEventStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 4, connectionTimeoutMillis: 5000 });
    // An idle client whose server went away emits here; without a listener it would crash the process.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new DockwardError(
        'DW_E_UPSTREAM',
        `cannot open the PostgreSQL event store: ${describeError(err)}`,
        {
          hint: 'Check that PostgreSQL runs and the URL (postgres://USER@HOST:PORT/DB) names a database this user may create tables in.',
        },
      );
    }
    return new PostgresEventStore(pool, options);
  }

  async appendAudit(records: readonly ShippedRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const cols: [
      string[],
      string[],
      number[],
      number[],
      string[],
      (string | null)[],
      (string | null)[],
      (string | null)[],
      (string | null)[],
      string[],
    ] = [[], [], [], [], [], [], [], [], [], []];
    for (const r of records) {
      const c = columnsOf(r.record);
      cols[0].push(r.source);
      cols[1].push(r.host);
      cols[2].push(c.seq);
      cols[3].push(c.timeMs);
      cols[4].push(c.type);
      cols[5].push(c.identity);
      cols[6].push(c.requestId);
      cols[7].push(c.endpoint);
      cols[8].push(c.decision);
      cols[9].push(JSON.stringify(r.record));
    }
    // One statement for the whole batch: unnest keeps it a single round trip.
    // The rows and the per-log counters in one statement (so in one transaction).
    const res = await this.pool.query<{ added: string }>(
      `WITH ins AS (
         INSERT INTO audit (source, host, seq, time_ms, type, identity, request_id, endpoint, decision, record)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
           $7::text[], $8::text[], $9::text[], $10::text[])
         ON CONFLICT (source, seq) DO NOTHING
         RETURNING source, host, time_ms),
       agg AS (SELECT source, MAX(host) AS host, COUNT(*) AS n, MAX(time_ms) AS last FROM ins GROUP BY source),
       up AS (
         INSERT INTO sources (source, host, records, last_ms) SELECT source, host, n, last FROM agg
         ON CONFLICT (source) DO UPDATE SET records = sources.records + excluded.records,
           last_ms = GREATEST(sources.last_ms, excluded.last_ms), host = excluded.host)
       SELECT COALESCE(SUM(n), 0) AS added FROM agg`,
      cols,
    );
    await this.pruneIfDue();
    return Number(res.rows[0]?.added ?? 0);
  }

  /** The retention window, as in the SQLite store: audit, alerts and host status older than it go. */
  private async pruneIfDue(): Promise<void> {
    const now = Date.now();
    if (this.retentionMs <= 0 || now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const cut = now - this.retentionMs;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Appends (which bump the counters) and other gateways' prunes wait: the recount stays exact.
      await client.query('LOCK TABLE sources IN EXCLUSIVE MODE');
      const pruned = await client.query('DELETE FROM audit WHERE time_ms < $1', [cut]);
      if ((pruned.rowCount ?? 0) > 0) {
        await client.query('DELETE FROM sources');
        await client.query(
          'INSERT INTO sources SELECT source, MAX(host), COUNT(*), MAX(time_ms) FROM audit GROUP BY source',
        );
      }
      await client.query('DELETE FROM alerts WHERE time_ms < $1', [cut]);
      await client.query('DELETE FROM host_status WHERE time_ms < $1', [cut]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async lastSeq(source: string): Promise<number> {
    const res = await this.pool.query<{ seq: string | null }>(
      'SELECT MAX(seq) AS seq FROM audit WHERE source = $1',
      [source],
    );
    return Number(res.rows[0]?.seq ?? 0);
  }

  /** A newer head replaces the stored one; at the same seq only a signed one does (no downgrade). */
  async putChainHead(head: ChainHead): Promise<void> {
    await this.pool.query(
      `INSERT INTO chain_heads (source, seq, hash, time, signature, certificate) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (source) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time,
       signature = excluded.signature, certificate = excluded.certificate WHERE excluded.seq > chain_heads.seq
         OR (excluded.seq = chain_heads.seq AND excluded.signature IS NOT NULL)`,
      [head.source, head.seq, head.hash, head.time, head.signature ?? null, head.certificate ?? null],
    );
  }

  async chainHeads(): Promise<ChainHead[]> {
    const res = await this.pool.query<{
      source: string;
      seq: string;
      hash: string;
      time: string;
      signature: string | null;
      certificate: string | null;
    }>('SELECT * FROM chain_heads ORDER BY source');
    return res.rows.map((r) => ({
      source: r.source,
      seq: Number(r.seq),
      hash: r.hash,
      time: r.time,
      ...(r.signature ? { signature: r.signature } : {}),
      ...(r.certificate ? { certificate: r.certificate } : {}),
    }));
  }

  async queryAudit(q: AuditQuery): Promise<AuditPage> {
    const where: string[] = ["a.type <> 'response'"];
    const args: (string | number)[] = [];
    const add = (sql: (n: number) => string, value: string | number) => {
      args.push(value);
      where.push(sql(args.length));
    };
    if (q.identity !== undefined) add((n) => `a.identity = $${n}`, q.identity);
    if (q.host !== undefined) add((n) => `a.host = $${n}`, q.host);
    if (q.source !== undefined) add((n) => `a.source = $${n}`, q.source);
    if (q.endpoint !== undefined) add((n) => `a.endpoint = $${n}`, q.endpoint);
    if (q.decision !== undefined) add((n) => `a.decision = $${n}`, q.decision);
    if (q.type !== undefined) add((n) => `a.type = $${n}`, q.type);
    if (q.since !== undefined) add((n) => `a.time_ms >= $${n}`, Date.parse(q.since));
    if (q.until !== undefined) add((n) => `a.time_ms < $${n}`, Date.parse(q.until));
    const desc = q.order === 'desc';
    const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
    if (after) {
      args.push(after.timeMs, after.id);
      where.push(`(a.time_ms, a.id) ${desc ? '<' : '>'} ($${args.length - 1}, $${args.length})`);
    }
    const limit = pageSize(q.limit);
    args.push(limit + 1);
    const dir = desc ? 'DESC' : 'ASC';
    const res = await this.pool.query<AuditRow>(
      `SELECT a.id, a.source, a.host, a.time_ms, a.record,
         (SELECT r.record FROM audit r WHERE r.type = 'response' AND r.source = a.source
            AND r.request_id = a.request_id LIMIT 1) AS response
       FROM audit a WHERE ${where.join(' AND ')}
       ORDER BY a.time_ms ${dir}, a.id ${dir} LIMIT $${args.length}`,
      args,
    );
    const page = res.rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      records: page.map(toStored),
      ...(res.rows.length > limit && last
        ? { next: encodeCursor(Number(last.time_ms), Number(last.id)) }
        : {}),
    };
  }

  async getRequest(source: string, requestId: string): Promise<StoredRecord | undefined> {
    const res = await this.pool.query<AuditRow>(
      `SELECT a.id, a.source, a.host, a.time_ms, a.record,
         (SELECT r.record FROM audit r WHERE r.type = 'response' AND r.source = a.source
            AND r.request_id = a.request_id LIMIT 1) AS response
       FROM audit a WHERE a.type = 'request' AND a.source = $1 AND a.request_id = $2`,
      [source, requestId],
    );
    const row = res.rows[0];
    return row ? toStored(row) : undefined;
  }

  async sources(): Promise<{ source: string; host: string; records: number; lastTime: string | null }[]> {
    const res = await this.pool.query<{ source: string; host: string; n: string; last: string | null }>(
      'SELECT source, host, records AS n, last_ms AS last FROM sources ORDER BY source',
    );
    return res.rows.map((r) => ({
      source: r.source,
      host: r.host,
      records: Number(r.n),
      lastTime: r.last === null ? null : new Date(Number(r.last)).toISOString(),
    }));
  }

  async scanSource(source: string, afterSeq: number, batch: number): Promise<AuditRecord[]> {
    const res = await this.pool.query<{ record: string }>(
      'SELECT record FROM audit WHERE source = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [source, afterSeq, batch],
    );
    return res.rows.map((r) => JSON.parse(r.record) as AuditRecord);
  }

  async appendAlerts(alerts: readonly AlertEvent[]): Promise<number> {
    let n = 0;
    for (const a of alerts) {
      const res = await this.pool.query(
        `INSERT INTO alerts (uuid, time_ms, rule, priority, output, host, fields) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (uuid) DO NOTHING`,
        [
          a.uuid,
          Date.parse(a.time),
          a.rule,
          a.priority,
          a.output,
          a.host,
          a.fields ? JSON.stringify(a.fields) : null,
        ],
      );
      n += res.rowCount ?? 0;
    }
    return n;
  }

  async queryAlerts(q: AlertQuery): Promise<AlertEvent[]> {
    const where: string[] = ['TRUE'];
    const args: (string | number)[] = [];
    const add = (sql: (n: number) => string, value: string | number) => {
      args.push(value);
      where.push(sql(args.length));
    };
    if (q.rule !== undefined) add((n) => `rule = $${n}`, q.rule);
    if (q.priority !== undefined) add((n) => `priority = $${n}`, q.priority);
    if (q.since !== undefined) add((n) => `time_ms >= $${n}`, Date.parse(q.since));
    if (q.until !== undefined) add((n) => `time_ms < $${n}`, Date.parse(q.until));
    args.push(pageSize(q.limit ?? 1000));
    const res = await this.pool.query<{
      uuid: string;
      time_ms: string;
      rule: string;
      priority: string;
      output: string;
      host: string;
      fields: string | null;
    }>(`SELECT * FROM alerts WHERE ${where.join(' AND ')} ORDER BY time_ms DESC LIMIT $${args.length}`, args);
    return res.rows.map((r) => ({
      uuid: r.uuid,
      time: new Date(Number(r.time_ms)).toISOString(),
      rule: r.rule,
      priority: r.priority,
      output: r.output,
      host: r.host,
      ...(r.fields ? { fields: JSON.parse(r.fields) as Record<string, unknown> } : {}),
    }));
  }

  async appendHostStatus(rows: readonly HostStatusEvent[]): Promise<void> {
    for (const r of rows) {
      await this.pool.query('INSERT INTO host_status (time_ms, host, row) VALUES ($1, $2, $3)', [
        Date.parse(r.time),
        r.host,
        JSON.stringify(r),
      ]);
    }
  }

  async latestHostStatus(checkedBy?: HostCheckKind): Promise<HostStatusEvent[]> {
    const res = await this.pool.query<{ row: string }>(
      `SELECT DISTINCT ON (host) row FROM host_status
       WHERE $1::text IS NULL OR row::jsonb->>'checkedBy' = $1 ORDER BY host, time_ms DESC, id DESC`,
      [checkedBy ?? null],
    );
    return res.rows.map((r) => JSON.parse(r.row) as HostStatusEvent);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(done.rows.map((r) => r.version));
    for (let i = 0; i < MIGRATIONS.length; i++) {
      if (applied.has(i + 1)) continue;
      await client.query(MIGRATIONS[i]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

function toStored(row: AuditRow): StoredRecord {
  return {
    id: Number(row.id),
    source: row.source,
    host: row.host,
    record: JSON.parse(row.record) as AuditRecord,
    ...(row.response ? { response: JSON.parse(row.response) as AuditRecord } : {}),
  };
}

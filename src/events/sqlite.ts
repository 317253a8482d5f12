/**
 * The embedded event store: one SQLite file through better-sqlite3 (synchronous, one connection
 * per process, so one writer), in WAL mode so the console reads while a shipper writes, with
 * indexes for "identity + time" and "time" and a retention window that prunes old rows.
 */
import Database from 'better-sqlite3';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
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

export interface SqliteStoreOptions {
  /** Rows older than this many days are pruned (default 90; 0 keeps everything). */
  retentionDays?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  host TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  identity TEXT,
  request_id TEXT,
  endpoint TEXT,
  decision TEXT,
  record TEXT NOT NULL,
  UNIQUE (source, seq)
);
CREATE INDEX IF NOT EXISTS audit_identity_time ON audit (identity, time_ms, id) WHERE type <> 'response';
CREATE INDEX IF NOT EXISTS audit_time ON audit (time_ms, id) WHERE type <> 'response';
CREATE INDEX IF NOT EXISTS audit_response ON audit (source, request_id) WHERE type = 'response';
CREATE INDEX IF NOT EXISTS audit_request ON audit (source, request_id) WHERE type = 'request';
-- One row per gateway log, kept in step by appendAudit: the console lists logs without a scan.
CREATE TABLE IF NOT EXISTS sources (
  source TEXT PRIMARY KEY, host TEXT NOT NULL, records INTEGER NOT NULL, last_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_heads (
  source TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL, time TEXT NOT NULL, signature TEXT
);
CREATE TABLE IF NOT EXISTS alerts (
  uuid TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, rule TEXT NOT NULL, priority TEXT NOT NULL,
  output TEXT NOT NULL, host TEXT NOT NULL, fields TEXT
);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time_ms);
CREATE TABLE IF NOT EXISTS host_status (
  id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, host TEXT NOT NULL, row TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS host_status_host ON host_status (host, time_ms);
`;

/** Steps from one `user_version` to the next, for files an older dockward created. */
const UPGRADES: readonly ((db: Database.Database) => void)[] = [
  // 1 -> 2: the signer's certificate beside each chain head's signature.
  (db) => {
    const cols = db.prepare('PRAGMA table_info(chain_heads)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'certificate'))
      db.exec('ALTER TABLE chain_heads ADD COLUMN certificate TEXT');
  },
];

/** Creates the tables, then upgrades a file from its `user_version` (0 when new) to the newest. */
function migrate(db: Database.Database): void {
  db.exec(SCHEMA);
  // IMMEDIATE: a gateway and the console opening one file together must not both add a column.
  db.transaction(() => {
    const version = Math.max(1, Number(db.pragma('user_version', { simple: true })));
    for (let v = version; v <= UPGRADES.length; v++) UPGRADES[v - 1]!(db);
    db.pragma(`user_version = ${UPGRADES.length + 1}`);
  }).immediate();
}

const DAY_MS = 86_400_000;
/** Prune at most once a minute: a DELETE per batch would cost more than the inserts. */
const PRUNE_EVERY_MS = 60_000;

interface AuditRow {
  id: number;
  source: string;
  host: string;
  time_ms: number;
  record: string;
  response: string | null;
}

export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly retentionMs: number;
  private lastPrune = 0;
  private readonly insert: Database.Statement;
  private readonly insertMany: (rows: readonly ShippedRecord[]) => number;

  private constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.db = db;
    this.retentionMs = (options.retentionDays ?? 90) * DAY_MS;
    this.insert = db.prepare(
      `INSERT INTO audit (source, host, seq, time_ms, type, identity, request_id, endpoint, decision, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, seq) DO NOTHING`,
    );
    const upsertSource = db.prepare(
      `INSERT INTO sources (source, host, records, last_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET records = records + excluded.records,
       last_ms = MAX(last_ms, excluded.last_ms), host = excluded.host`,
    );
    this.insertMany = db.transaction((rows: readonly ShippedRecord[]) => {
      let added = 0;
      const perSource = new Map<string, { host: string; n: number; last: number }>();
      for (const r of rows) {
        const c = columnsOf(r.record);
        const res = this.insert.run(
          r.source,
          r.host,
          c.seq,
          c.timeMs,
          c.type,
          c.identity,
          c.requestId,
          c.endpoint,
          c.decision,
          JSON.stringify(r.record),
        );
        added += res.changes;
        if (res.changes > 0) {
          const s = perSource.get(r.source) ?? { host: r.host, n: 0, last: 0 };
          s.n++;
          s.last = Math.max(s.last, c.timeMs);
          perSource.set(r.source, s);
        }
      }
      for (const [source, s] of perSource) upsertSource.run(source, s.host, s.n, s.last);
      return added;
    });
  }

  /** Opens (creating if needed) the database file; `:memory:` for a throw-away store. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteEventStore> {
    try {
      if (file !== ':memory:') await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      if (file !== ':memory:') await fs.chmod(file, 0o600);
      return new SqliteEventStore(db, options);
    } catch (err) {
      throw new DockwardError(
        'DW_E_FILE',
        `cannot open the SQLite event store ${file}: ${describeError(err)}`,
        {
          hint: 'Check that the folder is writable and that the file is a SQLite database (or remove it).',
        },
      );
    }
  }

  async appendAudit(records: readonly ShippedRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    const added = this.insertMany(records);
    this.pruneIfDue();
    return added;
  }

  private pruneIfDue(): void {
    const now = Date.now();
    if (this.retentionMs <= 0 || now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const cut = now - this.retentionMs;
    const pruned = this.db.prepare('DELETE FROM audit WHERE time_ms < ?').run(cut).changes;
    if (pruned > 0) {
      this.db.exec(`DELETE FROM sources;
        INSERT INTO sources SELECT source, MAX(host), COUNT(*), MAX(time_ms) FROM audit GROUP BY source;`);
    }
    this.db.prepare('DELETE FROM alerts WHERE time_ms < ?').run(cut);
    this.db.prepare('DELETE FROM host_status WHERE time_ms < ?').run(cut);
  }

  async lastSeq(source: string): Promise<number> {
    const row = this.db.prepare('SELECT MAX(seq) AS seq FROM audit WHERE source = ?').get(source) as {
      seq: number | null;
    };
    return row.seq ?? 0;
  }

  /** A newer head replaces the stored one; at the same seq only a signed one does (no downgrade). */
  async putChainHead(head: ChainHead): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO chain_heads (source, seq, hash, time, signature, certificate) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (source) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time,
         signature = excluded.signature, certificate = excluded.certificate WHERE excluded.seq > chain_heads.seq
         OR (excluded.seq = chain_heads.seq AND excluded.signature IS NOT NULL)`,
      )
      .run(head.source, head.seq, head.hash, head.time, head.signature ?? null, head.certificate ?? null);
  }

  async chainHeads(): Promise<ChainHead[]> {
    const rows = this.db.prepare('SELECT * FROM chain_heads ORDER BY source').all() as {
      source: string;
      seq: number;
      hash: string;
      time: string;
      signature: string | null;
      certificate: string | null;
    }[];
    return rows.map((r) => ({
      source: r.source,
      seq: r.seq,
      hash: r.hash,
      time: r.time,
      ...(r.signature ? { signature: r.signature } : {}),
      ...(r.certificate ? { certificate: r.certificate } : {}),
    }));
  }

  async queryAudit(q: AuditQuery): Promise<AuditPage> {
    const where: string[] = ["a.type <> 'response'"];
    const args: (string | number)[] = [];
    if (q.identity !== undefined) {
      where.push('a.identity = ?');
      args.push(q.identity);
    }
    if (q.host !== undefined) {
      where.push('a.host = ?');
      args.push(q.host);
    }
    if (q.source !== undefined) {
      where.push('a.source = ?');
      args.push(q.source);
    }
    if (q.endpoint !== undefined) {
      where.push('a.endpoint = ?');
      args.push(q.endpoint);
    }
    if (q.decision !== undefined) {
      where.push('a.decision = ?');
      args.push(q.decision);
    }
    if (q.type !== undefined) {
      where.push('a.type = ?');
      args.push(q.type);
    }
    if (q.since !== undefined) {
      where.push('a.time_ms >= ?');
      args.push(Date.parse(q.since));
    }
    if (q.until !== undefined) {
      where.push('a.time_ms < ?');
      args.push(Date.parse(q.until));
    }
    const desc = q.order === 'desc';
    const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
    if (after) {
      where.push(desc ? '(a.time_ms, a.id) < (?, ?)' : '(a.time_ms, a.id) > (?, ?)');
      args.push(after.timeMs, after.id);
    }
    const limit = pageSize(q.limit);
    const dir = desc ? 'DESC' : 'ASC';
    const rows = this.db
      .prepare(
        `SELECT a.id, a.source, a.host, a.time_ms, a.record,
           (SELECT r.record FROM audit r WHERE r.type = 'response' AND r.source = a.source
              AND r.request_id = a.request_id) AS response
         FROM audit a WHERE ${where.join(' AND ')}
         ORDER BY a.time_ms ${dir}, a.id ${dir} LIMIT ?`,
      )
      .all(...args, limit + 1) as AuditRow[];
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      records: page.map(toStored),
      ...(rows.length > limit && last ? { next: encodeCursor(last.time_ms, last.id) } : {}),
    };
  }

  async getRequest(source: string, requestId: string): Promise<StoredRecord | undefined> {
    const row = this.db
      .prepare(
        `SELECT a.id, a.source, a.host, a.time_ms, a.record,
           (SELECT r.record FROM audit r WHERE r.type = 'response' AND r.source = a.source
              AND r.request_id = a.request_id) AS response
         FROM audit a WHERE a.type = 'request' AND a.source = ? AND a.request_id = ?`,
      )
      .get(source, requestId) as AuditRow | undefined;
    return row ? toStored(row) : undefined;
  }

  async sources(): Promise<{ source: string; host: string; records: number; lastTime: string | null }[]> {
    const rows = this.db
      .prepare('SELECT source, host, records AS n, last_ms AS last FROM sources ORDER BY source')
      .all() as { source: string; host: string; n: number; last: number | null }[];
    return rows.map((r) => ({
      source: r.source,
      host: r.host,
      records: r.n,
      lastTime: r.last === null ? null : new Date(r.last).toISOString(),
    }));
  }

  async scanSource(source: string, afterSeq: number, batch: number): Promise<AuditRecord[]> {
    const rows = this.db
      .prepare('SELECT record FROM audit WHERE source = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(source, afterSeq, batch) as { record: string }[];
    return rows.map((r) => JSON.parse(r.record) as AuditRecord);
  }

  async appendAlerts(alerts: readonly AlertEvent[]): Promise<number> {
    const stmt = this.db.prepare(
      `INSERT INTO alerts (uuid, time_ms, rule, priority, output, host, fields) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (uuid) DO NOTHING`,
    );
    const run = this.db.transaction((list: readonly AlertEvent[]) => {
      let n = 0;
      for (const a of list) {
        n += stmt.run(
          a.uuid,
          Date.parse(a.time),
          a.rule,
          a.priority,
          a.output,
          a.host,
          a.fields ? JSON.stringify(a.fields) : null,
        ).changes;
      }
      return n;
    });
    return run(alerts);
  }

  async queryAlerts(q: AlertQuery): Promise<AlertEvent[]> {
    const where: string[] = ['1 = 1'];
    const args: (string | number)[] = [];
    if (q.rule !== undefined) {
      where.push('rule = ?');
      args.push(q.rule);
    }
    if (q.priority !== undefined) {
      where.push('priority = ?');
      args.push(q.priority);
    }
    if (q.since !== undefined) {
      where.push('time_ms >= ?');
      args.push(Date.parse(q.since));
    }
    if (q.until !== undefined) {
      where.push('time_ms < ?');
      args.push(Date.parse(q.until));
    }
    const rows = this.db
      .prepare(`SELECT * FROM alerts WHERE ${where.join(' AND ')} ORDER BY time_ms DESC LIMIT ?`)
      .all(...args, pageSize(q.limit ?? 1000)) as {
      uuid: string;
      time_ms: number;
      rule: string;
      priority: string;
      output: string;
      host: string;
      fields: string | null;
    }[];
    return rows.map((r) => ({
      uuid: r.uuid,
      time: new Date(r.time_ms).toISOString(),
      rule: r.rule,
      priority: r.priority,
      output: r.output,
      host: r.host,
      ...(r.fields ? { fields: JSON.parse(r.fields) as Record<string, unknown> } : {}),
    }));
  }

  async appendHostStatus(rows: readonly HostStatusEvent[]): Promise<void> {
    const stmt = this.db.prepare('INSERT INTO host_status (time_ms, host, row) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const r of rows) stmt.run(Date.parse(r.time), r.host, JSON.stringify(r));
    })();
  }

  async latestHostStatus(checkedBy?: HostCheckKind): Promise<HostStatusEvent[]> {
    // `@kind IS NULL` keeps one statement for both: every check, or one kind's.
    const kind = `(@kind IS NULL OR json_extract(row, '$.checkedBy') = @kind)`;
    const rows = this.db
      .prepare(
        `SELECT row FROM host_status h WHERE ${kind} AND time_ms = (
           SELECT MAX(time_ms) FROM host_status WHERE host = h.host AND ${kind})
         GROUP BY host ORDER BY host`,
      )
      .all({ kind: checkedBy ?? null }) as { row: string }[];
    return rows.map((r) => JSON.parse(r.row) as HostStatusEvent);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toStored(row: AuditRow): StoredRecord {
  return {
    id: row.id,
    source: row.source,
    host: row.host,
    record: JSON.parse(row.record) as AuditRecord,
    ...(row.response ? { response: JSON.parse(row.response) as AuditRecord } : {}),
  };
}

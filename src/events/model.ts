/**
 * The event store's one interface: gateways append their audit records and chain heads, monitors
 * their alerts, fleet checks host status and certificate expiry; the console and
 * `dockward audit-log query` read them back. `sqlite.ts` and `postgres.ts` implement it.
 */
import type { AuditRecord } from '../gateway/audit-log/record.js';
import type { HeadSignatureStatus } from './head-signature.js';

/** One audit record as a gateway shipped it: `source` names the chain (one gateway log). */
export interface ShippedRecord {
  /** The chain the record belongs to, e.g. `host-a:/var/lib/dockward/audit/gateway.log`. */
  source: string;
  /** The machine the gateway runs on (the console's "host" filter). */
  host: string;
  record: AuditRecord;
}

/** A record read back from the store, with the response that completed it (requests only). */
export interface StoredRecord extends ShippedRecord {
  /** The store's own row id (stable, increasing in insertion order within one store). */
  id: number;
  response?: AuditRecord;
}

/**
 * A chain head as a gateway last reported it. Gateways sign heads with their TLS key
 * (`head-signature.ts`): `signature` is base64, `certificate` the signer's PEM; older gateways
 * ship neither.
 */
export interface ChainHead {
  source: string;
  seq: number;
  hash: string;
  time: string;
  signature?: string;
  certificate?: string;
}

export type AlertPriority = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** An alert a monitor raised (the falcosidekick-like fields of src/monitor). */
export interface AlertEvent {
  /** The monitor's id for the alert: appending it twice keeps one. */
  uuid: string;
  time: string;
  rule: string;
  priority: string;
  output: string;
  host: string;
  fields?: Record<string, unknown>;
}

/** One fleet check of one host. */
export interface HostStatusEvent {
  time: string;
  host: string;
  endpoint: string;
  reachable: boolean;
  engineVersion?: string;
  containersRunning?: number;
  containersTotal?: number;
  serverCertDaysLeft?: number;
  clientCertDaysLeft?: number;
  error?: string;
  /** Who probed: `hosts status` (a fleet check run) or `console` (a hosts page view). */
  checkedBy?: HostCheckKind;
}

export type HostCheckKind = 'hosts status' | 'console';

export interface AuditQuery {
  identity?: string;
  host?: string;
  source?: string;
  endpoint?: string;
  decision?: 'allow' | 'deny';
  type?: 'request' | 'connection';
  /** ISO time, inclusive. */
  since?: string;
  /** ISO time, exclusive. */
  until?: string;
  /** Page size (default 50, at most 1000). */
  limit?: number;
  /** `asc` (oldest first, the default) or `desc` (newest first, the console). */
  order?: 'asc' | 'desc';
  /** The `next` of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  records: StoredRecord[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

export interface AlertQuery {
  rule?: string;
  priority?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** What `verifyChain` found for one source, read from the store in seq order. */
export interface StoreChainResult {
  source: string;
  ok: boolean;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The hash of the last record verified. */
  lastHash: string | null;
  /** True when the last record equals the chain head the gateway last reported. */
  matchesHead: boolean | null;
  /** The reported head's signature (null when no head was reported). */
  headSignature: HeadSignatureStatus | null;
  problem?: { seq: number; message: string };
}

/** Filters and paging in both stores mean the same; only the SQL differs. */
export interface EventStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Appends records; a (source, seq) the store has already is skipped. Returns how many were new. */
  appendAudit(records: readonly ShippedRecord[]): Promise<number>;
  /** The highest seq stored for a source (0 for none): where a shipper resumes. */
  lastSeq(source: string): Promise<number>;
  putChainHead(head: ChainHead): Promise<void>;
  chainHeads(): Promise<ChainHead[]>;
  queryAudit(query: AuditQuery): Promise<AuditPage>;
  /** One request with its response, by source and requestId. */
  getRequest(source: string, requestId: string): Promise<StoredRecord | undefined>;
  /** Every source the store holds, with its host, record count and newest time. */
  sources(): Promise<{ source: string; host: string; records: number; lastTime: string | null }[]>;
  /** Walks a source's records in seq order in pages of `batch` (chain verification). */
  scanSource(source: string, afterSeq: number, batch: number): Promise<AuditRecord[]>;
  appendAlerts(alerts: readonly AlertEvent[]): Promise<number>;
  queryAlerts(query: AlertQuery): Promise<AlertEvent[]>;
  appendHostStatus(rows: readonly HostStatusEvent[]): Promise<void>;
  /** The newest status of each host (only from checks of that kind when `checkedBy` is given). */
  latestHostStatus(checkedBy?: HostCheckKind): Promise<HostStatusEvent[]>;
  close(): Promise<void>;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;

/** The page size a query asks for, within bounds. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE;
  return Math.max(1, Math.min(MAX_PAGE, Math.floor(limit)));
}

/** Keyset cursor: the (time, id) of the last row of a page, opaque to callers. */
export function encodeCursor(timeMs: number, id: number): string {
  return Buffer.from(`${timeMs}:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { timeMs: number; id: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return undefined;
  return { timeMs: Number(m[1]), id: Number(m[2]) };
}

/** The columns both stores index and filter on, taken from a record. */
export interface RecordColumns {
  seq: number;
  timeMs: number;
  type: string;
  identity: string | null;
  requestId: string | null;
  endpoint: string | null;
  decision: string | null;
  method: string | null;
  path: string | null;
}

export function columnsOf(record: AuditRecord): RecordColumns {
  const identity =
    record.type === 'request'
      ? (record.identity?.cn ?? null)
      : record.type === 'connection'
        ? (record.identity?.cn ?? null)
        : null;
  return {
    seq: record.seq,
    timeMs: Date.parse(record.time),
    type: record.type,
    identity,
    requestId: record.type === 'connection' ? null : record.requestId,
    endpoint: record.type === 'request' ? record.endpoint : null,
    decision: record.type === 'request' ? record.decision : null,
    method: record.type === 'request' ? record.method : null,
    path: record.type === 'request' ? record.canonicalPath : null,
  };
}

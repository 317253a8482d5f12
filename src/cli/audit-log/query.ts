/** `dockward audit-log query`: records from the event store, filtered, one page at a time. */
import { DockwardError } from '../../errors.js';
import type { AuditPage, AuditQuery } from '../../events/model.js';
import { defaultStoreUrl, openEventStore } from '../../events/open.js';
import { parseSince } from '../../events/time-range.js';
import type { StatePaths } from '../../store/paths.js';
import { renderTable } from '../output.js';

export interface AuditLogQueryOptions {
  store?: string;
  identity?: string;
  host?: string;
  endpoint?: string;
  decision?: string;
  since?: string;
  until?: string;
  limit?: string;
  cursor?: string;
  order?: string;
}

function time(flag: string, value: string): string {
  const t = parseSince(value);
  if (t === undefined) {
    throw new DockwardError('DW_E_USAGE', `${flag} "${value}" is not a time`, {
      hint: `Write ${flag} 24h, 7d, 30m (before now) or an ISO time such as 2026-01-31T12:00:00Z.`,
    });
  }
  return t;
}

/** The query the flags describe (validated). */
export function auditQueryOf(opts: AuditLogQueryOptions): AuditQuery {
  const q: AuditQuery = {};
  if (opts.identity) q.identity = opts.identity;
  if (opts.host) q.host = opts.host;
  if (opts.endpoint) q.endpoint = opts.endpoint;
  if (opts.decision !== undefined) {
    if (opts.decision !== 'allow' && opts.decision !== 'deny') {
      throw new DockwardError('DW_E_USAGE', `--decision "${opts.decision}" is not allow or deny`, {
        hint: 'Write --decision allow or --decision deny.',
      });
    }
    q.decision = opts.decision;
  }
  if (opts.since) q.since = time('--since', opts.since);
  if (opts.until) q.until = time('--until', opts.until);
  if (opts.limit !== undefined) {
    const n = Number(opts.limit);
    if (!/^\d+$/.test(opts.limit) || n < 1 || n > 1000) {
      throw new DockwardError('DW_E_USAGE', `--limit "${opts.limit}" is not 1..1000`, {
        hint: 'Pass a page size from 1 to 1000; page on with --cursor.',
      });
    }
    q.limit = n;
  }
  if (opts.order !== undefined) {
    if (opts.order !== 'asc' && opts.order !== 'desc') {
      throw new DockwardError('DW_E_USAGE', `--order "${opts.order}" is not asc or desc`, {
        hint: 'Write --order asc (oldest first, the default) or --order desc.',
      });
    }
    q.order = opts.order;
  }
  if (opts.cursor) q.cursor = opts.cursor;
  return q;
}

export async function queryAuditLog(paths: StatePaths, opts: AuditLogQueryOptions): Promise<AuditPage> {
  const query = auditQueryOf(opts);
  const store = await openEventStore(opts.store ?? defaultStoreUrl(paths));
  try {
    return await store.queryAudit(query);
  } finally {
    await store.close();
  }
}

export function renderAuditPage(page: AuditPage): string {
  const rows = page.records.map((r) => {
    const rec = r.record;
    if (rec.type === 'request') {
      const status = r.response?.type === 'response' ? String(r.response.status) : '';
      return [
        rec.time,
        r.host,
        String(rec.seq),
        rec.identity?.cn ?? '-',
        `${rec.method} ${rec.canonicalPath}`,
        rec.endpoint ?? '-',
        rec.decision,
        status,
      ];
    }
    if (rec.type === 'connection') {
      return [
        rec.time,
        r.host,
        String(rec.seq),
        rec.identity?.cn ?? rec.client.address,
        `connection ${rec.event}`,
        '-',
        '',
        '',
      ];
    }
    return [rec.time, r.host, String(rec.seq), '', 'response', '', '', String(rec.status)];
  });
  const table = renderTable(
    ['time', 'host', 'seq', 'identity', 'request', 'endpoint', 'decision', 'status'],
    rows,
  );
  return [
    page.records.length === 0 ? 'no records match' : table,
    ...(page.next ? [`more: --cursor ${page.next}`] : []),
  ].join('\n');
}

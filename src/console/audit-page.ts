/** Audit trail: the shipped records with filters and paging, one request in full, chain status. */
import { html } from 'hono/html';
import { describeHeadSignature, type HeadSignatureStatus } from '../events/head-signature.js';
import type { AuditQuery, StoredRecord } from '../events/model.js';
import { parseSince } from '../events/time-range.js';
import type { ConsoleContext } from './context.js';
import { type Html, layout } from './layout.js';

export type AuditFilters = Record<
  'identity' | 'host' | 'endpoint' | 'decision' | 'since' | 'until' | 'cursor',
  string
>;

/** Green: signed, verified, by the CA's certificate; red: a bad signature or a foreign signer; amber: anything less. */
function headRag(s: HeadSignatureStatus | null): 'red' | 'amber' | 'green' {
  if (s?.signed && (!s.verified || s.chainsToCa === false)) return 'red';
  return s?.signed && s.chainsToCa === true ? 'green' : 'amber';
}

export function queryOf(f: Partial<AuditFilters>): AuditQuery {
  const q: AuditQuery = { order: 'desc', limit: 50 };
  if (f.identity) q.identity = f.identity;
  if (f.host) q.host = f.host;
  if (f.endpoint) q.endpoint = f.endpoint;
  if (f.decision === 'allow' || f.decision === 'deny') q.decision = f.decision;
  const since = f.since ? parseSince(f.since) : undefined;
  if (since) q.since = since;
  const until = f.until ? parseSince(f.until) : undefined;
  if (until) q.until = until;
  if (f.cursor) q.cursor = f.cursor;
  return q;
}

function summary(r: StoredRecord): { who: string; what: string; decision: string; status: string } {
  const rec = r.record;
  if (rec.type === 'request') {
    const status = r.response?.type === 'response' ? String(r.response.status) : '';
    return {
      who: rec.identity?.cn ?? '(none)',
      what: `${rec.method} ${rec.canonicalPath} (${rec.endpoint ?? 'unknown endpoint'})`,
      decision: rec.decision + (rec.rule ? ` by ${rec.rule}` : ''),
      status,
    };
  }
  if (rec.type === 'connection') {
    return {
      who: rec.identity?.cn ?? `${rec.client.address}`,
      what: `connection ${rec.event}${rec.reason ? `: ${rec.reason}` : ''}`,
      decision: rec.event === 'accepted' || rec.event === 'closed' ? '' : 'refused',
      status: '',
    };
  }
  return { who: '', what: 'response', decision: '', status: String(rec.status) };
}

export async function auditPage(ctx: ConsoleContext, f: Partial<AuditFilters>): Promise<Html> {
  const page = await ctx.store.queryAudit(queryOf(f));
  const sources = await ctx.store.sources();
  const chains = await Promise.all(sources.map((s) => ctx.chains.status(s.source)));
  const keep = new URLSearchParams();
  for (const k of ['identity', 'host', 'endpoint', 'decision', 'since', 'until'] as const) {
    if (f[k]) keep.set(k, f[k]);
  }
  const input = (name: keyof AuditFilters, label: string, placeholder = '') =>
    html`<label>${label} <input name="${name}" value="${f[name] ?? ''}" placeholder="${placeholder}"></label>`;
  const body = html`
<h2>Chain verification</h2>
<table id="chains"><thead><tr><th>gateway log</th><th>host</th><th>records</th><th>seq</th><th>chain</th><th>head signature</th></tr></thead><tbody>
${chains.map((c, i) => {
  const src = sources[i];
  if (!c) {
    return html`<tr><td>${src?.source}</td><td>${src?.host}</td><td>${src?.records}</td><td>-</td>
<td class="amber">verifying (a first pass over a large log runs in the background: reload)</td><td>-</td></tr>`;
  }
  return html`<tr><td>${c.source}</td><td>${src?.host}</td><td>${c.records}</td>
<td>${c.firstSeq ?? '-'}..${c.lastSeq ?? '-'}</td>
<td class="${c.ok ? 'green' : 'red'}">${
    c.ok
      ? `verified${c.matchesHead === true ? ', ends at the reported head' : c.matchesHead === false ? ', behind the reported head (shipping)' : ''}`
      : `BROKEN at seq ${c.problem?.seq}: ${c.problem?.message}`
  }</td><td class="head-signature ${headRag(c.headSignature)}">${describeHeadSignature(c.headSignature)}</td></tr>`;
})}
</tbody></table>
<h2>Records</h2>
<form class="filters" method="get" action="/audit" id="filters">
${input('identity', 'identity', 'CN')} ${input('host', 'host')} ${input('endpoint', 'endpoint', 'container.create')}
<label>decision <select name="decision"><option value="">any</option>
<option ${f.decision === 'allow' ? 'selected' : ''}>allow</option><option ${f.decision === 'deny' ? 'selected' : ''}>deny</option></select></label>
${input('since', 'since', '24h or ISO time')} ${input('until', 'until', 'ISO time')}
<button type="submit" id="apply">Filter</button> <a href="/audit">clear</a></form>
<table id="records"><thead><tr><th>time</th><th>host</th><th>identity</th><th>request</th><th>decision</th><th>status</th><th></th></tr></thead><tbody>
${page.records.map((r) => {
  const s = summary(r);
  const rec = r.record;
  return html`<tr data-identity="${s.who}" data-decision="${rec.type === 'request' ? rec.decision : ''}">
<td>${rec.time}</td><td>${r.host}</td><td>${s.who}</td><td>${s.what}</td>
<td class="${s.decision.startsWith('deny') || s.decision === 'refused' ? 'red' : 'green'}">${s.decision}</td><td>${s.status}</td>
<td>${rec.type === 'request' ? html`<a href="/audit/request?source=${encodeURIComponent(r.source)}&id=${encodeURIComponent(rec.requestId)}">full record</a>` : ''}</td></tr>`;
})}
</tbody></table>
${page.records.length === 0 ? html`<p id="empty">No records match.</p>` : ''}
${page.next ? html`<p><a id="older" href="/audit?${keep.toString()}${keep.size > 0 ? '&' : ''}cursor=${page.next}">older records</a></p>` : ''}`;
  return layout('audit', 'Audit trail', body);
}

export async function requestPage(
  ctx: ConsoleContext,
  source: string,
  id: string,
): Promise<Html | undefined> {
  const r = await ctx.store.getRequest(source, id);
  if (!r) return undefined;
  const chain = await ctx.chains.status(source);
  const body = html`<p>Gateway log <code>${source}</code> on ${r.host}; chain
<span class="${chain ? (chain.ok ? 'green' : 'red') : 'amber'}">${chain ? (chain.ok ? 'verified' : 'BROKEN') : 'being verified'}</span>.</p>
<h2>Decision record (seq ${r.record.seq})</h2><pre id="request-record">${JSON.stringify(r.record, null, 2)}</pre>
<h2>Completion record</h2><pre id="response-record">${r.response ? JSON.stringify(r.response, null, 2) : 'not completed (yet)'}</pre>
<p><a href="/audit">back to the audit trail</a></p>`;
  return layout('audit', `Request ${id}`, body);
}

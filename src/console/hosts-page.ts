/** Hosts: the local gateway and every inventory host, probed now, with certificates and audit status. */
import { hostname } from 'node:os';
import { html } from 'hono/html';
import { hostStatusEvents } from '../events/host-status.js';
import type { HostStatusEvent } from '../events/model.js';
import { fleetStatus, type HostStatus } from '../fleet/status.js';
import { type HostRecord, loadInventory } from '../fleet/inventory.js';
import type { ConsoleContext } from './context.js';
import { type Html, layout, ragForDays } from './layout.js';

const PROBE_TIMEOUT_MS = 3000;

interface HostRow extends HostStatus {
  rag: 'red' | 'amber' | 'green';
  audit: string;
  auditRag: 'red' | 'amber' | 'green';
}

/** The local host as a fleet record: the gateway `dockward up` started, reached with the admin cert. */
function localHost(ctx: ConsoleContext): HostRecord {
  return {
    name: `local (${hostname()})`,
    endpoint: ctx.gateway,
    certDir: ctx.paths.issuedDir('admin'),
    certSource: 'issued',
    certName: 'admin',
    addedAt: new Date(0).toISOString(),
    verified: true,
  };
}

export async function hostRows(ctx: ConsoleContext): Promise<HostRow[]> {
  const inventory = await loadInventory(ctx.paths).catch(() => ({ version: 1 as const, hosts: [] }));
  const hosts = [localHost(ctx), ...inventory.hosts];
  const statuses = await fleetStatus(hosts, { timeoutMs: PROBE_TIMEOUT_MS, concurrency: 8 });
  // Fleet checks are events too: the store keeps each probe (the console's history).
  const now = new Date().toISOString();
  await ctx.store
    .appendHostStatus(hostStatusEvents(statuses, now, 'console'))
    .catch((err: unknown) => ctx.logger.warn({ err: String(err) }, 'cannot record host status'));
  const sources = await ctx.store.sources();
  const rows: HostRow[] = [];
  for (const [i, s] of statuses.entries()) {
    // The local row owns the sources shipped from this machine; inventory rows match by name.
    const mine = sources.filter((src) => (i === 0 ? src.host === hostname() : src.host === s.name));
    let audit = 'no audit records in the store';
    let auditRag: HostRow['auditRag'] = 'amber';
    if (mine.length > 0) {
      const chains = await Promise.all(mine.map((m) => ctx.chains.status(m.source)));
      const records = mine.reduce((n, m) => n + m.records, 0);
      const last = mine
        .map((m) => m.lastTime ?? '')
        .sort()
        .pop();
      const broken = chains.filter((c) => c !== undefined && !c.ok);
      const pending = chains.some((c) => c === undefined);
      const state =
        broken.length > 0
          ? `BROKEN at seq ${broken[0]?.problem?.seq}`
          : pending
            ? 'being verified'
            : 'verified';
      audit = `${records} records, last ${last}; chain ${state}`;
      auditRag = broken.length > 0 ? 'red' : pending ? 'amber' : 'green';
    }
    const certRag = [ragForDays(s.serverCertDaysLeft), ragForDays(s.clientCertDaysLeft)];
    const all = [s.reachable ? 'green' : 'red', ...certRag, auditRag];
    const rag = all.includes('red') ? 'red' : all.includes('amber') ? 'amber' : 'green';
    rows.push({ ...s, rag, audit, auditRag });
  }
  return rows;
}

/** The newest `dockward hosts status --store` row of each host (possibly run on another machine). */
function lastRunTable(rows: readonly HostStatusEvent[]): Html {
  if (rows.length === 0)
    return html`<p id="last-run-empty">No fleet check in the store yet: <code>dockward hosts status --store URL</code> records one.</p>`;
  const days = (n: number | undefined) => (n !== undefined ? `${n} days left` : '-');
  return html`<table id="last-run"><thead><tr><th>host</th><th>checked</th><th>endpoint</th><th>reachable</th>
<th>engine</th><th>containers</th><th>server cert</th><th>client cert</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr data-host="${r.host}"><td>${r.host}</td><td>${r.time}</td><td>${r.endpoint}</td>
<td class="${r.reachable ? 'green' : 'red'}">${r.reachable ? 'yes' : `no: ${r.error ?? ''}`}</td>
<td>${r.engineVersion ?? '-'}</td>
<td>${r.containersTotal !== undefined ? `${r.containersRunning ?? 0} running / ${r.containersTotal}` : '-'}</td>
<td class="${ragForDays(r.serverCertDaysLeft)}">${days(r.serverCertDaysLeft)}</td>
<td class="${ragForDays(r.clientCertDaysLeft)}">${days(r.clientCertDaysLeft)}</td></tr>`,
)}
</tbody></table>`;
}

export async function hostsPage(ctx: ConsoleContext): Promise<Html> {
  const rows = await hostRows(ctx);
  const lastRun = await ctx.store.latestHostStatus('hosts status').catch(() => []);
  const count = (c: string) => rows.filter((r) => r.rag === c).length;
  const body = html`
<p id="summary">
  <span class="badge green">${count('green')} green</span>
  <span class="badge amber">${count('amber')} amber</span>
  <span class="badge red">${count('red')} red</span>
</p>
<table id="hosts"><thead><tr><th>status</th><th>host</th><th>endpoint</th><th>reachable</th><th>engine</th>
<th>containers</th><th>server cert</th><th>client cert</th><th>audit</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr data-host="${r.name}">
<td><span class="badge ${r.rag}">${r.rag}</span></td><td>${r.name}</td><td>${r.endpoint}</td>
<td class="${r.reachable ? 'green' : 'red'}">${r.reachable ? `yes (${r.rttMs ?? '?'} ms)` : `no: ${r.error ?? r.problem ?? ''}`}</td>
<td>${r.engineVersion ? `${r.engineVersion} (API ${r.apiVersion})` : '-'}</td>
<td>${r.containersTotal !== undefined ? `${r.containersRunning} running / ${r.containersTotal}` : '-'}</td>
<td class="${ragForDays(r.serverCertDaysLeft)}">${r.serverCertDaysLeft !== undefined ? `${r.serverCertDaysLeft} days left` : '-'}</td>
<td class="${ragForDays(r.clientCertDaysLeft)}">${r.clientCertDaysLeft !== undefined ? `${r.clientCertDaysLeft} days left` : '-'}</td>
<td class="${r.auditRag}">${r.audit}</td></tr>`,
)}
</tbody></table>
<p class="note">Red: unreachable, a certificate with under 7 days left, or a broken audit chain. Amber: under 30 days, or no audit records yet.</p>
<h2>Last fleet check</h2>
${lastRunTable(lastRun)}`;
  return layout('hosts', 'Hosts', body);
}

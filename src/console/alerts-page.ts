/** Alerts: what the monitors raised, counted by rule and priority, and per hour over time. */
import { html } from 'hono/html';
import type { ConsoleContext } from './context.js';
import { type Html, layout } from './layout.js';

const PRIORITY_COLOURS: Record<string, string> = {
  critical: '#7f1d1d',
  high: '#b3261e',
  medium: '#c77700',
  warning: '#c77700',
  notice: '#2f6fb3',
  low: '#2f6fb3',
  info: '#5b6475',
};
const HOUR_MS = 3_600_000;

export async function alertsPage(
  ctx: ConsoleContext,
  filter: { rule?: string; priority?: string },
): Promise<Html> {
  const since = new Date(Date.now() - 7 * 24 * HOUR_MS).toISOString();
  const alerts = await ctx.store.queryAlerts({ since, limit: 1000, ...filter });
  const byRule = new Map<string, Map<string, number>>();
  const hours = new Map<number, Map<string, number>>();
  const priorities = new Set<string>();
  for (const a of alerts) {
    priorities.add(a.priority);
    const r = byRule.get(a.rule) ?? new Map<string, number>();
    r.set(a.priority, (r.get(a.priority) ?? 0) + 1);
    byRule.set(a.rule, r);
    const h = Math.floor(Date.parse(a.time) / HOUR_MS) * HOUR_MS;
    const hm = hours.get(h) ?? new Map<string, number>();
    hm.set(a.priority, (hm.get(a.priority) ?? 0) + 1);
    hours.set(h, hm);
  }
  const hourKeys = [...hours.keys()].sort((x, y) => x - y);
  const charts = [
    {
      canvas: 'over-time',
      config: {
        type: 'bar',
        data: {
          labels: hourKeys.map((h) => new Date(h).toISOString().slice(0, 13).replace('T', ' ') + ':00'),
          datasets: [...priorities].map((p) => ({
            label: p,
            data: hourKeys.map((h) => hours.get(h)?.get(p) ?? 0),
            backgroundColor: PRIORITY_COLOURS[p] ?? '#888',
          })),
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
      },
    },
  ];
  const body = html`
<p class="note">The last 7 days of alerts from <code>dockward monitor</code>.</p>
<form class="filters" method="get" action="/alerts"><label>rule <input name="rule" value="${filter.rule ?? ''}"></label>
<label>priority <input name="priority" value="${filter.priority ?? ''}"></label><button type="submit">Filter</button></form>
<h2>Over time</h2><div class="chart"><canvas id="over-time"></canvas></div>
<h2>By rule and priority</h2>
<table id="by-rule"><thead><tr><th>rule</th><th>priority</th><th>count</th></tr></thead><tbody>
${[...byRule.entries()].flatMap(([rule, m]) =>
  [...m.entries()].map(([p, n]) => html`<tr><td>${rule}</td><td>${p}</td><td>${n}</td></tr>`),
)}
</tbody></table>
${alerts.length === 0 ? html`<p id="empty">No alerts in the last 7 days.</p>` : ''}
<h2>Latest</h2>
<table id="alerts"><thead><tr><th>time</th><th>priority</th><th>rule</th><th>host</th><th>output</th></tr></thead><tbody>
${alerts
  .slice(0, 100)
  .map(
    (a) =>
      html`<tr><td>${a.time}</td><td>${a.priority}</td><td>${a.rule}</td><td>${a.host}</td><td>${a.output}</td></tr>`,
  )}
</tbody></table>`;
  return layout('alerts', 'Alerts', body, charts);
}

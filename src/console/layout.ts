/** The page frame every console page shares: navigation, styles, the chart script. */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d2433;background:#f6f7f9}
header{background:#1d2433;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.4rem;align-items:center}
header a{color:#cfd6e4;text-decoration:none}header a.on{color:#fff;font-weight:600}
main{padding:1rem 1.2rem}table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{border-bottom:1px solid #e3e6eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f4}.red{color:#b3261e;font-weight:600}.amber{color:#a15c00;font-weight:600}
.green{color:#1b7f3b;font-weight:600}.badge{padding:.1rem .45rem;border-radius:.6rem;color:#fff}
.badge.red{background:#b3261e}.badge.amber{background:#c77700}.badge.green{background:#1b7f3b}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0}form.filters label{font-size:.85rem}
pre{background:#fff;border:1px solid #e3e6eb;padding:.6rem;overflow:auto}
.chart{background:#fff;border:1px solid #e3e6eb;padding:.5rem;max-width:1000px;height:260px}
.note{color:#5b6475;font-size:.85rem}button.danger{background:#b3261e;color:#fff;border:0;padding:.35rem .8rem}
`;

const PAGES = [
  ['hosts', 'Hosts'],
  ['certificates', 'Certificates'],
  ['audit', 'Audit trail'],
  ['alerts', 'Alerts'],
  ['policy', 'Policy'],
] as const;

export type PageName = (typeof PAGES)[number][0];

export function layout(current: PageName, title: string, body: Html | string, charts?: unknown): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · dockward console</title>
<style>${raw(STYLE)}</style>
${charts === undefined ? '' : html`<script src="/assets/chart.umd.min.js"></script>`}
</head><body>
<header><strong>dockward</strong>${PAGES.map(
    ([name, label]) => html`<a href="/${name}" class="${name === current ? 'on' : ''}">${label}</a>`,
  )}</header>
<main><h1>${title}</h1>${body}</main>
${
  charts === undefined
    ? ''
    : html`<script type="application/json" id="charts">${raw(jsonForScript(charts))}</script>
<script src="/assets/console.js"></script>`
}
</body></html>`;
}

/** JSON that can sit inside a <script> element: `<` escaped so `</script>` cannot end it early. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** Red/amber/green for a number of days left. */
export function ragForDays(days: number | undefined): 'red' | 'amber' | 'green' {
  if (days === undefined || days < 7) return 'red';
  if (days < 30) return 'amber';
  return 'green';
}

/**
 * Static assets served from the package itself, never from the internet: Chart.js's UMD build
 * from node_modules and the small script that draws the charts a page describes in JSON.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let chartJs: string | undefined;

/** chart.js's browser build (its package exports hide the file, so it is found beside its main). */
export function chartScript(): string {
  if (chartJs === undefined) {
    const main = createRequire(import.meta.url).resolve('chart.js');
    chartJs = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
  }
  return chartJs;
}

/**
 * Reads `<script id="charts">` (a list of {canvas, config}) and draws each with Chart.js. The
 * configs are built on the server; this only hands them over.
 */
export const CONSOLE_SCRIPT = `
(function () {
  var el = document.getElementById('charts');
  if (!el || typeof Chart === 'undefined') return;
  var charts = JSON.parse(el.textContent || '[]');
  window.dockwardCharts = charts.map(function (c) {
    var canvas = document.getElementById(c.canvas);
    if (!canvas) return null;
    c.config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, c.config.options || {});
    return new Chart(canvas, c.config);
  });
  document.body.setAttribute('data-charts-ready', String(window.dockwardCharts.length));
})();
`;

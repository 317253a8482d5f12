// `npm run bench`: every performance figure of dockward in one table, plus bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { benchAuditLog } from './audit-log.js';
import { type BenchFigure, benchPki } from './pki.js';
import { benchPolicy } from './policy.js';

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function verdict(f: BenchFigure): string {
  if (f.ratioTarget !== undefined && f.ratio !== undefined) {
    return `≥ ${f.ratioTarget}× native TLS: ${f.ratio >= f.ratioTarget ? 'met' : 'MISSED'} (${f.ratio.toFixed(2)}×)`;
  }
  if (!f.target) return '';
  const v = f.summary.median;
  const ok = f.target.op === '<' ? v < f.target.value : v >= f.target.value;
  return `${f.target.op} ${f.target.value} ${f.unit}: ${ok ? 'met' : 'MISSED'}`;
}

const figures: BenchFigure[] = [];
figures.push(...(await benchPki()));
figures.push(...(await benchPolicy()));
figures.push(...(await benchAuditLog()));
figures.push(...(await (await import('./fleet.js')).benchFleet()));
figures.push(...(await (await import('./audit.js')).benchAudit()));
figures.push(...(await (await import('./gateway.js')).benchGateway()));
figures.push(...(await (await import('./events.js')).benchEvents()));

const lines = [
  '| figure | n | median | p99 | unit | target |',
  '| --- | ---: | ---: | ---: | --- | --- |',
  ...figures.map(
    (f) =>
      `| ${f.label} | ${f.summary.n} | ${fmt(f.summary.median)} | ${fmt(f.summary.p99)} | ${f.unit} | ${verdict(f)} |`,
  ),
];
console.log(lines.join('\n'));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/latest.json', import.meta.url),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      figures,
    },
    null,
    2,
  )}\n`,
);

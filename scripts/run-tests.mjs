#!/usr/bin/env node
// Runs the test suites with Node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.mjs            unit tests, then the e2e suite (real dockerd)
//   node scripts/run-tests.mjs --unit     unit tests only (src/**/*.test.ts)
//   node scripts/run-tests.mjs --e2e      e2e only (test/e2e/**/*.test.ts)
//   extra arguments that are paths narrow the run to those files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const wantUnit = !args.includes('--e2e');
const wantE2e = !args.includes('--unit');

function find(dir) {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const unit = [...find(join(root, 'src')), ...find(join(root, 'test', 'unit'))];
const e2e = find(join(root, 'test', 'e2e'));
let files = [...(wantUnit ? unit : []), ...(wantE2e ? e2e : [])];
if (only.length > 0) files = only.map((f) => join(process.cwd(), f));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
console.log(`run-tests: ${files.length} files (${files.map((f) => relative(root, f)).join(', ')})`);
// One file at a time: e2e files each start their own dockerd, and the machine has 2 cores.
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: process.env },
);
process.exit(res.status ?? 1);

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

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

function buildIfStale() {
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'index.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newestMtime(join(root, 'src'))) return;
  console.log('run-tests: building dist/ for the e2e suites (npm run build)');
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      stdio: 'inherit',
      cwd: root,
    },
  );
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

const unit = [...find(join(root, 'src')), ...find(join(root, 'test', 'unit'))];
const e2e = find(join(root, 'test', 'e2e'));
let files = [...(wantUnit ? unit : []), ...(wantE2e ? e2e : [])];
if (only.length > 0) files = only.map((f) => join(process.cwd(), f));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
// The e2e suites drive the built binary (bin/dockward.js runs dist/): rebuild it when src/ is newer.
if (files.some((f) => f.includes(`${join('test', 'e2e')}`))) buildIfStale();
console.log(`run-tests: ${files.length} files (${files.map((f) => relative(root, f)).join(', ')})`);
// One file at a time: e2e files each start their own dockerd, and the machine has 2 cores.
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: process.env },
);
process.exit(res.status ?? 1);

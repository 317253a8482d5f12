#!/usr/bin/env node
// Runs the test suites with Node's own test runner (TypeScript through tsx).
//   node scripts/run-tests.mjs            unit tests, then the e2e suite (real dockerd)
//   node scripts/run-tests.mjs --unit     unit tests only (src/**/*.test.ts)
//   node scripts/run-tests.mjs --e2e      e2e only (test/e2e/**/*.test.ts)
//   node scripts/run-tests.mjs --hosts    the host lab only (test/hosts/**/*.test.ts: systemd-nspawn
//                                         hosts on a private network; root, see docs/development.md)
//   extra arguments that are paths narrow the run to those files.
// Without --unit/--e2e/--hosts, the host lab runs after the rest when CI=true and this machine can
// run it; otherwise one line says why it did not.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const onlyHosts = args.includes('--hosts');
const wantUnit = !args.includes('--e2e') && !onlyHosts;
const wantE2e = !args.includes('--unit') && !onlyHosts;
const defaultRun = !args.some((a) => a.startsWith('--')) && only.length === 0;

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
const hosts = find(join(root, 'test', 'hosts'));
let files = [...(wantUnit ? unit : []), ...(wantE2e ? e2e : []), ...(onlyHosts ? hosts : [])];
if (only.length > 0) files = only.map((f) => join(process.cwd(), f));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}

// The e2e suites and the host lab drive the built binary (bin/dockward.js runs dist/): rebuild it when src/ is newer.
if (files.some((f) => f.includes(join('test', 'e2e'))) || defaultRun || onlyHosts) buildIfStale();

/** Runs test files with Node's runner, one file at a time; returns the exit status. */
function runFiles(list) {
  console.log(`run-tests: ${list.length} files (${list.map((f) => relative(root, f)).join(', ')})`);
  // One file at a time: e2e files each start their own dockerd, and the machine has 2 cores.
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...list],
    { stdio: 'inherit', cwd: root, env: process.env },
  );
  return res.status ?? 1;
}

/** Why the host lab cannot run here (test/hosts/lab.ts decides), or '' when it can. */
function labUnavailable() {
  const res = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./test/hosts/lab.ts').then((m) => process.stdout.write(m.labUnavailable() ?? ''))",
    ],
    { cwd: root, encoding: 'utf8' },
  );
  return res.status === 0 ? res.stdout.trim() : `cannot check: ${res.stderr.trim()}`;
}

let status = runFiles(files);
if (defaultRun) {
  const why =
    process.env.CI !== 'true' ? 'CI is not true (run it with `npm run test:hosts`)' : labUnavailable();
  if (why !== '') console.log(`run-tests: the host lab (test/hosts) did not run: ${why}`);
  else if (hosts.length > 0) status = runFiles(hosts) || status;
}
process.exit(status);

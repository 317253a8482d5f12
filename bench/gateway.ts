// The gateway side by side with dockerd's native TLS, HAProxy and the unix socket itself: same
// daemon, same certificates, same load client (a separate process), loopback only.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { initCa } from '../src/pki/init-ca.js';
import { issueCertificate } from '../src/pki/issue.js';
import { statePaths } from '../src/store/paths.js';
import { freeLoopbackPort, type PrivateDockerd, startDockerd } from '../test/e2e/harness/index.js';
import { haproxyAvailable, startHaproxy } from './haproxy.js';
import type { LoadResult, LoadSpec } from './load-client.js';
import type { BenchFigure } from './pki.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const DURATION_MS = Number(process.env['DW_BENCH_LOAD_MS'] ?? 3_000);
const ROUNDS = Number(process.env['DW_BENCH_ROUNDS'] ?? 3);
const WARMUP_MS = 1_000;
// A client run that has not finished by then is killed: every loop stops by itself.
const CLIENT_TIMEOUT_MS = DURATION_MS + WARMUP_MS + 30_000;
const none = async () => undefined;

type PathName = 'unix' | 'native-tls' | 'gateway' | 'haproxy';

interface Target {
  name: PathName;
  target: string;
  /** The proxy's pid (none for unix and native TLS, where dockerd alone serves). */
  proxyPid?: number;
}

/** One measured load run with the CPU each side spent in the measured window. */
export interface LoadRun {
  path: PathName;
  endpoint: string;
  mode: LoadSpec['mode'];
  connections: number;
  result: LoadResult;
  /** CPU of the proxy in the measured window, ms (0 when there is none). */
  proxyCpuMs: number;
  dockerdCpuMs: number;
}

/** user+system CPU of a process so far, in ms (Linux /proc, clock ticks of 10 ms). */
function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the command: state is field 3, so utime (14) and stime (15) are at 11 and 12
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(150);
  }
  return false;
}

/** Runs the load client in its own process; samples the servers' CPU when it says the measured window starts and ends. */
function runClient(
  spec: LoadSpec,
  pids: { proxy?: number; dockerd?: number },
): Promise<{
  result: LoadResult;
  proxyCpuMs: number;
  dockerdCpuMs: number;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_CLIENT, JSON.stringify(spec)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let start: { proxy: number; dockerd: number } | undefined;
    let end: { proxy: number; dockerd: number } | undefined;
    const sample = () => ({ proxy: cpuMsOf(pids.proxy), dockerd: cpuMsOf(pids.dockerd) });
    const timer = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (start === undefined && out.includes('measure-start\n')) start = sample();
      if (end === undefined && out.includes('measure-end\n')) end = sample();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined || start === undefined || end === undefined) {
        reject(new Error(`load client failed (exit ${code}): ${err.slice(-2000)}`));
        return;
      }
      resolve({
        result: JSON.parse(line) as LoadResult,
        proxyCpuMs: end.proxy - start.proxy,
        dockerdCpuMs: end.dockerd - start.dockerd,
      });
    });
  });
}

/** Starts the gateway CLI as a child process (so it has an event loop of its own). */
async function startGatewayProcess(
  home: string,
  port: number,
  upstream: string,
  tlsDir: string,
  logPath: string,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [
        // e.g. DW_BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where its time goes
        ...(process.env['DW_BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
        '--import',
        'tsx',
        // DW_BENCH_GATEWAY_ENTRY: another build of the CLI entry, to compare a change side by side.
        process.env['DW_BENCH_GATEWAY_ENTRY'] ?? join(REPO, 'src/index.ts'),
        '--home',
        home,
        'gateway',
        '--listen',
        `127.0.0.1:${port}`,
        '--upstream',
        upstream,
        '--tls-dir',
        tlsDir,
      ],
      { cwd: REPO, stdio: ['ignore', fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  if (!(await waitForPort(port, 20_000)) || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(`the gateway did not listen on ${port}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
  }
  return {
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}

function fmt(n: number): string {
  return Number.isNaN(n) ? '—' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** The markdown table of the runs with each path's ratio to native TLS on the same endpoint and load. */
export function gatewayTable(runs: readonly LoadRun[]): string {
  const native = (r: LoadRun) =>
    runs.find(
      (n) =>
        n.path === 'native-tls' &&
        n.endpoint === r.endpoint &&
        n.connections === r.connections &&
        n.mode === r.mode,
    );
  const lines = [
    '| path | request | conns | req/s | × native TLS | p50 ms | p99 ms | p99 − native | client CPU | proxy CPU | dockerd CPU | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of runs) {
    const n = native(r);
    const secs = r.result.elapsedMs / 1000;
    const pct = (ms: number) => `${((ms / 1000 / secs) * 100).toFixed(0)}%`;
    lines.push(
      `| ${r.path} | ${r.mode === 'connect' ? 'new TLS conn + ' : ''}GET ${r.endpoint} | ${r.connections} | ${fmt(r.result.rps)} | ${n ? (r.result.rps / n.result.rps).toFixed(2) : '—'} | ${fmt(r.result.p50)} | ${fmt(r.result.p99)} | ${n ? (r.result.p99 - n.result.p99).toFixed(2) : '—'} | ${pct(r.result.clientCpuMs)} | ${r.proxyCpuMs > 0 ? pct(r.proxyCpuMs) : '—'} | ${pct(r.dockerdCpuMs)} | ${r.result.errors} |`,
    );
  }
  return lines.join('\n');
}

/** Measures every path, prints the table, and returns the figures (req/s with the ratio to native TLS, and latency). */
export async function benchGateway(): Promise<BenchFigure[]> {
  if (!haproxyAvailable()) console.error('bench/gateway: haproxy not found, the HAProxy path is skipped');
  const home = mkdtempSync(join(tmpdir(), 'dw-bench-gw-'));
  const paths = statePaths(home);
  const stops: Array<() => Promise<void>> = [];
  let dockerd: PrivateDockerd | undefined;
  try {
    await initCa(paths, {}, none);
    const server = await issueCertificate(
      paths,
      { kind: 'server', name: 'bench-server', sans: ['IP:127.0.0.1', 'DNS:localhost'] },
      none,
    );
    const client = await issueCertificate(paths, { kind: 'client', name: 'bench-admin', ou: 'admin' }, none);
    const tlsPort = await freeLoopbackPort();
    dockerd = await startDockerd({
      extraArgs: [
        '--tlsverify',
        '--tlscacert',
        server.files.ca,
        '--tlscert',
        server.files.cert,
        '--tlskey',
        server.files.key,
        '-H',
        `tcp://127.0.0.1:${tlsPort}`,
      ],
    });
    const dockerdPid = dockerd.pid;
    const gwPort = await freeLoopbackPort();
    const gw = await startGatewayProcess(
      home,
      gwPort,
      dockerd.host,
      server.files.dir,
      join(home, 'gateway.log'),
    );
    stops.push(gw.stop);
    const targets: Target[] = [
      { name: 'unix', target: dockerd.host },
      { name: 'native-tls', target: `https://127.0.0.1:${tlsPort}` },
      { name: 'gateway', target: `https://127.0.0.1:${gwPort}`, proxyPid: gw.pid },
    ];
    if (haproxyAvailable()) {
      const haPort = await freeLoopbackPort();
      const ha = await startHaproxy({
        dir: home,
        port: haPort,
        socketPath: dockerd.socketPath,
        tlsDir: server.files.dir,
      });
      stops.push(ha.stop);
      targets.push({ name: 'haproxy', target: `https://127.0.0.1:${haPort}`, proxyPid: ha.pid });
    }

    // DW_BENCH_PATHS=gateway,native-tls measures only those paths (for profiling).
    const only = process.env['DW_BENCH_PATHS']?.split(',');
    if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.includes(t.name)));
    const runs: LoadRun[] = [];
    const measure = async (t: Target, endpoint: string, mode: LoadSpec['mode'], connections: number) => {
      const spec: LoadSpec = {
        mode,
        target: t.target,
        path: endpoint,
        connections,
        durationMs: DURATION_MS,
        warmupMs: WARMUP_MS,
        tlsDir: client.files.dir,
      };
      const m = await runClient(spec, {
        ...(t.proxyPid !== undefined ? { proxy: t.proxyPid } : {}),
        ...(dockerdPid !== undefined ? { dockerd: dockerdPid } : {}),
      });
      const r: LoadRun = { path: t.name, endpoint, mode, connections, ...m };
      console.error(
        `bench/gateway: ${t.name} ${mode} GET ${endpoint} x${connections}: ${fmt(r.result.rps)} req/s, p50 ${fmt(r.result.p50)} ms, p99 ${fmt(r.result.p99)} ms, errors ${r.result.errors}${r.result.firstError ? ` (${r.result.firstError})` : ''}`,
      );
      return r;
    };
    // The machine is shared, so the paths of one case run interleaved, ROUNDS times in a rotating
    // order, and each path keeps its median round: a burst of other work then hits every path alike.
    const runCase = async (
      group: Target[],
      endpoint: string,
      mode: LoadSpec['mode'],
      connections: number,
    ) => {
      const byPath = new Map<PathName, LoadRun[]>();
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < group.length; i++) {
          const t = group[(i + round) % group.length]!;
          const r = await measure(t, endpoint, mode, connections);
          byPath.set(t.name, [...(byPath.get(t.name) ?? []), r]);
        }
      }
      for (const t of group) {
        const rs = (byPath.get(t.name) ?? []).sort((a, b) => a.result.rps - b.result.rps);
        runs.push(rs[Math.floor((rs.length - 1) / 2)]!);
      }
    };
    for (const endpoint of ['/_ping', '/containers/json']) {
      for (const connections of [8, 64]) await runCase(targets, endpoint, 'keepalive', connections);
    }
    await runCase(
      targets.filter((x) => x.name !== 'unix'),
      '/_ping',
      'connect',
      8,
    );
    console.log(
      `\n### Gateway vs native TLS, HAProxy and the unix socket (${DURATION_MS / 1000} s per run, median of ${ROUNDS} interleaved rounds)\n`,
    );
    console.log(gatewayTable(runs));
    console.log('');

    const nativeOf = (r: LoadRun) =>
      runs.find(
        (n) =>
          n.path === 'native-tls' &&
          n.endpoint === r.endpoint &&
          n.connections === r.connections &&
          n.mode === r.mode,
      );
    const figures: BenchFigure[] = [];
    for (const r of runs) {
      const id = `gateway.${r.path}.${r.mode}.${r.endpoint.replace(/[^a-z]/g, '')}.${r.connections}`;
      const what = `${r.path}: ${r.mode === 'connect' ? 'new TLS connections, ' : ''}GET ${r.endpoint}, ${r.connections} conns`;
      const n = nativeOf(r);
      const ratio = n ? r.result.rps / n.result.rps : undefined;
      const rps = r.result.rps;
      figures.push({
        id: `${id}.rps`,
        label: `${what}${ratio !== undefined ? ` (${ratio.toFixed(2)}× native TLS)` : ''}`,
        unit: 'req/s',
        summary: { n: r.result.requests, median: rps, p99: rps, min: rps, max: rps },
        path: r.path,
        ...(ratio !== undefined ? { ratio } : {}),
        ...(r.path === 'gateway' && r.endpoint === '/_ping' && r.connections === 8 && r.mode === 'keepalive'
          ? { ratioTarget: 0.8 }
          : {}),
        cpu: { clientMs: r.result.clientCpuMs, proxyMs: r.proxyCpuMs, dockerdMs: r.dockerdCpuMs },
      });
      figures.push({
        id: `${id}.latency`,
        label: `${what}: latency`,
        unit: 'ms',
        summary: {
          n: r.result.requests,
          median: r.result.p50,
          p99: r.result.p99,
          min: Number.NaN,
          max: Number.NaN,
        },
        path: r.path,
      });
    }
    return figures;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await dockerd?.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
}

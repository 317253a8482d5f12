// The gateway side by side with dockerd's native TLS, HAProxy and the unix socket itself: same
// daemon, same certificates, same load client (a separate process), loopback only. Also the
// streaming, exec and memory figures of the gateway (bench/streaming.ts, exec.ts, idle.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cLoadClient } from './c-client.js';
import { benchExec } from './exec.js';
import { benchIdleConnections } from './idle.js';
import type { LoadResult, LoadSpec } from './load-client.js';
import type { BenchFigure } from './pki.js';
import { cpuMsOf, type PathName, REPO, type Rig, rssOf, startRig, type Target } from './rig.js';
import { benchStreaming } from './streaming.js';

const LOAD_CLIENT = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const DURATION_MS = Number(process.env['DW_BENCH_LOAD_MS'] ?? 3_000);
const ROUNDS = Number(process.env['DW_BENCH_ROUNDS'] ?? 3);
const WARMUP_MS = 1_000;
// A client run that has not finished by then is killed: every loop stops by itself.
const CLIENT_TIMEOUT_MS = DURATION_MS + WARMUP_MS + 30_000;

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
  /** How many client processes shared the load (1 for the C client). */
  clientProcesses: number;
}

/** Load-client processes per run (the connections split between them): one Node client tops out near one core. */
const CLIENTS = Math.max(1, Number(process.env['DW_BENCH_CLIENTS'] ?? 2));
/**
 * The request-rate client: `c` (default: bench/c/load-client.c, one process, epoll + OpenSSL,
 * about a tenth of the Node client's CPU per request) or `node` (bench/load-client.ts). New-TLS-
 * connection runs always use the Node client.
 */
const CLIENT_KIND = process.env['DW_BENCH_CLIENT'] === 'node' ? 'node' : 'c';
/** A client process above this share of one core is saturated: its run shows no ratio. */
const SATURATED = 0.9;

/** True when some client process was near a full core, so the rate says more about the client. */
export function clientSaturated(r: LoadResult, processes: number): boolean {
  return r.clientCpuMs / processes / r.elapsedMs > SATURATED;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Runs the load in CLIENTS client processes at once (connections split between them) and
 * merges their results; samples the servers' CPU when the first client starts its measured
 * window and when the last one ends it.
 */
export async function runClient(
  spec: LoadSpec,
  pids: { proxy?: number; dockerd?: number },
  clients = Math.min(CLIENTS, spec.connections),
): Promise<{
  result: LoadResult;
  proxyCpuMs: number;
  dockerdCpuMs: number;
  clientProcesses: number;
}> {
  const useC = CLIENT_KIND === 'c' && spec.mode === 'keepalive';
  if (useC) clients = 1;
  const sample = () => ({ proxy: cpuMsOf(pids.proxy), dockerd: cpuMsOf(pids.dockerd) });
  let started = 0;
  let ended = 0;
  let start = { proxy: 0, dockerd: 0 };
  let end = { proxy: 0, dockerd: 0 };
  const one = (connections: number) =>
    new Promise<LoadResult>((resolve, reject) => {
      const child = useC
        ? spawn(
            cLoadClient(),
            [
              spec.target.replace(/^https:\/\//, ''),
              spec.path,
              String(connections),
              String(spec.durationMs),
              String(spec.warmupMs),
              ...(spec.target.startsWith('https://') && spec.tlsDir ? [spec.tlsDir] : []),
            ],
            { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
          )
        : spawn(
            process.execPath,
            ['--import', 'tsx', LOAD_CLIENT, JSON.stringify({ ...spec, connections, samples: true })],
            { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
          );
      let out = '';
      let err = '';
      let sawStart = false;
      let sawEnd = false;
      const timer = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (!sawStart && out.includes('measure-start\n')) {
          sawStart = true;
          if (started++ === 0) start = sample();
        }
        if (!sawEnd && out.includes('measure-end\n')) {
          sawEnd = true;
          if (++ended === clients) end = sample();
        }
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (code !== 0 || line === undefined || !sawEnd) {
          reject(new Error(`load client failed (exit ${code}): ${err.slice(-2000)}`));
          return;
        }
        resolve(JSON.parse(line) as LoadResult);
      });
    });
  const split = Array.from(
    { length: clients },
    (_, i) => Math.floor(spec.connections / clients) + (i < spec.connections % clients ? 1 : 0),
  );
  const results = await Promise.all(split.map(one));
  if (useC) {
    const r = results[0]!;
    return {
      result: r,
      proxyCpuMs: end.proxy - start.proxy,
      dockerdCpuMs: end.dockerd - start.dockerd,
      clientProcesses: 1,
    };
  }
  const latencies = results.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  const firstError = results.find((r) => r.firstError !== undefined)?.firstError;
  return {
    result: {
      requests: results.reduce((a, r) => a + r.requests, 0),
      errors: results.reduce((a, r) => a + r.errors, 0),
      ...(firstError !== undefined ? { firstError } : {}),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
      rps: results.reduce((a, r) => a + r.rps, 0),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      clientCpuMs: results.reduce((a, r) => a + r.clientCpuMs, 0),
    },
    proxyCpuMs: end.proxy - start.proxy,
    dockerdCpuMs: end.dockerd - start.dockerd,
    clientProcesses: clients,
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
    '| path | request | conns | req/s | × native TLS | × HAProxy | p50 ms | p99 ms | p99 − native | client CPU (procs) | proxy CPU | proxy CPU µs/req | dockerd CPU | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const haproxy = (r: LoadRun) =>
    runs.find(
      (n) =>
        n.path === 'haproxy' &&
        n.endpoint === r.endpoint &&
        n.connections === r.connections &&
        n.mode === r.mode,
    );
  // A ratio needs both runs' clients below saturation: otherwise it measures the client.
  const ratio = (r: LoadRun, base: LoadRun | undefined) =>
    !base
      ? '—'
      : clientSaturated(r.result, r.clientProcesses) || clientSaturated(base.result, base.clientProcesses)
        ? 'client saturated'
        : (r.result.rps / base.result.rps).toFixed(2);
  for (const r of runs) {
    const n = native(r);
    const h = haproxy(r);
    const secs = r.result.elapsedMs / 1000;
    const pct = (ms: number) => `${((ms / 1000 / secs) * 100).toFixed(0)}%`;
    lines.push(
      `| ${r.path} | ${r.mode === 'connect' ? 'new TLS conn + ' : ''}GET ${r.endpoint} | ${r.connections} | ${fmt(r.result.rps)} | ${ratio(r, n)} | ${ratio(r, h)} | ${fmt(r.result.p50)} | ${fmt(r.result.p99)} | ${n ? (r.result.p99 - n.result.p99).toFixed(2) : '—'} | ${pct(r.result.clientCpuMs)} (${r.clientProcesses}) | ${r.proxyCpuMs > 0 ? pct(r.proxyCpuMs) : '—'} | ${r.proxyCpuMs > 0 ? fmt((r.proxyCpuMs / r.result.requests) * 1000) : '—'} | ${pct(r.dockerdCpuMs)} | ${r.result.errors} |`,
    );
  }
  return lines.join('\n');
}

/** Which parts run: DW_BENCH_ONLY=load,stream,exec,idle (default: all). */
function enabled(part: 'load' | 'stream' | 'exec' | 'idle'): boolean {
  const only = process.env['DW_BENCH_ONLY'];
  return !only || only.split(',').includes(part);
}

/** The load cases: every path interleaved per case, each keeping its median round. */
async function benchLoad(rig: Rig): Promise<LoadRun[]> {
  const targets = [...rig.targets];
  // DW_BENCH_PATHS=gateway,native-tls measures only those paths (for profiling).
  const only = process.env['DW_BENCH_PATHS']?.split(',');
  if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.includes(t.name)));
  // DW_BENCH_CASES=keepalive:/_ping:8,connect:/_ping:8 runs only those cases.
  const cases = process.env['DW_BENCH_CASES']?.split(',');
  const wanted = (mode: LoadSpec['mode'], endpoint: string, connections: number) =>
    !cases || cases.includes(`${mode}:${endpoint}:${connections}`);
  const runs: LoadRun[] = [];
  const measure = async (t: Target, endpoint: string, mode: LoadSpec['mode'], connections: number) => {
    const spec: LoadSpec = {
      mode,
      target: t.target,
      path: endpoint,
      connections,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
      tlsDir: rig.clientTlsDir,
    };
    const m = await runClient(spec, {
      ...(t.proxyPid !== undefined ? { proxy: t.proxyPid } : {}),
      ...(rig.dockerd.pid !== undefined ? { dockerd: rig.dockerd.pid } : {}),
    });
    const r: LoadRun = { path: t.name, endpoint, mode, connections, ...m };
    console.error(
      `bench/gateway: ${t.name} ${mode} GET ${endpoint} x${connections}: ${fmt(r.result.rps)} req/s, client CPU ${((r.result.clientCpuMs / r.result.elapsedMs / r.clientProcesses) * 100).toFixed(0)}% of a core per process (${r.clientProcesses})${clientSaturated(r.result, r.clientProcesses) ? ' SATURATED' : ''}, p50 ${fmt(r.result.p50)} ms, p99 ${fmt(r.result.p99)} ms, client ${fmt((r.result.clientCpuMs / r.result.requests) * 1000)} µs/req, proxy ${fmt((r.proxyCpuMs / r.result.requests) * 1000)} µs/req, errors ${r.result.errors}${r.result.firstError ? ` (${r.result.firstError})` : ''}`,
    );
    return r;
  };
  // The machine is shared, so the paths of one case run interleaved, ROUNDS times in a rotating
  // order, and each path keeps its median round: a burst of other work then hits every path alike.
  const runCase = async (group: Target[], endpoint: string, mode: LoadSpec['mode'], connections: number) => {
    if (!wanted(mode, endpoint, connections)) return;
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
    for (const connections of [1, 8, 64]) await runCase(targets, endpoint, 'keepalive', connections);
  }
  await runCase(
    targets.filter((x) => x.name !== 'unix'),
    '/_ping',
    'connect',
    8,
  );
  return runs;
}

/** A load figure; the latency ones also carry the p99 overhead over native TLS. */
type GatewayFigure = BenchFigure & { p99OverheadMs?: number };

function loadFigures(runs: readonly LoadRun[]): BenchFigure[] {
  const nativeOf = (r: LoadRun) =>
    runs.find(
      (n) =>
        n.path === 'native-tls' &&
        n.endpoint === r.endpoint &&
        n.connections === r.connections &&
        n.mode === r.mode,
    );
  const figures: GatewayFigure[] = [];
  for (const r of runs) {
    const id = `gateway.${r.path}.${r.mode}.${r.endpoint.replace(/[^a-z]/g, '')}.${r.connections}`;
    const what = `${r.path}: ${r.mode === 'connect' ? 'new TLS connections, ' : ''}GET ${r.endpoint}, ${r.connections} conns`;
    const n = nativeOf(r);
    const ratio = n ? r.result.rps / n.result.rps : undefined;
    const rps = r.result.rps;
    const isTarget =
      r.path === 'gateway' && r.endpoint === '/_ping' && r.connections === 8 && r.mode === 'keepalive';
    figures.push({
      id: `${id}.rps`,
      label: `${what}${ratio !== undefined ? ` (${ratio.toFixed(2)}× native TLS)` : ''}`,
      unit: 'req/s',
      summary: { n: r.result.requests, median: rps, p99: rps, min: rps, max: rps },
      path: r.path,
      ...(ratio !== undefined ? { ratio } : {}),
      ...(isTarget ? { ratioTarget: 0.45 } : {}),
      cpu: { clientMs: r.result.clientCpuMs, proxyMs: r.proxyCpuMs, dockerdMs: r.dockerdCpuMs },
    });
    const over = n ? r.result.p99 - n.result.p99 : undefined;
    // The issue's target: p99 overhead ≤ 1 ms on the target case.
    const overTarget =
      isTarget && over !== undefined ? `; target ≤ 1 ms: ${over <= 1 ? 'met' : 'MISSED'}` : '';
    figures.push({
      id: `${id}.latency`,
      label: `${what}: latency${over !== undefined ? ` (p99 ${over >= 0 ? '+' : ''}${over.toFixed(2)} ms vs native TLS${overTarget})` : ''}`,
      unit: 'ms',
      summary: {
        n: r.result.requests,
        median: r.result.p50,
        p99: r.result.p99,
        min: Number.NaN,
        max: Number.NaN,
      },
      path: r.path,
      ...(over !== undefined ? { p99OverheadMs: over } : {}),
    });
  }
  return figures;
}

/** Starts the rig, measures every path and the gateway's streaming, exec and memory figures, prints the tables. */
export async function benchGateway(): Promise<BenchFigure[]> {
  const rig = await startRig();
  try {
    console.error(`bench/gateway: gateway started as: ${rig.gatewayCommand}`);
    const figures: BenchFigure[] = [];
    // Memory first, while the gateway is fresh: the load runs grow its heap.
    if (enabled('idle')) figures.push(...(await benchIdleConnections(rig)));
    if (enabled('load')) {
      const runs = await benchLoad(rig);
      console.log(
        `\n### Gateway vs native TLS, HAProxy and the unix socket (${DURATION_MS / 1000} s per run, median of ${ROUNDS} interleaved rounds)\n`,
      );
      console.log(gatewayTable(runs));
      console.log('');
      figures.push(...loadFigures(runs));
    }
    if (enabled('stream')) figures.push(...(await benchStreaming(rig)));
    if (enabled('exec')) figures.push(...(await benchExec(rig)));
    const after = rssOf(rig.gateway.pid) / 1e6;
    console.error(`bench/gateway: gateway RSS after all runs ${after.toFixed(1)} MB`);
    figures.push({
      id: 'gateway.rss.after-runs',
      label: 'gateway RSS after all runs (heap grown by the load, not given back)',
      unit: 'MB',
      summary: { n: 1, median: after, p99: after, min: after, max: after },
      path: 'gateway',
    });
    return figures;
  } finally {
    await rig.close();
  }
}

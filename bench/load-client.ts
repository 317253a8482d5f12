// A closed-loop load client, run as its own process so it never shares an event loop with a server:
//   node --import tsx bench/load-client.ts '<LoadSpec as JSON>'
// It prints one LoadResult as JSON on stdout. Every loop stops by itself after `durationMs`.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** What to run: `keepalive` = N connections each sending requests in sequence; `connect` = a new TLS connection per request. */
export interface LoadSpec {
  mode: 'keepalive' | 'connect';
  /** `unix:///path` or `https://127.0.0.1:port`. */
  target: string;
  path: string;
  connections: number;
  durationMs: number;
  warmupMs: number;
  /** For https: ca.pem, cert.pem, key.pem of the client. */
  tlsDir?: string;
  /** Also return every latency (ms), so that several clients' runs can be merged. */
  samples?: boolean;
}

/** What one run measured; latencies in milliseconds, CPU in milliseconds of user+system time. */
export interface LoadResult {
  requests: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  rps: number;
  p50: number;
  p99: number;
  clientCpuMs: number;
  latencies?: number[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

type Send = () => Promise<void>;

function makeSender(spec: LoadSpec): { send: Send; close: () => void } {
  const keepAlive = spec.mode === 'keepalive';
  let request: (cb: (res: http.IncomingMessage) => void) => http.ClientRequest;
  let agent: http.Agent;
  if (spec.target.startsWith('unix://')) {
    const socketPath = spec.target.slice('unix://'.length);
    agent = new http.Agent({ keepAlive, maxSockets: spec.connections });
    request = (cb) =>
      http.request({ socketPath, path: spec.path, method: 'GET', agent, headers: { host: 'docker' } }, cb);
  } else {
    const url = new URL(spec.target);
    const dir = spec.tlsDir ?? '';
    // No session resumption in `connect` mode: every connection pays a full handshake, as a new CLI run does.
    const httpsAgent = new https.Agent({
      keepAlive,
      maxSockets: spec.connections,
      maxCachedSessions: keepAlive ? 100 : 0,
      ca: readFileSync(`${dir}/ca.pem`),
      cert: readFileSync(`${dir}/cert.pem`),
      key: readFileSync(`${dir}/key.pem`),
    });
    agent = httpsAgent;
    request = (cb) =>
      https.request(
        { host: url.hostname, port: Number(url.port), path: spec.path, method: 'GET', agent: httpsAgent },
        cb,
      );
  }
  const send: Send = () =>
    new Promise<void>((resolve, reject) => {
      const req = request((res) => {
        res.on('data', () => undefined);
        res.on('end', () =>
          res.statusCode !== undefined && res.statusCode < 400
            ? resolve()
            : reject(new Error(`HTTP ${res.statusCode}`)),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  return { send, close: () => agent.destroy() };
}

/** Runs the spec: a warm-up (not counted), then the measured window. */
export async function runLoad(
  spec: LoadSpec,
  onPhase: (p: 'start' | 'end') => void = () => undefined,
): Promise<LoadResult> {
  const { send, close } = makeSender(spec);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  const worker = async (deadline: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await send();
        if (measuring) latencies.push(performance.now() - t0);
      } catch (err) {
        if (measuring) errors++;
        firstError ??= (err as Error).message;
        // A failing target must not turn into a busy loop.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const workers = (deadline: number) =>
    Promise.all(Array.from({ length: spec.connections }, () => worker(deadline)));
  await workers(performance.now() + spec.warmupMs);
  measuring = true;
  onPhase('start');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await workers(t0 + spec.durationMs);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  onPhase('end');
  close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    elapsedMs,
    rps: (latencies.length / elapsedMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    ...(spec.samples ? { latencies: latencies.map((l) => Math.round(l * 1000) / 1000) } : {}),
  };
}

if (process.argv[1]?.endsWith('load-client.ts') || process.argv[1]?.endsWith('load-client.js')) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  // The parent samples the servers' CPU on these two lines.
  const result = await runLoad(spec, (p) => process.stdout.write(`measure-${p}\n`));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

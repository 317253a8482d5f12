// `exec` round trip through a hijacked connection: an exec of `cat` with stdin attached; the
// client writes one byte and waits for its echo (one multiplexed stdout frame), N times. Native
// TLS vs the gateway (and the unix socket as the limit), same container, same client code.
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { buildBusyboxImage, requestUnix, runDocker } from '../test/e2e/harness/index.js';
import type { BenchFigure } from './pki.js';
import type { Rig, Target } from './rig.js';
import { summarize } from './stats.js';

const ROUND_TRIPS = Number(process.env['DW_BENCH_EXEC_N'] ?? 500);
const STEP_TIMEOUT_MS = 10_000;

function open(rig: Rig, t: Target): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let s: Duplex;
    if (t.target.startsWith('unix://')) {
      s = netConnect({ path: t.target.slice('unix://'.length) }, () => resolve(s));
    } else {
      const url = new URL(t.target);
      s = tlsConnect(
        {
          host: url.hostname,
          port: Number(url.port),
          ca: readFileSync(join(rig.clientTlsDir, 'ca.pem')),
          cert: readFileSync(join(rig.clientTlsDir, 'cert.pem')),
          key: readFileSync(join(rig.clientTlsDir, 'key.pem')),
          ALPNProtocols: ['http/1.1'],
        },
        () => resolve(s),
      );
    }
    s.once('error', reject);
  });
}

/** Creates an exec of `cat` in the container (over the socket: setup, not measured). */
async function createExec(rig: Rig, container: string): Promise<string> {
  const res = await requestUnix(rig.dockerd.socketPath, `/containers/${container}/exec`, {
    method: 'POST',
    body: { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: ['cat'] },
  });
  if (res.status !== 201) throw new Error(`exec create: HTTP ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { Id: string }).Id;
}

/** Starts the exec through the path (101 Upgrade), then times ROUND_TRIPS one-byte echoes. */
async function roundTrips(rig: Rig, t: Target, execId: string): Promise<number[]> {
  const s = await open(rig, t);
  try {
    const body = JSON.stringify({ Detach: false, Tty: false });
    s.write(
      `POST /exec/${execId}/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    let buf = Buffer.alloc(0);
    let waiter: (() => void) | undefined;
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      waiter?.();
    });
    const waitFor = (pred: () => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        if (pred()) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`exec through ${t.name}: no ${what}`)),
          STEP_TIMEOUT_MS,
        );
        waiter = () => {
          if (pred()) {
            clearTimeout(timer);
            waiter = undefined;
            resolve();
          }
        };
      });
    await waitFor(() => buf.includes('\r\n\r\n'), 'response head');
    const headEnd = buf.indexOf('\r\n\r\n') + 4;
    const head = buf.subarray(0, headEnd).toString('latin1');
    if (!/^HTTP\/1\.1 101/.test(head))
      throw new Error(`exec start through ${t.name}: ${head.split('\r\n')[0]}`);
    buf = buf.subarray(headEnd);
    const out: number[] = [];
    // Each echo is one stdout frame: an 8-byte header and the byte.
    let expected = 0;
    for (let i = 0; i < ROUND_TRIPS + 20; i++) {
      expected += 9;
      const t0 = performance.now();
      s.write('x');
      await waitFor(() => buf.length >= expected, 'echo');
      if (i >= 20) out.push(performance.now() - t0); // the first 20 warm up
    }
    return out;
  } finally {
    s.end();
    s.destroy();
  }
}

/** Round-trip latency of one byte through `docker exec -i C cat`, per path. */
export async function benchExec(rig: Rig): Promise<BenchFigure[]> {
  const env = rig.dockerd.env;
  const image = await buildBusyboxImage(rig.dockerd);
  const run = await runDocker(['run', '-d', '--network', 'none', image, 'sleep', '600'], { env });
  if (run.code !== 0) throw new Error(`docker run failed: ${run.stderr}`);
  const container = run.stdout.trim();
  try {
    const paths = rig.targets.filter((t) => t.name !== 'haproxy');
    const samples = new Map<string, number[]>();
    // Two interleaved rounds per path, each a fresh exec.
    for (let round = 0; round < 2; round++) {
      for (const t of round === 0 ? paths : [...paths].reverse()) {
        const ms = await roundTrips(rig, t, await createExec(rig, container));
        samples.set(t.name, [...(samples.get(t.name) ?? []), ...ms]);
      }
    }
    const figures: BenchFigure[] = [];
    const lines = [
      '| path | exec round trip, 1 byte | p50 ms | p99 ms | p99 − native |',
      '| --- | ---: | ---: | ---: | ---: |',
    ];
    const native = summarize(samples.get('native-tls') ?? []);
    for (const t of paths) {
      const s = summarize(samples.get(t.name) ?? []);
      lines.push(
        `| ${t.name} | ${s.n} | ${s.median.toFixed(3)} | ${s.p99.toFixed(3)} | ${(s.p99 - native.p99).toFixed(3)} |`,
      );
      figures.push({
        id: `gateway.exec.roundtrip.${t.name}`,
        label: `${t.name}: exec round trip (1 byte through cat, hijacked)`,
        unit: 'ms',
        summary: s,
        path: t.name,
      });
      console.error(
        `bench/exec: ${t.name}: p50 ${s.median.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms over ${s.n}`,
      );
    }
    console.log(`\n### exec round trip (${ROUND_TRIPS} × 2 one-byte echoes per path)\n`);
    console.log(lines.join('\n'));
    console.log('');
    return figures;
  } finally {
    await runDocker(['rm', '-f', container], { env }).catch(() => undefined);
  }
}

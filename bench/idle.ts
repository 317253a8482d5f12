// The gateway's memory: RSS when idle, and with 1,000 idle keep-alive TLS connections (each has
// done its mTLS handshake and one GET /_ping, then stays open, as idle docker CLIs and SDK
// clients would). The connections are opened from this process, a few at a time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { BenchFigure } from './pki.js';
import { type Rig, rssOf } from './rig.js';

const CONNECTIONS = Number(process.env['DW_BENCH_IDLE_CONNS'] ?? 1000);
const PARALLEL = 16;
const STEP_TIMEOUT_MS = 10_000;
const MB = 1e6;

/** Opens one mTLS connection, sends one GET /_ping, reads the answer, and leaves it open. */
function openIdle(port: number, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ...tls, ALPNProtocols: ['http/1.1'] }, () => {
      s.write('GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n');
    });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('idle connection: no answer'));
    }, STEP_TIMEOUT_MS);
    const onData = (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n\r\n') && got.endsWith('OK')) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve(s);
      }
    };
    s.on('data', onData);
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Opens CONNECTIONS idle connections to `port`; RSS of `pid` with them open, and per connection. */
async function withIdleConnections(
  port: number,
  pid: number,
  base: number,
  tls: { ca: Buffer; cert: Buffer; key: Buffer },
): Promise<{
  loaded: number;
  alive: number;
  perConnKb: number;
  failures: number;
  firstError?: string;
  openSecs: number;
}> {
  const sockets: TLSSocket[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  try {
    let next = 0;
    const opener = async () => {
      while (next < CONNECTIONS) {
        next++;
        try {
          sockets.push(await openIdle(port, tls));
        } catch (err) {
          failures++;
          firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, opener));
    const openSecs = (performance.now() - t0) / 1000;
    await sleep(2_000);
    const loaded = rssOf(pid);
    const alive = sockets.filter((s) => !s.destroyed).length;
    const perConnKb = alive > 0 ? (loaded - base) / alive / 1024 : Number.NaN;
    return { loaded, alive, perConnKb, failures, openSecs, ...(firstError ? { firstError } : {}) };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/**
 * Gateway RSS idle and with CONNECTIONS idle TLS connections (target ≤ 100 MB), and the same
 * per-connection figure for the bare Node relay (bench/node-pipe.mjs): Node's own floor.
 */
export async function benchIdleConnections(rig: Rig): Promise<BenchFigure[]> {
  const pid = rig.gateway.pid;
  const tls = {
    ca: readFileSync(join(rig.clientTlsDir, 'ca.pem')),
    cert: readFileSync(join(rig.clientTlsDir, 'cert.pem')),
    key: readFileSync(join(rig.clientTlsDir, 'key.pem')),
  };
  // Two readings: 3 s after start (start-up garbage still there) and 10 s, once V8's memory
  // reducer has run, which is what a gateway idle for longer holds. The target is read on the second.
  await sleep(3_000);
  const idleEarly = rssOf(pid);
  await sleep(7_000);
  const idle = rssOf(pid);
  const { loaded, alive, perConnKb, failures, firstError, openSecs } = await withIdleConnections(
    rig.gateway.port,
    pid,
    idle,
    tls,
  );
  console.error(
    `bench/idle: gateway RSS idle ${(idleEarly / MB).toFixed(1)} MB at 3 s, ${(idle / MB).toFixed(1)} MB at 10 s; with ${alive} idle TLS connections ${(loaded / MB).toFixed(1)} MB, ${perConnKb.toFixed(1)} KB each (opened in ${openSecs.toFixed(1)} s, ${failures} failed${firstError ? `: ${firstError}` : ''})`,
  );
  // The bare relay holds one dockerd socket per client connection too (a few KB of it).
  const pipe = rig.targets.find((t) => t.name === 'node-pipe');
  let pipeKb = Number.NaN;
  if (pipe?.proxyPid !== undefined) {
    const pipeIdle = rssOf(pipe.proxyPid);
    const r = await withIdleConnections(Number(new URL(pipe.target).port), pipe.proxyPid, pipeIdle, tls);
    pipeKb = r.perConnKb;
    console.error(
      `bench/idle: node-pipe RSS idle ${(pipeIdle / MB).toFixed(1)} MB; with ${r.alive} idle TLS connections ${(r.loaded / MB).toFixed(1)} MB, ${pipeKb.toFixed(1)} KB each (${r.failures} failed)`,
    );
  }
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    `\n### Gateway memory\n\n| state | RSS | target |\n| --- | ---: | --- |\n| idle, 3 s after start | ${(idleEarly / MB).toFixed(1)} MB | — |\n| idle, 10 s after start | ${(idle / MB).toFixed(1)} MB | ≤ 60 MB: ${verdict(idle <= 60 * MB)} |\n| ${alive} idle keep-alive mTLS connections | ${(loaded / MB).toFixed(1)} MB | ≤ 100 MB: ${verdict(loaded <= 100 * MB)} |\n| per idle mTLS connection | ${perConnKb.toFixed(1)} KB | ≤ 60 KB: ${verdict(perConnKb <= 60)} |\n| per idle mTLS connection, bare Node relay (node-pipe) | ${pipeKb.toFixed(1)} KB | — |\n`,
  );
  const one = (v: number) => ({ n: 1, median: v, p99: v, min: v, max: v });
  return [
    {
      id: 'gateway.rss.idle-early',
      label: 'gateway RSS, idle, 3 s after start',
      unit: 'MB',
      summary: one(idleEarly / MB),
      path: 'gateway',
    },
    {
      id: 'gateway.rss.idle',
      label: 'gateway RSS, idle, 10 s after start',
      unit: 'MB',
      summary: one(idle / MB),
      target: { op: '<', value: 60 },
      path: 'gateway',
    },
    {
      id: 'gateway.rss.per-idle-connection',
      label: 'gateway RSS per idle mTLS connection',
      unit: 'KB',
      summary: one(perConnKb),
      target: { op: '<', value: 60 },
      path: 'gateway',
    },
    {
      id: 'gateway.rss.idle-connections',
      label: `gateway RSS with ${alive} idle TLS connections (${failures} failed to open)`,
      unit: 'MB',
      summary: one(loaded / MB),
      target: { op: '<', value: 100 },
      path: 'gateway',
    },
    ...(Number.isNaN(pipeKb)
      ? []
      : [
          {
            id: 'gateway.rss.per-idle-connection.node-pipe',
            label: 'bare Node mTLS relay (node-pipe) RSS per idle connection',
            unit: 'KB' as const,
            summary: one(pipeKb),
            path: 'node-pipe',
          },
        ]),
  ];
}

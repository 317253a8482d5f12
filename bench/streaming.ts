// Streaming throughput: `docker save` (GET /images/{name}/get) and `docker load` (POST
// /images/load) of an image of 256 MiB of random data, through dockerd's native TLS, the
// gateway, and the unix socket as the limit. The raw API with the same client for every path.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runDocker } from '../test/e2e/harness/index.js';
import type { BenchFigure } from './pki.js';
import { cpuMsOf, type PathName, type Rig, type Target } from './rig.js';
import { summarize } from './stats.js';

const IMAGE = 'dwbench-big:latest';
const SIZE_MIB = Number(process.env['DW_BENCH_STREAM_MIB'] ?? 256);
const ROUNDS = Number(process.env['DW_BENCH_STREAM_ROUNDS'] ?? 3);
const TRANSFER_TIMEOUT_MS = 120_000;
const MiB = 1024 * 1024;

/** One HTTP exchange against a path; resolves with the response body's size once it has ended. */
export function exchange(
  rig: Rig,
  t: Target,
  method: string,
  path: string,
  body?: () => NodeJS.ReadableStream,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    };
    let req: http.ClientRequest;
    if (t.target.startsWith('unix://')) {
      req = http.request(
        {
          socketPath: t.target.slice('unix://'.length),
          method,
          path,
          headers: { host: 'docker', ...headers },
        },
        onResponse,
      );
    } else {
      const url = new URL(t.target);
      req = https.request(
        {
          host: url.hostname,
          port: Number(url.port),
          method,
          path,
          headers,
          agent: false,
          ca: readFileSync(join(rig.clientTlsDir, 'ca.pem')),
          cert: readFileSync(join(rig.clientTlsDir, 'cert.pem')),
          key: readFileSync(join(rig.clientTlsDir, 'key.pem')),
        },
        onResponse,
      );
    }
    req.setTimeout(TRANSFER_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (body) {
      const src = body();
      src.on('error', reject);
      src.pipe(req);
    } else req.end();
  });
}

/** Builds the image: one layer holding SIZE_MIB of random bytes (no registry here), saved once to a tar for the loads. */
async function prepare(rig: Rig, work: string): Promise<string> {
  const dataDir = join(work, 'layer');
  spawnSync('mkdir', ['-p', dataDir]);
  // /dev/urandom through head: fast, and incompressible, so no layer of the path can shortcut it.
  const gen = spawnSync('sh', ['-c', `head -c ${SIZE_MIB * MiB} /dev/urandom > ${dataDir}/random.bin`]);
  if (gen.status !== 0) throw new Error(`cannot write the random file: ${gen.stderr.toString()}`);
  const tarPath = join(work, 'layer.tar');
  const tar = spawnSync('tar', [
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '-C',
    dataDir,
    '-cf',
    tarPath,
    '.',
  ]);
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr.toString()}`);
  rmSync(dataDir, { recursive: true, force: true });
  const imported = await runDocker(['import', tarPath, IMAGE], { env: rig.dockerd.env, timeoutMs: 180_000 });
  if (imported.code !== 0) throw new Error(`docker import failed: ${imported.stderr}`);
  rmSync(tarPath, { force: true });
  // The tar `docker load` reads, saved once over the socket.
  const saved = join(work, 'image.tar');
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      { socketPath: rig.dockerd.socketPath, path: `/images/${IMAGE}/get`, headers: { host: 'docker' } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`save for the load tar: HTTP ${res.statusCode}`));
        else pipeline(res, createWriteStream(saved)).then(resolve, reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
  return saved;
}

/** load-chunked: the same upload without a length, chunk-encoded as the docker CLI sends it. */
type Op = 'save' | 'load' | 'load-chunked';

interface StreamRun {
  path: PathName;
  op: Op;
  mbps: number[];
}

/** Throughput of save and load of a 256 MiB image, per path, interleaved rounds; median MB/s. */
export async function benchStreaming(rig: Rig): Promise<BenchFigure[]> {
  const work = mkdtempSync(join(tmpdir(), 'dw-bench-stream-'));
  try {
    const tarPath = await prepare(rig, work);
    const tarBytes = statSync(tarPath).size;
    const paths = rig.targets.filter((t) => t.name !== 'haproxy');
    const runs: StreamRun[] = [];
    // DW_BENCH_STREAM_OPS=load measures only that direction.
    const ops = (process.env['DW_BENCH_STREAM_OPS'] ?? 'save,load,load-chunked').split(',') as Op[];
    for (const op of ops) {
      const byPath = new Map<PathName, number[]>();
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < paths.length; i++) {
          const t = paths[(i + round) % paths.length]!;
          const cpu0 = {
            self: process.cpuUsage(),
            proxy: cpuMsOf(t.proxyPid),
            dockerd: cpuMsOf(rig.dockerd.pid),
          };
          const t0 = performance.now();
          const r =
            op === 'save'
              ? await exchange(rig, t, 'GET', `/images/${IMAGE}/get`)
              : await exchange(rig, t, 'POST', '/images/load?quiet=1', () => createReadStream(tarPath), {
                  'Content-Type': 'application/x-tar',
                  // Without a length Node's client sends the body chunked, as the docker CLI does.
                  ...(op === 'load' ? { 'Content-Length': String(tarBytes) } : {}),
                });
          const secs = (performance.now() - t0) / 1000;
          if (r.status !== 200) throw new Error(`${op} through ${t.name}: HTTP ${r.status}`);
          const bytes = op === 'save' ? r.bytes : tarBytes;
          const mbps = bytes / 1e6 / secs;
          const self = process.cpuUsage(cpu0.self);
          // CPU over the transfer as a share of one core: client (this process), proxy, dockerd.
          const share = (ms: number) => `${((ms / 1000 / secs) * 100).toFixed(0)}%`;
          console.error(
            `bench/streaming: ${op} through ${t.name}: ${(bytes / MiB).toFixed(0)} MiB in ${secs.toFixed(2)} s = ${mbps.toFixed(0)} MB/s; CPU client ${share((self.user + self.system) / 1000)}, proxy ${share(cpuMsOf(t.proxyPid) - cpu0.proxy)}, dockerd ${share(cpuMsOf(rig.dockerd.pid) - cpu0.dockerd)}`,
          );
          byPath.set(t.name, [...(byPath.get(t.name) ?? []), mbps]);
        }
      }
      for (const t of paths) runs.push({ path: t.name, op, mbps: byPath.get(t.name) ?? [] });
    }
    const figures: BenchFigure[] = [];
    const lines = ['| path | operation | MB/s (median) | × native TLS |', '| --- | --- | ---: | ---: |'];
    for (const r of runs) {
      const s = summarize(r.mbps);
      const native = runs.find((n) => n.op === r.op && n.path === 'native-tls');
      const ratio = native ? s.median / summarize(native.mbps).median : undefined;
      lines.push(
        `| ${r.path} | ${opLabel(r.op)} (${SIZE_MIB} MiB image) | ${s.median.toFixed(0)} | ${ratio?.toFixed(2) ?? '—'} |`,
      );
      figures.push({
        id: `gateway.stream.${r.op}.${r.path}`,
        label: `${r.path}: ${opLabel(r.op)} of a ${SIZE_MIB} MiB image${ratio !== undefined ? ` (${ratio.toFixed(2)}× native TLS)` : ''}`,
        unit: 'MB/s',
        summary: s,
        path: r.path,
        ...(ratio !== undefined ? { ratio } : {}),
        ...(r.path === 'gateway' ? { ratioTarget: r.op === 'load-chunked' ? 0.75 : 0.9 } : {}),
      });
    }
    console.log(
      `\n### Streaming (${SIZE_MIB} MiB image, median of ${ROUNDS} interleaved rounds, MB/s = 10^6 bytes/s)\n`,
    );
    console.log(lines.join('\n'));
    console.log('');
    return figures;
  } finally {
    await runDocker(['image', 'rm', '-f', IMAGE], { env: rig.dockerd.env }).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

function opLabel(op: Op): string {
  return op === 'load-chunked' ? 'docker load (chunked)' : `docker ${op}`;
}

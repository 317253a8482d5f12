// The bench rig: one private dockerd with a native TLS listener, the dockward gateway (the
// compiled CLI, as users run it) in front of its socket, and HAProxy; one PKI for all of them.
import { waitForTcp } from '../src/docker/engine-client.js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { initCa } from '../src/pki/init-ca.js';
import { issueCertificate } from '../src/pki/issue.js';
import { statePaths } from '../src/store/paths.js';
import { freeLoopbackPort, type PrivateDockerd, startDockerd } from '../test/e2e/harness/index.js';
import { listeningChild } from './child.js';
import { haproxyAvailable, startHaproxy } from './haproxy.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
const none = async () => undefined;

/**
 * `gateway-b`: a second build of the gateway (DW_BENCH_GATEWAY_ENTRY_B), to A/B a change in one run.
 * `node-pipe`: a bare Node mTLS relay (bench/node-pipe.mjs), the floor of what Node's TLS allows.
 */
export type PathName = 'unix' | 'native-tls' | 'gateway' | 'gateway-b' | 'haproxy' | 'node-pipe';

export interface Target {
  name: PathName;
  /** `unix:///path` or `https://127.0.0.1:port`. */
  target: string;
  /** The proxy's pid (none for unix and native TLS, where dockerd alone serves). */
  proxyPid?: number;
}

export interface Rig {
  home: string;
  dockerd: PrivateDockerd;
  /** ca.pem, cert.pem, key.pem of the `admin` client certificate. */
  clientTlsDir: string;
  tlsPort: number;
  gateway: { pid: number; port: number };
  targets: Target[];
  /** How the gateway was started (for the notes printed with the table). */
  gatewayCommand: string;
  close(): Promise<void>;
}

/** A process and its descendants (gateway workers), from /proc/PID/task/PID/children. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** user+system CPU of a process and its descendants so far, in ms (Linux /proc, 10 ms ticks). */
export function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  return processTree(pid).reduce((sum, p) => sum + cpuMsOfOne(p), 0);
}

function cpuMsOfOne(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the command: state is field 3, so utime (14) and stime (15) are at 11 and 12
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** Resident set size of a process and its descendants (workers), in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + rssOfOne(p), 0);
}

function rssOfOne(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The compiled CLI entry the gateway runs from: `bin/dockward.js` when `dist/` is newer than every
 * source file (as after `npm ci`), else a fresh build in bench/results/.build (dist/ is left alone).
 * Users run the compiled code, so the bench must not measure tsx's loader.
 */
export function gatewayEntry(): string {
  const override = process.env['DW_BENCH_GATEWAY_ENTRY'];
  if (override) return override;
  const dist = join(REPO, 'dist', 'index.js');
  if (existsSync(dist) && statSync(dist).mtimeMs >= newestSourceMtime(join(REPO, 'src'))) {
    return join(REPO, 'bin', 'dockward.js');
  }
  const out = join(REPO, 'bench', 'results', '.build');
  console.error('bench: dist/ is older than src/: compiling the CLI into bench/results/.build');
  // tsc emits even when some unrelated file has a type error; the entry's presence is what counts.
  spawnSync(
    process.execPath,
    [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out],
    {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const entry = join(out, 'index.js');
  if (!existsSync(entry)) throw new Error('bench: could not compile the CLI (npm run build to see why)');
  return entry;
}

/** Starts the gateway CLI as a child process (so it has an event loop of its own). */
async function startGatewayProcess(
  home: string,
  port: number,
  upstream: string,
  tlsDir: string,
  logPath: string,
  entry: string,
): Promise<{ pid: number; command: string; stop: () => Promise<void> }> {
  const args = [
    // e.g. DW_BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where its time goes
    ...(process.env['DW_BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
    ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
    entry,
    '--home',
    home,
    'gateway',
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    upstream,
    '--tls-dir',
    tlsDir,
    // The idle run opens 1,000 connections with one certificate (the default allows 256 per CN).
    '--max-connections-per-identity',
    '4096',
    // DW_BENCH_GATEWAY_WORKERS=N: the gateway's --workers (default: the CLI's, the cores up to 4)
    ...(process.env['DW_BENCH_GATEWAY_WORKERS']
      ? ['--workers', process.env['DW_BENCH_GATEWAY_WORKERS']]
      : []),
  ];
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  if (!(await waitForTcp('127.0.0.1', port, 20_000)) || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(`the gateway did not listen on ${port}: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
  }
  return {
    pid: child.pid,
    command: `node ${args.map((a) => a.replace(REPO, '').replace(home, '$HOME')).join(' ')}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}

/** Starts bench/node-pipe.mjs (plain Node, no loader) and waits for its port. */
async function startNodePipe(
  port: number,
  socketPath: string,
  tlsDir: string,
  logPath: string,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [join(REPO, 'bench', 'node-pipe.mjs'), String(port), socketPath, tlsDir],
      { stdio: ['ignore', fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
  return listeningChild(
    child,
    port,
    () => `bench/node-pipe.mjs did not listen on ${port}: ${readFileSync(logPath, 'utf8')}`,
  );
}

/** Starts everything; `close` stops it all and removes the temp folders. */
export async function startRig(): Promise<Rig> {
  if (!haproxyAvailable()) console.error('bench: haproxy not found, the HAProxy path is skipped');
  const home = mkdtempSync(join(tmpdir(), 'dw-bench-gw-'));
  const paths = statePaths(home);
  const stops: Array<() => Promise<void>> = [];
  let dockerd: PrivateDockerd | undefined;
  const close = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await dockerd?.cleanup();
    rmSync(home, { recursive: true, force: true });
  };
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
    const gwPort = await freeLoopbackPort();
    const gw = await startGatewayProcess(
      home,
      gwPort,
      dockerd.host,
      server.files.dir,
      join(home, 'gateway.log'),
      gatewayEntry(),
    );
    stops.push(gw.stop);
    const targets: Target[] = [
      { name: 'unix', target: dockerd.host },
      { name: 'native-tls', target: `https://127.0.0.1:${tlsPort}` },
      { name: 'gateway', target: `https://127.0.0.1:${gwPort}`, proxyPid: gw.pid },
    ];
    const entryB = process.env['DW_BENCH_GATEWAY_ENTRY_B'];
    if (entryB) {
      const port = await freeLoopbackPort();
      const b = await startGatewayProcess(
        home,
        port,
        dockerd.host,
        server.files.dir,
        join(home, 'gateway-b.log'),
        entryB,
      );
      stops.push(b.stop);
      targets.push({ name: 'gateway-b', target: `https://127.0.0.1:${port}`, proxyPid: b.pid });
    }
    {
      const port = await freeLoopbackPort();
      const pipe = await startNodePipe(
        port,
        dockerd.socketPath,
        server.files.dir,
        join(home, 'node-pipe.log'),
      );
      stops.push(pipe.stop);
      targets.push({ name: 'node-pipe', target: `https://127.0.0.1:${port}`, proxyPid: pipe.pid });
    }
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
    return {
      home,
      dockerd,
      clientTlsDir: client.files.dir,
      tlsPort,
      gateway: { pid: gw.pid, port: gwPort },
      targets,
      gatewayCommand: gw.command,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

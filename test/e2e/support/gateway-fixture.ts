// A PKI and a gateway made the way a user makes them: the built `dockward` binary with `--home` a
// temp folder (`pki init`, `pki issue`, `gateway ...`). What the gateway decided is read from its
// `--audit-log` file and its JSON log lines on stderr, never from its insides.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DOCKWARD_ENTRY,
  freeLoopbackPort,
  type PrivateDockerd,
  type RunResult,
  REPO_ROOT,
  runDockward,
} from '../harness/index.js';

/** A PKI folder (`--home`) as `dockward pki` lays it out. */
export interface Pki {
  home: string;
  caCert: string;
  crl: string;
  issuedDir(name: string): string;
  /** Runs `dockward --home HOME ...args`; throws with its output when it does not exit 0. */
  dockward(args: readonly string[]): Promise<RunResult>;
  dispose(): void;
}

/** A clean environment for dockward: no DOCKER_* or DOCKWARD_* of the machine, JSON logs. */
export function dockwardEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('DOCKER_') && !k.startsWith('DOCKWARD_')) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs the binary and insists on exit 0 (a fixture step, not the behaviour under test). */
export async function dockwardOk(args: readonly string[], env = dockwardEnv()): Promise<RunResult> {
  const res = await runDockward(args, { env });
  if (res.code !== 0) {
    throw new Error(`dockward ${args.join(' ')} exited ${res.code}:\n${res.stderr}\n${res.stdout}`);
  }
  return res;
}

/** Opens a PKI folder that already exists (made by `pki init` or `up`). */
export function pkiAt(home: string, dispose: () => void = () => undefined): Pki {
  return {
    home,
    caCert: join(home, 'pki', 'ca.pem'),
    crl: join(home, 'pki', 'crl.pem'),
    issuedDir: (name) => join(home, 'pki', 'issued', name),
    dockward: (args) => dockwardOk(['--home', home, ...args]),
    dispose,
  };
}

/** `dockward pki init` in a temp folder, then `pki issue client NAME [--ou OU]` for each client. */
export async function makePki(clients: Record<string, string | undefined>): Promise<Pki> {
  const home = mkdtempSync(join(tmpdir(), 'dw-e2e-pki-'));
  const pki = pkiAt(home, () => rmSync(home, { recursive: true, force: true }));
  await pki.dockward(['pki', 'init']);
  for (const [name, ou] of Object.entries(clients)) {
    await pki.dockward(['pki', 'issue', 'client', name, ...(ou ? ['--ou', ou] : [])]);
  }
  return pki;
}

/** One pino line the gateway wrote on stderr. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** One record of the gateway's audit log (docs/audit-log.md). */
export interface AuditRecord {
  type: 'request' | 'response' | 'connection';
  seq: number;
  event?: string;
  endpoint?: string | null;
  decision?: 'allow' | 'deny';
  rule?: string;
  reason?: string;
  status?: number;
  identity?: { cn: string; ou?: string[]; serial: string } | null;
  client?: { address: string; port: number };
  [key: string]: unknown;
}

export interface GatewayOptions {
  allow?: string[];
  metrics?: string;
  policy?: string;
  closeRevoked?: boolean;
  headersTimeoutMs?: number;
  /** The audit log file; default `<home>/audit/gateway-<port>.log`. */
  auditLog?: string;
  auditFeed?: string;
  /** More arguments after `gateway`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface GatewayProcess {
  port: number;
  pid: number;
  auditLog: string;
  child: ChildProcess;
  /** docker CLI environment for a client certificate of the PKI. */
  envFor(client: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** The audit log's records so far. */
  records(): AuditRecord[];
  /** The audit log's `request` records (the decisions), `response` records and `connection` records. */
  decisions(): AuditRecord[];
  completions(): AuditRecord[];
  connections(): AuditRecord[];
  /** The gateway's log lines so far (pino JSON on stderr). */
  logs(): LogLine[];
  stderr(): string;
  /** SIGHUP, then the outcome the gateway logs: `reloaded ...` or `reload failed ...` (with why). */
  reload(): Promise<{ ok: boolean; error?: string }>;
  /** Waits for the next reload the gateway logs after `since` log lines (a file change triggers it). */
  nextReload(since: number, timeoutMs?: number): Promise<{ ok: boolean; error?: string }>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Polls until check() holds or the bound passes; returns whether it held. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  boundMs = 10_000,
  stepMs = 50,
): Promise<boolean> {
  const end = Date.now() + boundMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

function parseLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** The args of `dockward gateway` for these options (without --listen). */
export function gatewayArgs(
  pki: Pki,
  dockerd: PrivateDockerd,
  port: number,
  auditLog: string,
  o: GatewayOptions,
): string[] {
  return [
    '--home',
    pki.home,
    'gateway',
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    dockerd.host,
    '--audit-log',
    auditLog,
    ...(o.allow ?? []).flatMap((a) => ['--allow', a]),
    ...(o.metrics ? ['--metrics', o.metrics] : []),
    ...(o.policy ? ['--policy', o.policy] : []),
    ...(o.closeRevoked ? ['--close-revoked'] : []),
    ...(o.headersTimeoutMs ? ['--headers-timeout', String(o.headersTimeoutMs)] : []),
    ...(o.auditFeed ? ['--audit-feed', o.auditFeed] : []),
    // Two workers unless a suite says otherwise: the suites then cover the cluster path (records
    // sent to the primary's one audit log, reload and stop of every worker), which the CLI's
    // default (the cores less one) leaves out on a 2-core machine. Single-process gateways are
    // covered by the suites that start `dockward gateway` / `up` themselves.
    ...(o.args?.includes('--workers') ? [] : ['--workers', '2']),
    ...(o.args ?? []),
  ];
}

/** Starts `dockward gateway` in front of a private dockerd's socket; resolves once it listens. */
export async function startGateway(
  dockerd: PrivateDockerd,
  pki: Pki,
  options: GatewayOptions = {},
): Promise<GatewayProcess> {
  const port = await freeLoopbackPort();
  const auditLog = options.auditLog ?? join(pki.home, 'audit', `gateway-${port}.log`);
  const child = spawn(
    process.execPath,
    [DOCKWARD_ENTRY, ...gatewayArgs(pki, dockerd, port, auditLog, options)],
    {
      env: options.env ?? dockwardEnv(),
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stdout!.resume();
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let exitedEarly: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exit.then((e) => {
    exitedEarly = e;
  });
  const logs = () => parseLines<LogLine>(err);
  const records = () => (existsSync(auditLog) ? parseLines<AuditRecord>(readFileSync(auditLog, 'utf8')) : []);
  const listening = await eventually(
    () => exitedEarly !== undefined || logs().some((l) => l.msg === 'gateway listening'),
    30_000,
  );
  if (!listening || exitedEarly) {
    child.kill('SIGKILL');
    throw new Error(`dockward gateway did not start (exit ${JSON.stringify(exitedEarly)}):\n${err}`);
  }
  const reloadOutcome = (l: LogLine) => l.msg.startsWith('reloaded') || l.msg.startsWith('reload failed');
  const nextReload = async (since: number, timeoutMs = 15_000) => {
    let found: LogLine | undefined;
    await eventually(() => {
      found = logs().slice(since).find(reloadOutcome);
      return found !== undefined;
    }, timeoutMs);
    if (!found) throw new Error(`no reload logged within ${timeoutMs} ms:\n${err}`);
    if (found.msg.startsWith('reloaded')) return { ok: true };
    const why = found['err'] ?? found;
    return { ok: false, error: typeof why === 'string' ? why : JSON.stringify(why) };
  };
  return {
    port,
    pid: child.pid!,
    auditLog,
    child,
    envFor: (client, extra = {}) => ({
      ...dockerd.env,
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: pki.issuedDir(client),
      ...extra,
    }),
    records,
    decisions: () => records().filter((r) => r.type === 'request'),
    completions: () => records().filter((r) => r.type === 'response'),
    connections: () => records().filter((r) => r.type === 'connection'),
    logs,
    stderr: () => err,
    reload: async () => {
      const since = logs().length;
      child.kill('SIGHUP');
      return nextReload(since);
    },
    nextReload,
    stop: async () => {
      if (exitedEarly) return exitedEarly;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const e = await exit;
      clearTimeout(killer);
      return e;
    },
    exited: () => exit,
  };
}

/** A client's TLS files as Node's https options take them (cert and key left out: no certificate). */
export interface ClientFiles {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** The ca.pem, cert.pem and key.pem of an issued folder. */
export function filesOf(dir: string): ClientFiles {
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  };
}

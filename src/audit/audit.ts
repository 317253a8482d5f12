/**
 * `runAudit`: collects the facts a target allows, runs the rules, returns the report.
 * - local (a unix socket on this host): the dockerd serving it (/proc), its files read from `/`,
 *   its real listeners probed on loopback, and the live API; the API runs alongside the rest.
 * - remote (`tcp://`, or a context naming one): the API, plus a probe of the target's own
 *   address; files, certificates and the rest are `missing`, so their rules are skipped.
 * - root (an offline tree): the files only; listeners from the configuration, never probed.
 */
import { endpointFromHost } from '../docker/engine-client.js';
import {
  collectEngine,
  type ResolvedEndpoint,
  resolveEngineEndpoint,
  type TlsFiles,
} from './collect/engine.js';
import { collectFilesystemFacts } from './collect/filesystem.js';
import { collectFirewall } from './collect/firewall.js';
import { applyProbe, collectListeners, probeOnce } from './collect/listeners.js';
import { findDockerdForSocket } from './collect/process.js';
import { runRules, selectRules, summarize } from './engine.js';
import type { AuditFacts, AuditReport, AuditTarget, Fact, ListenerFact } from './model.js';
import { ALL_RULES } from './rules/index.js';

export interface AuditOptions {
  /** Client TLS files for a tcp target (`--tlscacert/--tlscert/--tlskey`). */
  tls?: TlsFiles;
  /** A docker context name; its TLS files are used when no flags give any. */
  context?: string;
  /** Rule ids or CIS numbers to run / leave out (`tls-auth`, `2.7`, `3`). */
  include?: readonly string[];
  exclude?: readonly string[];
  now?: Date;
  /** Environment for `DOCKER_CERT_PATH` / `DOCKER_CONFIG` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Deadline of each API request and probe (default 10 s for the API, 2 s per probe). */
  timeoutMs?: number;
}

const notHere = (reason: string) => ({ state: 'missing', reason }) as const;

/**
 * Which target a `--host` / `--context` / `--root` choice audits: a unix socket is this host
 * (the dockerd serving it is found in /proc), `tcp://` is remote, `--root` an offline tree.
 */
export async function targetOf(options: {
  host?: string;
  context?: string;
  root?: string;
  tls?: TlsFiles;
  env?: NodeJS.ProcessEnv;
}): Promise<{ target: AuditTarget; resolved?: ResolvedEndpoint }> {
  if (options.root !== undefined) return { target: { kind: 'root', root: options.root } };
  const resolved = await resolveEngineEndpoint({
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.context !== undefined ? { context: options.context } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const kind = resolved.endpoint.kind === 'unix' ? 'local' : 'remote';
  return { target: { kind, host: resolved.host }, resolved };
}

/** Audits one target; never throws for an unreachable daemon or an unreadable file (they become findings). */
export async function runAudit(target: AuditTarget, options: AuditOptions = {}): Promise<AuditReport> {
  const rules = selectRules(ALL_RULES, {
    ...(options.include ? { include: options.include } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
  });
  const facts = await collectFacts(target, options);
  const report = runRules(facts, rules);
  if (!excludesInput(options.exclude)) return report;
  const findings = report.findings.filter((f) => f.id !== 'audit-input');
  return { findings, summary: summarize(findings, report.summary.target) };
}

function excludesInput(exclude: readonly string[] | undefined): boolean {
  return (exclude ?? []).flatMap((s) => s.split(',')).some((s) => s.trim() === 'audit-input');
}

/** Gathers every fact the target allows, concurrently where the facts do not depend on each other. */
export async function collectFacts(target: AuditTarget, options: AuditOptions = {}): Promise<AuditFacts> {
  const now = options.now ?? new Date();
  const engineOpts = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
  if (target.kind === 'root') {
    const files = await collectFilesystemFacts({ root: target.root, now });
    const listeners = await collectListeners({
      config: files.config,
      socketUnit: files.socketUnit,
      probe: false,
    });
    return {
      target,
      now,
      ...files,
      listeners,
      firewall: await collectFirewall({ root: target.root, live: false }),
      engine: notHere(`--root ${target.root} is an offline tree: no daemon to ask`),
    };
  }

  const resolved = await resolveEngineEndpoint({
    host: target.host,
    ...(options.context !== undefined ? { context: options.context } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const engine = collectEngine(resolved.endpoint, engineOpts);

  if (target.kind === 'remote') {
    const why = `${target.host} is audited through its API only: host files are not readable from here`;
    const [engineFact, listeners] = await Promise.all([engine, probeTarget(target.host, options.timeoutMs)]);
    return {
      target,
      now,
      config: notHere(why),
      socketUnit: notHere(why),
      files: notHere(why),
      certs: notHere(why),
      keys: notHere(why),
      dockerGroup: notHere(why),
      firewall: notHere(why),
      listeners,
      engine: engineFact,
    };
  }

  const local = (async () => {
    const endpoint = endpointFromHost(target.host);
    const socketPath = endpoint.kind === 'unix' ? endpoint.socketPath : target.host;
    const proc = await findDockerdForSocket(socketPath);
    const files = await collectFilesystemFacts({
      root: '/',
      ...(proc ? { argv: { where: proc.where, args: proc.args } } : {}),
      now,
    });
    const listeners = await collectListeners({
      ...(proc ? { pid: proc.pid } : {}),
      config: files.config,
      socketUnit: files.socketUnit,
      probe: true,
      ...(options.timeoutMs !== undefined ? { timeoutMs: Math.min(options.timeoutMs, 2_000) } : {}),
    });
    const firewall = await collectFirewall({ live: true });
    return { files, listeners, firewall };
  })();
  const [engineFact, { files, listeners, firewall }] = await Promise.all([engine, local]);
  return { target, now, ...files, listeners, firewall, engine: engineFact };
}

/** The remote daemon's own address, probed for plain HTTP and for TLS without a client certificate. */
async function probeTarget(host: string, timeoutMs = 2_000): Promise<Fact<ListenerFact[]>> {
  const endpoint = endpointFromHost(host);
  if (endpoint.kind !== 'tcp') return notHere(`${host} is not a tcp address`);
  const fact: ListenerFact = { address: endpoint.host, port: endpoint.port, seenIn: ['target'] };
  applyProbe(fact, await probeOnce(endpoint.host, endpoint.port, Math.min(timeoutMs, 5_000)));
  return { state: 'ok', value: [fact] };
}

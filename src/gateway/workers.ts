/**
 * `dockward gateway --workers N`: N worker processes (node:cluster) share the listener; each runs
 * the whole gateway (TLS, HTTP layer, pipeline, upstream pool) on the connections it accepts.
 * What must stay single is the audit log: one ordered, hash-chained file. So the primary process
 * keeps the log (and the live feed, and the metrics listener, which sums the workers' metrics),
 * and every worker sends its records to it over IPC; a decision record is acknowledged only once
 * the primary has handed it to the OS, so "no record, no request" holds across processes.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import {
  type AuditSink,
  type CompletionRecord,
  type ConnectionRecord,
  type DecisionRecord,
  NULL_AUDIT_SINK,
} from './audit-sink.js';
import type { GatewayLimits } from './limits.js';
import type { MetricsRegistry } from './metrics.js';
import type { TlsFiles } from './tls-material.js';

/** The default worker count is at most this many. */
export const MAX_DEFAULT_WORKERS = 4;

/**
 * The default worker count: the machine's cores less one, at least 1, at most 4. dockerd runs on
 * the same host and needs a core for every request the gateway forwards: measured on 2 cores
 * (docs/performance.md), one worker served 10-32% more requests than two, with less CPU each.
 */
export function defaultWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores - 1, MAX_DEFAULT_WORKERS));
}

/** Everything a worker needs to run the gateway: plain data, sent over IPC. */
export interface WorkerConfig {
  listenHost: string;
  listenPort: number;
  tls: TlsFiles;
  allow: string[];
  upstream: string;
  upstreamTlsDir?: string;
  policyFile?: string;
  watchFiles: string[];
  closeRevoked: boolean;
  headersTimeoutMs?: number;
  /** Each worker keeps its own counts: per-identity limits hold per worker. */
  limits?: GatewayLimits;
  auditRate?: number;
  /** The primary serves /metrics: only then do workers count in prom-client (loaded for it). */
  metrics: boolean;
  /** False without --audit-log: workers then send no records at all (no IPC per request). */
  audit: boolean;
  /** Connection ids are `connIdStart + k * connIdStep`: unique across workers in the one log. */
  connIdStart: number;
  connIdStep: number;
}

export type PrimaryMessage =
  | { dw: 'config'; config: WorkerConfig }
  | { dw: 'ack'; id: number; error?: string }
  | { dw: 'reload'; allow?: string[] }
  | { dw: 'stop'; deadlineMs: number };

export type WorkerMessage =
  | { dw: 'hello' }
  | { dw: 'ready' }
  | { dw: 'failed'; error: string }
  | { dw: 'decision'; id: number; record: DecisionRecord }
  | { dw: 'completion'; record: CompletionRecord }
  | { dw: 'connection'; record: ConnectionRecord };

function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { dw?: unknown }).dw === 'string';
}

/** The worker's audit sink: every record goes to the primary's one writer. */
export function ipcAuditSink(): AuditSink {
  let nextId = 1;
  const waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  process.on('message', (m: PrimaryMessage) => {
    if (m?.dw !== 'ack') return;
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(m.error));
    else w.resolve();
  });
  process.on('disconnect', () => {
    for (const w of waiting.values()) w.reject(new Error('the audit writer (primary process) is gone'));
    waiting.clear();
  });
  const send = (m: WorkerMessage) => {
    if (process.connected) process.send?.(m);
  };
  return {
    decision: (record) =>
      new Promise<void>((resolve, reject) => {
        if (!process.connected) {
          reject(new Error('the audit writer (primary process) is gone'));
          return;
        }
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        send({ dw: 'decision', id, record });
      }),
    completion: (record) => send({ dw: 'completion', record }),
    connection: (record) => send({ dw: 'connection', record }),
    close: async () => undefined,
  };
}

export interface WorkerPool {
  /** The metrics of all workers, summed (for the primary's /metrics); only with `metrics`. */
  readonly registry: MetricsRegistry | undefined;
  health(): { ok: boolean; workers: number; alive: number };
  reload(allow?: string[]): void;
  stop(deadlineMs?: number): Promise<void>;
}

/** Forks `count` workers, relays their records into `audit`, resolves once all listen. */
export async function startWorkers(
  count: number,
  config: Omit<WorkerConfig, 'connIdStart' | 'connIdStep' | 'audit'>,
  audit: AuditSink,
  logger: Logger,
): Promise<WorkerPool> {
  const here = fileURLToPath(import.meta.url);
  cluster.setupPrimary({
    exec: here.replace(/workers(\.[cm]?[jt]s)$/, `worker-main${extname(here)}`),
    args: [],
  });
  // prom-client only when the metrics are served (the workers load it on the same condition).
  const aggregator = config.metrics ? new (await import('prom-client')).AggregatorRegistry() : undefined;
  const workers: Worker[] = [];
  let stopping = false;
  const relay = (worker: Worker, m: unknown) => {
    if (!isWorkerMessage(m)) return;
    switch (m.dw) {
      case 'decision':
        audit.decision(m.record).then(
          () => worker.isConnected() && worker.send({ dw: 'ack', id: m.id } satisfies PrimaryMessage),
          (err: unknown) =>
            worker.isConnected() &&
            worker.send({ dw: 'ack', id: m.id, error: describeError(err) } satisfies PrimaryMessage),
        );
        break;
      case 'completion':
        audit.completion(m.record);
        break;
      case 'connection':
        audit.connection(m.record);
        break;
      default:
        break;
    }
  };
  // A stop signal during start-up is the caller's: the gateway command listens for SIGTERM and
  // SIGINT from its first step (stopSignalFromNow), and stops the workers once they are ready.
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const worker = cluster.fork({ DOCKWARD_GATEWAY_WORKER: String(i + 1) });
    workers.push(worker);
    worker.on('message', (m: unknown) => relay(worker, m));
    ready.push(
      new Promise<void>((resolve, reject) => {
        const onMessage = (m: unknown) => {
          if (!isWorkerMessage(m)) return;
          // The worker listens for its configuration only once its modules have loaded.
          if (m.dw === 'hello') {
            worker.send({
              dw: 'config',
              config: { ...config, connIdStart: i + 1, connIdStep: count, audit: audit !== NULL_AUDIT_SINK },
            } satisfies PrimaryMessage);
          }
          if (m.dw === 'ready') resolve();
          if (m.dw === 'failed') reject(new Error(m.error));
        };
        worker.on('message', onMessage);
        worker.once('exit', (code) =>
          reject(new Error(`gateway worker ${i + 1} exited (${code}) before listening`)),
        );
      }),
    );
    worker.on('exit', (code, signal) => {
      if (!stopping) logger.error({ worker: i + 1, code, signal }, 'a gateway worker exited');
    });
  }
  const killAll = () => {
    for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
  };
  try {
    await Promise.all(ready);
  } catch (err) {
    stopping = true;
    killAll();
    throw err;
  }
  logger.info({ workers: count }, 'gateway workers listening');
  return {
    registry: aggregator && {
      contentType: aggregator.contentType,
      metrics: () => aggregator.clusterMetrics(),
    },
    health: () => {
      const alive = workers.filter((w) => !w.isDead()).length;
      return { ok: !stopping && alive === count, workers: count, alive };
    },
    reload: (allow) => {
      for (const w of workers)
        if (w.isConnected()) w.send({ dw: 'reload', ...(allow ? { allow } : {}) } satisfies PrimaryMessage);
    },
    stop: async (deadlineMs = 10_000) => {
      stopping = true;
      const exits = workers.map((w) =>
        w.isDead() ? Promise.resolve() : new Promise<void>((resolve) => w.once('exit', () => resolve())),
      );
      for (const w of workers)
        if (w.isConnected()) w.send({ dw: 'stop', deadlineMs } satisfies PrimaryMessage);
      const timer = setTimeout(killAll, deadlineMs + 5000);
      await Promise.all(exits);
      clearTimeout(timer);
    },
  };
}

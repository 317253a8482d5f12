/**
 * Wires the monitor: rules loaded all-or-nothing, sources → engine → every sink, an optional
 * Prometheus listener, and a stop that ends the sources first and then flushes the sinks.
 */
import { promises as fs } from 'node:fs';
import type { Server } from 'node:http';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeEndpoint, type EngineEndpoint, endpointFromHost } from '../docker/engine-client.js';
import { DockwardError, describeError } from '../errors.js';
import { findHost, loadInventory, readClientTls } from '../fleet/inventory.js';
import { startMetricsServer } from '../gateway/metrics.js';
import { parseHostPort } from '../gateway/run.js';
import type { StatePaths } from '../store/paths.js';
import { createEngine, loadRuleSet, MonitorMetrics } from './engine/index.js';
import type { Alert, AlertSink, EventSource, RawEvent } from './model.js';
import { openSink, parseSinkSpec, type SinkSpec } from './sinks/index.js';
import { AuditFeedSource, feedSocketPath } from './sources/audit-feed.js';
import { AuditLogSource } from './sources/audit-log.js';
import { DockerEventsSource } from './sources/docker-events.js';

/** TLS files for `tcp://` daemons given by URL (the docker CLI's --tlscacert/--tlscert/--tlskey). */
export interface DockerTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface MonitorOptions {
  auditLogs: string[];
  /** Live feeds of running gateways: `unix:///path` (`dockward gateway --audit-feed`). */
  auditFeeds?: string[];
  /** `unix:///path`, `tcp://host:port`, or the name of a `dockward hosts` entry. */
  dockers: string[];
  dockerTls?: DockerTlsFiles;
  rules: string[];
  defaultRules: boolean;
  sinks: string[];
  /** stdout sink prints JSON lines. */
  json: boolean;
  metrics?: string;
  fromStart: boolean;
  /** Webhook spool root (default `<home>/monitor/spool`). */
  spoolDir?: string;
  /** First reconnect delay of docker and audit-feed sources (default 250 ms). */
  reconnectDelayMs?: number;
  hostname?: string;
  stdout?: { write(chunk: string): unknown };
}

export interface RunningMonitor {
  /** Where metrics are served, when asked for (the port is the real one for `:0`). */
  metricsAddress: { host: string; port: number } | undefined;
  sources: readonly EventSource[];
  sinks: readonly AlertSink[];
  /** Alerts handed to sinks so far. */
  readonly alerts: number;
  /** Stops the sources, waits for the alerts in flight, closes (flushes) every sink. */
  stop(): Promise<void>;
}

/** The webhook spool root in the state folder. */
export function monitorSpoolDir(paths: StatePaths): string {
  return join(paths.home, 'monitor', 'spool');
}

/** Checks options and reads every rule file before anything starts; throws DockwardError. */
export async function prepareMonitor(
  paths: StatePaths,
  options: MonitorOptions,
): Promise<{ ruleSet: ReturnType<typeof loadRuleSet>; sinks: SinkSpec[]; dockers: DockerTarget[] }> {
  const feeds = options.auditFeeds ?? [];
  if (options.auditLogs.length === 0 && feeds.length === 0 && options.dockers.length === 0) {
    throw new DockwardError('DW_E_USAGE', 'monitor needs at least one source', {
      hint: 'Pass --audit-log FILE (the gateway log) or --audit-feed unix:///PATH (its live feed), and/or --docker unix:///var/run/docker.sock.',
    });
  }
  for (const url of feeds) feedSocketPath(url);
  const sinks = (options.sinks.length > 0 ? options.sinks : ['stdout']).map(parseSinkSpec);
  if (options.metrics) parseHostPort(options.metrics, '--metrics');
  const files: { text: string; path: string }[] = [];
  for (const path of options.rules) {
    try {
      files.push({ text: await fs.readFile(path, 'utf8'), path });
    } catch (err) {
      throw new DockwardError('DW_E_USAGE', `cannot read the rules file ${path}: ${describeError(err)}`, {
        hint: 'Check the --rules path.',
        cause: err,
      });
    }
  }
  const ruleSet = loadRuleSet({ files, defaults: options.defaultRules });
  const dockers: DockerTarget[] = [];
  for (const d of options.dockers) dockers.push(await resolveDocker(paths, d, options.dockerTls ?? {}));
  return { ruleSet, sinks, dockers };
}

export interface DockerTarget {
  origin: string;
  endpoint: EngineEndpoint;
}

/** `unix:///p` | `tcp://h:p` (TLS from the files given) | a hosts-inventory name. */
export async function resolveDocker(
  paths: StatePaths,
  text: string,
  tls: DockerTlsFiles,
): Promise<DockerTarget> {
  if (text.startsWith('unix://') || text.startsWith('tcp://')) {
    let endpoint: EngineEndpoint;
    try {
      endpoint = endpointFromHost(text);
    } catch {
      throw new DockwardError('DW_E_USAGE', `--docker "${text}" is not a daemon URL`, {
        hint: 'Write --docker unix:///var/run/docker.sock or --docker tcp://HOST:2376, or a `dockward hosts` name.',
      });
    }
    if (endpoint.kind === 'unix' && endpoint.socketPath === '') {
      throw new DockwardError('DW_E_USAGE', `--docker "${text}" has no socket path`, {
        hint: 'Write --docker unix:///var/run/docker.sock.',
      });
    }
    if (endpoint.kind === 'tcp') {
      if (!tls.ca) {
        throw new DockwardError(
          'DW_E_USAGE',
          `--docker ${text} needs TLS: --tlscacert, --tlscert and --tlskey`,
          {
            hint: 'Pass the client files the docker CLI uses for it, or add it with `dockward hosts add` and name it.',
          },
        );
      }
      const read = async (f: string) => {
        try {
          return await fs.readFile(f, 'utf8');
        } catch (err) {
          throw new DockwardError('DW_E_USAGE', `cannot read ${f}: ${describeError(err)}`, {
            hint: 'Check the --tlscacert/--tlscert/--tlskey paths and that this user may read them.',
            cause: err,
          });
        }
      };
      endpoint.tls = {
        ca: await read(tls.ca),
        ...(tls.cert ? { cert: await read(tls.cert) } : {}),
        ...(tls.key ? { key: await read(tls.key) } : {}),
      };
    }
    return { origin: describeEndpoint(endpoint), endpoint };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('/')) {
    throw new DockwardError(
      'DW_E_USAGE',
      `--docker "${text}": only unix:// and tcp:// daemons are supported`,
      {
        hint: 'Write --docker unix:///var/run/docker.sock or --docker tcp://HOST:2376, or a `dockward hosts` name.',
      },
    );
  }
  const host = findHost(await loadInventory(paths), text);
  const base = endpointFromHost(host.endpoint);
  if (base.kind !== 'tcp')
    throw new DockwardError('DW_E_STORE_CORRUPT', `host ${text} has no tcp endpoint`, {
      hint: `Re-add it with dockward hosts add ${text} --endpoint tcp://HOST:2376, or give --docker a URL.`,
    });
  const files = await readClientTls(host.certDir);
  return { origin: host.endpoint, endpoint: { ...base, tls: files } };
}

/** Starts the monitor; rule or option errors throw before any source or sink is opened. */
export async function startMonitor(
  paths: StatePaths,
  options: MonitorOptions,
  logger: Logger,
): Promise<RunningMonitor> {
  const prepared = await prepareMonitor(paths, options);
  // The engine counts events, alerts and throttled (suppressed) alerts itself.
  const metrics = new MonitorMetrics();
  const engine = createEngine(prepared.ruleSet, { hostname: options.hostname ?? osHostname(), metrics });
  const spoolDir = options.spoolDir ?? monitorSpoolDir(paths);
  const sinks: AlertSink[] = [];
  try {
    for (const spec of prepared.sinks) {
      sinks.push(
        await openSink(spec, {
          json: options.json,
          spoolDir,
          logger,
          ...(options.stdout ? { stdout: options.stdout } : {}),
        }),
      );
    }
  } catch (err) {
    await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
    throw err;
  }

  let alerts = 0;
  // One chain per sink keeps every sink's alerts in event order; a slow sink holds up only itself.
  const chains = sinks.map(() => Promise.resolve());
  const dispatch = (event: RawEvent): void => {
    let produced: Alert[];
    try {
      produced = engine.evaluate(event);
    } catch (err) {
      logger.error({ err: describeError(err) }, 'rule evaluation failed');
      return;
    }
    if (produced.length === 0) return;
    alerts += produced.length;
    sinks.forEach((sink, i) => {
      chains[i] = chains[i]!.then(async () => {
        for (const alert of produced) {
          await sink.deliver(alert).catch((err: unknown) => {
            logger.error(
              { sink: sink.name, rule: alert.rule, err: describeError(err) },
              'alert not delivered',
            );
          });
        }
      });
    });
  };

  const sources: EventSource[] = [
    ...options.auditLogs.map((path) => new AuditLogSource({ path, fromStart: options.fromStart, logger })),
    ...(options.auditFeeds ?? []).map(
      (url) =>
        new AuditFeedSource({
          url,
          logger,
          ...(options.reconnectDelayMs ? { initialBackoffMs: options.reconnectDelayMs } : {}),
        }),
    ),
    ...prepared.dockers.map(
      (d) =>
        new DockerEventsSource({
          endpoint: d.endpoint,
          origin: d.origin,
          logger,
          ...(options.reconnectDelayMs ? { initialBackoffMs: options.reconnectDelayMs } : {}),
        }),
    ),
  ];
  let server: Server | undefined;
  let metricsAddress: RunningMonitor['metricsAddress'];
  try {
    if (options.metrics) {
      const at = parseHostPort(options.metrics, '--metrics');
      server = await startMetricsServer(metrics, at.host, at.port, () => ({
        ok: true,
        sources: sources.map((s) => s.name),
        alerts,
      }));
      const addr = server.address();
      metricsAddress = typeof addr === 'object' && addr ? { host: at.host, port: addr.port } : undefined;
    }
    for (const source of sources) await source.start(dispatch);
  } catch (err) {
    await Promise.all(sources.map((s) => s.stop().catch(() => undefined)));
    await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
    server?.close();
    throw err;
  }
  logger.info(
    {
      sources: sources.map((s) => s.name),
      sinks: sinks.map((s) => s.name),
      rules: prepared.ruleSet.rules.length,
    },
    'monitor started',
  );

  let stopping: Promise<void> | undefined;
  return {
    metricsAddress,
    sources,
    sinks,
    get alerts() {
      return alerts;
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(sources.map((s) => s.stop().catch(() => undefined)));
        await Promise.all(chains);
        await Promise.all(
          sinks.map((s) =>
            s
              .close()
              .catch((err: unknown) =>
                logger.warn({ sink: s.name, err: describeError(err) }, 'sink close failed'),
              ),
          ),
        );
        if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      })();
      return stopping;
    },
  };
}

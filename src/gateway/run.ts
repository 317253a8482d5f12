import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { pathExists } from '../store/atomic-write.js';
import type { PassphraseSource } from '../pki/store.js';
import type { StatePaths } from '../store/paths.js';
import { DockwardError } from '../errors.js';
import type { Decider } from '../policy/decision.js';
import type { AuditFeedWriter } from './audit-feed.js';
import type { AuditSink } from './audit-sink.js';
import type { Gateway } from './gateway.js';
import type { GatewayLimits } from './limits.js';
import { gatewayMetrics, startMetricsServer } from './metrics.js';
import { type TlsFiles, tlsFilesIn } from './tls-material.js';
import { startWorkers } from './workers.js';

// Modules are loaded where they run (await import): the primary of `--workers N` never loads the
// request path (gateway, pipeline, policy, upstream), a gateway given --tls-dir never loads the
// PKI (@peculiar/x509), and one without --metrics never loads prom-client.

export interface RunGatewayOptions {
  listen: string;
  upstream: string;
  upstreamTlsDir?: string;
  tlsDir?: string;
  crl?: string;
  allow: string[];
  metrics?: string;
  closeRevoked?: boolean;
  headersTimeoutMs?: number;
  /** Resource limits (`--max-connections` and the rest); defaults for those not given. */
  limits?: GatewayLimits;
  /** Requests per second per identity (`--audit-rate`; 0: no limit). */
  auditRate?: number;
  audit: AuditSink;
  /** Serve the live audit feed on this unix socket, from the writer behind `audit`. */
  auditFeed?: { path: string; writer: AuditFeedWriter };
  loadDecider?: () => Promise<Decider>;
  extraWatch?: string[];
  /** Worker processes (`--workers`); more than 1 runs `runGatewayWorkers`' way. */
  workers?: number;
  /** The policy file behind `loadDecider`, for workers that load it themselves. */
  policyFile?: string;
}

/** Splits `HOST:PORT` / `[v6]:PORT`. */
export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    throw new DockwardError('DW_E_USAGE', `${flag} "${text}" is not HOST:PORT`, {
      hint: `Write it as 127.0.0.1:2376, 0.0.0.0:2376 or [::1]:2376.`,
    });
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** What both ways of running share: the TLS files (issued on first start), the feed. */
async function prepare(
  paths: StatePaths,
  options: RunGatewayOptions,
  logger: Logger,
  passphrase: PassphraseSource,
  /** This process serves its own metrics (one process with --metrics); a primary does not. */
  servesMetrics: boolean,
) {
  const listen = parseHostPort(options.listen, '--listen');
  const metricsAt = options.metrics ? parseHostPort(options.metrics, '--metrics') : undefined;
  let tlsDir = options.tlsDir;
  if (!tlsDir) {
    const { ensureCa, ensureCertificate } = await import('../pki/bootstrap.js');
    if (await ensureCa(paths, passphrase)) logger.info({ pki: paths.pki }, 'created a CA for the gateway');
    const sans = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
    if (listen.host !== '0.0.0.0' && listen.host !== '::') {
      sans.push(isIP(listen.host) ? `IP:${listen.host}` : `DNS:${listen.host}`);
    } else {
      sans.push(`DNS:${hostname().toLowerCase()}`);
    }
    const cert = await ensureCertificate(paths, { kind: 'server', name: 'gateway', sans }, passphrase);
    if (cert.created)
      logger.info({ dir: cert.dir, sans: cert.record.sans }, 'issued the gateway server certificate');
    tlsDir = cert.dir;
  }
  const crl = options.crl ?? ((await pathExists(paths.crl)) && !options.tlsDir ? paths.crl : undefined);
  const tls = tlsFilesIn(tlsDir, crl);
  const metrics = await gatewayMetrics(servesMetrics && metricsAt !== undefined);
  // The feed first: a path in the way is a usage error, found before the gateway listens.
  const feed = options.auditFeed
    ? await (await import('./audit-feed.js')).AuditFeedServer.start({ ...options.auditFeed, logger, metrics })
    : undefined;
  return { listen, metricsAt, tls, crl, metrics, feed };
}

/**
 * Starts the gateway as the CLI and `dockward up` do: the TLS files from --tls-dir, or the PKI's
 * `issued/gateway` (issued on first start for the listen address, localhost and 127.0.0.1), the
 * CRL from --crl or the PKI's, and the metrics listener.
 */
export async function runGateway(
  paths: StatePaths,
  options: RunGatewayOptions,
  logger: Logger,
  passphrase: PassphraseSource,
): Promise<{ gateway: Gateway; tls: TlsFiles; stop: () => Promise<void> }> {
  const hangup = hangupHandler();
  const { listen, metricsAt, tls, crl, metrics, feed } = await prepare(
    paths,
    options,
    logger,
    passphrase,
    true,
  ).catch((err: unknown) => {
    hangup.dispose();
    throw err;
  });
  const [{ Gateway }, { createUpstream }, { builtinDecider }] = await Promise.all([
    import('./gateway.js'),
    import('./upstream.js'),
    import('../policy/builtin-roles.js'),
  ]);
  const gateway = await Gateway.start({
    listenHost: listen.host,
    listenPort: listen.port,
    tls,
    allow: options.allow,
    upstream: createUpstream(
      options.upstream,
      options.upstreamTlsDir ? { tlsDir: options.upstreamTlsDir } : {},
    ),
    loadDecider: options.loadDecider ?? (async () => builtinDecider()),
    audit: options.audit,
    logger,
    metrics,
    watchFiles: [tls.ca, tls.cert, tls.key, ...(crl ? [crl] : []), ...(options.extraWatch ?? [])],
    closeRevoked: options.closeRevoked === true,
    ...(options.headersTimeoutMs ? { headersTimeoutMs: options.headersTimeoutMs } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.auditRate ? { auditRate: options.auditRate } : {}),
  }).catch(async (err: unknown) => {
    hangup.dispose();
    await feed?.close();
    throw err;
  });
  const metricsServer =
    metricsAt && metrics.registry
      ? await startMetricsServer({ registry: metrics.registry }, metricsAt.host, metricsAt.port, () =>
          gateway.health(),
        )
      : undefined;
  if (metricsAt) logger.info({ metrics: `http://${options.metrics}/metrics` }, 'metrics listening');
  hangup.ready(() => void gateway.reload(options.allow));
  return {
    gateway,
    tls,
    stop: async () => {
      hangup.dispose();
      metricsServer?.close();
      await gateway.stop();
      // After the gateway: its last records (connections closed at stop) still reach the clients.
      await feed?.close();
    },
  };
}

/**
 * SIGHUP taken from the start: "gateway listening" is logged before startup ends, so a reload asked
 * for in between (a test, `systemctl reload` right after start) is kept and run once ready, instead
 * of being lost or killing the process (Node's default for SIGHUP).
 */
function hangupHandler(): { ready: (reload: () => void) => void; dispose: () => void } {
  let reload: (() => void) | undefined;
  let pending = false;
  const onHup = () => {
    if (reload) reload();
    else pending = true;
  };
  process.on('SIGHUP', onHup);
  return {
    ready: (fn) => {
      reload = fn;
      if (pending) fn();
    },
    dispose: () => void process.off('SIGHUP', onHup),
  };
}

/**
 * The CLI's way: `--workers N` above 1 runs N worker processes behind one listener (workers.ts),
 * the primary keeping the one audit log, the feed and the metrics listener; otherwise the gateway
 * runs in this process.
 */
export async function runGatewayProcesses(
  paths: StatePaths,
  options: RunGatewayOptions,
  logger: Logger,
  passphrase: PassphraseSource,
): Promise<{ tls: TlsFiles; stop: () => Promise<void> }> {
  if ((options.workers ?? 1) <= 1) return runGateway(paths, options, logger, passphrase);
  const hangup = hangupHandler();
  const { listen, metricsAt, tls, crl, feed } = await prepare(
    paths,
    options,
    logger,
    passphrase,
    false,
  ).catch((err: unknown) => {
    hangup.dispose();
    throw err;
  });
  const pool = await startWorkers(
    options.workers!,
    {
      listenHost: listen.host,
      listenPort: listen.port,
      tls,
      allow: options.allow,
      upstream: options.upstream,
      ...(options.upstreamTlsDir ? { upstreamTlsDir: options.upstreamTlsDir } : {}),
      ...(options.policyFile ? { policyFile: options.policyFile } : {}),
      watchFiles: [tls.ca, tls.cert, tls.key, ...(crl ? [crl] : []), ...(options.extraWatch ?? [])],
      closeRevoked: options.closeRevoked === true,
      ...(options.headersTimeoutMs ? { headersTimeoutMs: options.headersTimeoutMs } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.auditRate ? { auditRate: options.auditRate } : {}),
      metrics: metricsAt !== undefined,
    },
    options.audit,
    logger,
  ).catch(async (err: unknown) => {
    hangup.dispose();
    await feed?.close();
    throw err;
  });
  const metricsServer =
    metricsAt && pool.registry
      ? await startMetricsServer({ registry: pool.registry }, metricsAt.host, metricsAt.port, () =>
          pool.health(),
        )
      : undefined;
  if (metricsAt) logger.info({ metrics: `http://${options.metrics}/metrics` }, 'metrics listening');
  hangup.ready(() => pool.reload(options.allow));
  return {
    tls,
    stop: async () => {
      hangup.dispose();
      metricsServer?.close();
      await pool.stop();
      await feed?.close();
    },
  };
}

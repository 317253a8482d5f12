import { DockwardError } from '../../errors.js';
import type { AuditLogWriter } from '../../gateway/audit-log/writer.js';
import { NULL_AUDIT_SINK } from '../../gateway/audit-sink.js';
import { assertCanListen } from '../../gateway/listen-check.js';
import { parseHostPort, runGatewayProcesses } from '../../gateway/run.js';
import { BUILTIN_POLICY_NAME } from '../../policy/builtin-name.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';
import { stopSignalFromNow } from '../signals.js';
import { type LimitFlags, limitsFromFlags } from './limits.js';

export interface GatewayOptions extends LimitFlags {
  listen: string;
  upstream: string;
  upstreamTlsDir?: string;
  tlsDir?: string;
  crl?: string;
  policy?: string;
  allow: string[];
  auditLog?: string;
  auditFeed?: string;
  metrics?: string;
  closeRevoked?: boolean;
  headersTimeout: string;
  store?: string;
  workers: string;
  auditLogMaxSize: number;
  auditLogKeepSize: number;
  auditLogKeepAge: number;
  auditRate: number;
}

/**
 * `dockward gateway`: runs until SIGINT/SIGTERM. Everything that can be wrong with the flags (a
 * malformed policy, a taken port) fails before a certificate is issued or a port is opened.
 */
export async function gateway(ctx: CommandContext, opts: GatewayOptions): Promise<void> {
  if (opts.auditFeed && !opts.auditLog) {
    throw new DockwardError('DW_E_USAGE', '--audit-feed needs --audit-log', {
      hint: 'The feed streams the records the audit log gets: pass --audit-log FILE too.',
    });
  }
  if (opts.store && !opts.auditLog) {
    throw new DockwardError('DW_E_USAGE', '--store needs --audit-log', {
      hint: 'The store receives the records of the audit log: pass --audit-log FILE too.',
    });
  }
  // What a flag asks for is loaded only with that flag (the event store, the audit log, the
  // policy compiler): the gateway's memory holds the code it runs (docs/performance.md).
  if (opts.store) (await import('../../events/open.js')).checkStoreUrl(opts.store);
  const workers = Number(opts.workers);
  if (!/^\d+$/.test(opts.workers) || workers < 1 || workers > 64) {
    throw new DockwardError('DW_E_USAGE', `--workers "${opts.workers}" is not a whole number from 1 to 64`, {
      hint: 'Give the number of worker processes, e.g. --workers 2 (1 runs the gateway in one process).',
    });
  }
  const limits = limitsFromFlags(opts);
  const policyFile = opts.policy;
  // Compiled now so a malformed file exits 2 with file:line:col and nothing listens; the gateway
  // compiles it again on SIGHUP or when the file changes, and keeps the old one if the new is bad.
  const loadPolicyDecider = async (file: string) =>
    (await import('../../policy/load.js')).loadPolicyDecider(file);
  const initial = policyFile !== undefined ? await loadPolicyDecider(policyFile) : undefined;
  const listen = parseHostPort(opts.listen, '--listen');
  await assertCanListen(listen.host, listen.port);
  if (opts.metrics) {
    const m = parseHostPort(opts.metrics, '--metrics');
    await assertCanListen(m.host, m.port);
  }
  const logger = ctx.logger();
  const stop = stopSignalFromNow();
  try {
    await serveGateway();
  } finally {
    stop.dispose();
  }

  async function serveGateway(): Promise<void> {
    // Worker processes (cluster.fork) inherit the environment: they log in the same format.
    process.env['DOCKWARD_LOG_FORMAT'] = ctx.logFormat;
    // Exported = in the event store; without --store nothing is, so size never deletes (age does).
    let exportedSeq: (() => number) | undefined;
    let writer: AuditLogWriter | undefined;
    const trail = opts.auditLog ? await import('../../gateway/audit-trail.js') : undefined;
    const log = opts.auditLog
      ? await (await import('../../gateway/audit-file-sink.js')).openAuditLog(opts.auditLog, logger, {
          maxBytes: opts.auditLogMaxSize,
          maxTotalBytes: opts.auditLogKeepSize,
          maxAgeMs: opts.auditLogKeepAge,
          keep: 1_000_000, // the size and age limits decide
          isExported: (seq) => exportedSeq !== undefined && exportedSeq() >= seq,
          onRetention: trail!.reportRetention(() => writer, logger),
        })
      : undefined;
    writer = log?.writer;
    const audit = log?.sink ?? NULL_AUDIT_SINK;
    let first = initial;
    const running = await runGatewayProcesses(
      ctx.paths,
      {
        listen: opts.listen,
        upstream: opts.upstream,
        allow: opts.allow,
        audit,
        ...(opts.auditFeed && log ? { auditFeed: { path: opts.auditFeed, writer: log.writer } } : {}),
        headersTimeoutMs: Number(opts.headersTimeout),
        limits,
        // Only with an audit log: the limit guards its history.
        ...(log && opts.auditRate > 0 ? { auditRate: opts.auditRate } : {}),
        ...(opts.upstreamTlsDir ? { upstreamTlsDir: opts.upstreamTlsDir } : {}),
        ...(opts.tlsDir ? { tlsDir: opts.tlsDir } : {}),
        ...(opts.crl ? { crl: opts.crl } : {}),
        ...(policyFile !== undefined
          ? {
              loadDecider: async () => {
                const compiled = first ?? (await loadPolicyDecider(policyFile));
                first = undefined;
                return compiled;
              },
              // The built-in roles have no file to watch.
              extraWatch: policyFile === BUILTIN_POLICY_NAME ? [] : [policyFile],
            }
          : {}),
        ...(opts.metrics ? { metrics: opts.metrics } : {}),
        ...(opts.closeRevoked ? { closeRevoked: true } : {}),
        workers,
        // Each worker compiles the policy itself (and again on reload); the check above already ran.
        ...(policyFile !== undefined ? { policyFile } : {}),
      },
      logger,
      cliPassphraseSource(),
    ).catch(async (err: unknown) => {
      await audit.close(); // releases the log's lock at once
      throw err;
    });
    const heads =
      log && trail
        ? await trail.startHeadKeeper(log.writer, running.tls, logger).catch(async (err: unknown) => {
            await running.stop();
            throw err;
          })
        : undefined;
    if (policyFile !== undefined)
      logger.info({ policy: policyFile }, 'policy in force; SIGHUP or a change to the file reloads it');
    const shipping =
      opts.store && opts.auditLog
        ? await (await import('../../events/gateway-store.js'))
            .startStoreShipper(opts.store, opts.auditLog, logger, running.tls)
            .catch(async (err: unknown) => {
              await running.stop(); // a key that cannot sign heads: nothing keeps listening
              await heads?.stop();
              throw err;
            })
        : undefined;
    if (shipping) exportedSeq = shipping.exportedSeq;
    await stop.stopped;
    logger.info('stopping: draining requests in flight');
    await running.stop();
    // After the writer closed: the last head covers every record, the ones written at stop too.
    await heads?.stop();
    await shipping?.stop();
  }
}

/**
 * The entry of one gateway worker process (`dockward gateway --workers N`, see workers.ts): it
 * takes its configuration from the primary, runs the gateway on the shared listener and sends
 * its audit records to the primary's one writer.
 */
import { describeError } from '../errors.js';
import { createLogger } from '../log.js';
import { builtinDecider } from '../policy/builtin-roles.js';
import type { Decider } from '../policy/decision.js';
import { NULL_AUDIT_SINK } from './audit-sink.js';
import { Gateway } from './gateway.js';
import { NO_METRICS } from './metrics.js';
import { createUpstream } from './upstream.js';
import { ipcAuditSink, type PrimaryMessage, type WorkerConfig, type WorkerMessage } from './workers.js';

const logger = createLogger().child({ worker: Number(process.env['DOCKWARD_GATEWAY_WORKER'] ?? 0) });
const send = (m: WorkerMessage) => process.send?.(m);
// Signals are the primary's to act on (a terminal's Ctrl-C reaches the whole group).
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => undefined);

let gateway: Gateway | undefined;

async function loadDecider(file: string | undefined): Promise<Decider> {
  if (!file) return builtinDecider();
  // The policy compiler (yaml, zod) only for a policy file.
  return (await import('../policy/load.js')).loadPolicyDecider(file);
}

async function start(config: WorkerConfig): Promise<void> {
  // prom-client only when the primary serves /metrics (it asks each worker for its registry).
  let metrics = NO_METRICS;
  if (config.metrics) {
    const [{ AggregatorRegistry }, { PromGatewayMetrics }] = await Promise.all([
      import('prom-client'),
      import('./prom-metrics.js'),
    ]);
    const prom = new PromGatewayMetrics();
    new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
    AggregatorRegistry.setRegistries([prom.registry]);
    metrics = prom;
  }
  gateway = await Gateway.start({
    listenHost: config.listenHost,
    listenPort: config.listenPort,
    tls: config.tls,
    allow: config.allow,
    upstream: createUpstream(config.upstream, config.upstreamTlsDir ? { tlsDir: config.upstreamTlsDir } : {}),
    loadDecider: () => loadDecider(config.policyFile),
    audit: config.audit ? ipcAuditSink() : NULL_AUDIT_SINK,
    logger,
    metrics,
    watchFiles: config.watchFiles,
    closeRevoked: config.closeRevoked,
    connIds: { start: config.connIdStart, step: config.connIdStep },
    // One worker says what every worker would say (the primary warns about a missing audit log).
    quiet: config.connIdStart !== 1,
    ...(config.headersTimeoutMs ? { headersTimeoutMs: config.headersTimeoutMs } : {}),
    ...(config.limits ? { limits: config.limits } : {}),
    ...(config.auditRate ? { auditRate: config.auditRate } : {}),
  });
  send({ dw: 'ready' });
}

process.on('message', (m: PrimaryMessage) => {
  switch (m?.dw) {
    case 'config':
      start(m.config).catch((err: unknown) => {
        send({ dw: 'failed', error: describeError(err) });
        process.exit(1);
      });
      break;
    case 'reload':
      void gateway?.reload(m.allow);
      break;
    case 'stop':
      void (gateway?.stop(m.deadlineMs) ?? Promise.resolve()).finally(() => process.exit(0));
      break;
    default:
      break;
  }
});
send({ dw: 'hello' });
// The primary is gone (killed): nothing may run without its audit writer.
process.on('disconnect', () => {
  void (gateway?.stop(2000) ?? Promise.resolve()).finally(() => process.exit(1));
});

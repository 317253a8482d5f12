import { DockwardError } from '../../errors.js';
import { startMonitor } from '../../monitor/run.js';
import type { CommandContext } from '../context.js';
import { stopSignalFromNow } from '../signals.js';

export interface MonitorOptions {
  auditLog: string[];
  auditFeed: string[];
  docker: string[];
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  rules: string[];
  defaultRules: boolean;
  sink: string[];
  metrics?: string;
  fromStart?: boolean;
  spoolDir?: string;
  reconnectDelay: string;
}

/** `dockward monitor`: runs until SIGINT/SIGTERM, then flushes the sinks. */
export async function monitor(ctx: CommandContext, opts: MonitorOptions): Promise<void> {
  const reconnectDelayMs = Number(opts.reconnectDelay);
  if (!/^\d+$/.test(opts.reconnectDelay) || reconnectDelayMs < 1 || reconnectDelayMs > 600_000) {
    throw new DockwardError(
      'DW_E_USAGE',
      `--reconnect-delay "${opts.reconnectDelay}" is not a number of ms`,
      {
        hint: 'Pass milliseconds between 1 and 600000, for example --reconnect-delay 1000.',
      },
    );
  }
  const logger = ctx.logger();
  // Listening from the first step: a stop during startup flushes and stops once started.
  const stop = stopSignalFromNow();
  let running: Awaited<ReturnType<typeof startMonitor>>;
  try {
    running = await startMonitor(
      ctx.paths,
      {
        auditLogs: opts.auditLog,
        auditFeeds: opts.auditFeed,
        dockers: opts.docker,
        dockerTls: {
          ...(opts.tlscacert ? { ca: opts.tlscacert } : {}),
          ...(opts.tlscert ? { cert: opts.tlscert } : {}),
          ...(opts.tlskey ? { key: opts.tlskey } : {}),
        },
        rules: opts.rules,
        defaultRules: opts.defaultRules,
        sinks: opts.sink,
        json: ctx.out.json,
        fromStart: opts.fromStart === true,
        reconnectDelayMs,
        ...(opts.metrics ? { metrics: opts.metrics } : {}),
        ...(opts.spoolDir ? { spoolDir: opts.spoolDir } : {}),
      },
      logger,
    );
  } catch (err) {
    stop.dispose();
    throw err;
  }
  await stop.stopped;
  logger.info('stopping: flushing the sinks');
  await running.stop();
}

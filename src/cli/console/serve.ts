/** `dockward console`: serve the web console over the event store until SIGINT/SIGTERM. */
import { defaultStoreUrl, openEventStore } from '../../events/open.js';
import { startConsole } from '../../console/server.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';
import { stopSignalFromNow } from '../signals.js';

export interface ConsoleServeOptions {
  listen: string;
  store?: string;
  gateway?: string;
  auditLog: string[];
  mtls?: boolean;
}

/** Opens the store and starts the console; resolves with its URL and a stop function. */
export async function startConsoleFromCli(ctx: CommandContext, opts: ConsoleServeOptions) {
  const { paths } = ctx;
  const logger = ctx.logger();
  const store = await openEventStore(opts.store ?? defaultStoreUrl(paths));
  try {
    const running = await startConsole({
      paths,
      store,
      listen: opts.listen,
      ...(opts.gateway ? { gateway: opts.gateway } : {}),
      ...(opts.auditLog.length > 0 ? { auditLogs: opts.auditLog } : {}),
      ...(opts.mtls ? { mtls: true } : {}),
      passphrase: cliPassphraseSource(),
      logger,
    });
    return {
      url: running.url,
      tls: running.tls,
      store: store.kind,
      stop: async () => {
        await running.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

export interface ConsoleStarted {
  url: string;
  tls: boolean;
  store: string;
}

/** `dockward console`: prints where it serves, then runs until SIGINT/SIGTERM. */
export async function consoleServe(ctx: CommandContext, opts: ConsoleServeOptions): Promise<void> {
  // Listening from the first step: a stop during startup closes what started once it has.
  const stop = stopSignalFromNow();
  let running: Awaited<ReturnType<typeof startConsoleFromCli>>;
  try {
    running = await startConsoleFromCli(ctx, opts);
  } catch (err) {
    stop.dispose();
    throw err;
  }
  ctx.out.result({ url: running.url, tls: running.tls, store: running.store }, renderConsoleStarted);
  await stop.stopped;
  await running.stop();
}

export function renderConsoleStarted(r: ConsoleStarted): string {
  return [
    `dockward console: ${r.url} (store: ${r.store})`,
    r.tls ? '  mTLS: present a client certificate from this PKI; OU admin may revoke and renew' : '',
    'Ctrl-C stops it.',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

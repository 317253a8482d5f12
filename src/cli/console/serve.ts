/** `dockward console`: serve the web console over the event store. */
import { Command } from 'commander';
import { defaultStoreUrl, openEventStore } from '../../events/open.js';
import { createLogger } from '../../log.js';
import { DEFAULT_CONSOLE_LISTEN, startConsole } from '../../console/server.js';
import type { StatePaths } from '../../store/paths.js';
import { collect, contextOf } from '../context.js';
import { waitForStopSignal } from '../gateway.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface ConsoleServeOptions {
  listen: string;
  store?: string;
  gateway?: string;
  auditLog: string[];
  mtls?: boolean;
}

/** Starts the console; resolves with its URL and a stop function. */
export async function serveConsole(paths: StatePaths, opts: ConsoleServeOptions) {
  const logger = createLogger();
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

export function consoleCommand(): Command {
  return new Command('console')
    .description(
      'Serve the web console: hosts, certificates (revoke, renew), audit trail, alerts, policy. Loopback only ' +
        'by default; any other address needs a client certificate from the PKI (mTLS), and actions need OU admin.',
    )
    .option('--listen <host:port>', 'where to serve (port 0 picks a free one)', DEFAULT_CONSOLE_LISTEN)
    .option(
      '--store <url>',
      'event store: sqlite:FILE or postgres://USER@HOST:PORT/DB (default: sqlite:HOME/events.db)',
    )
    .option('--gateway <url>', 'the local gateway to probe', 'tcp://127.0.0.1:2376')
    .option(
      '--audit-log <file>',
      'a gateway audit log to ship into the store while the console runs (repeatable; default HOME/audit/gateway.log)',
      collect,
      [],
    )
    .option(
      '--mtls',
      'require a client certificate (HTTPS) on loopback too, e.g. on a machine with several users',
    )
    .action(async (opts: ConsoleServeOptions, cmd: Command) => {
      const { paths, out } = contextOf(cmd);
      const running = await serveConsole(paths, opts);
      out.result({ url: running.url, tls: running.tls, store: running.store }, (r) =>
        [
          `dockward console: ${r.url} (store: ${r.store})`,
          r.tls ? '  mTLS: present a client certificate from this PKI; OU admin may revoke and renew' : '',
          'Ctrl-C stops it.',
        ]
          .filter((l) => l !== '')
          .join('\n'),
      );
      await waitForStopSignal();
      await running.stop();
    });
}

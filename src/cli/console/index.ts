import { Command } from 'commander';
import { DEFAULT_CONSOLE_LISTEN } from '../../console/server.js';
import { contextOf } from '../context.js';
import { collect } from '../options.js';
import { type ConsoleServeOptions, consoleServe } from './serve.js';

/** `dockward console`: declarations only. */
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
      await consoleServe(contextOf(cmd), opts);
    });
}

import { Command } from 'commander';
import { contextOf } from '../context.js';
import { collect } from '../options.js';
import { type MonitorOptions, monitor } from './monitor.js';

const HELP = `
Sources (repeatable, at least one):
  --audit-log FILE        the gateway's audit log, followed across rotation
  --audit-feed URL        a running gateway's live feed, unix:///PATH (the socket of
                          \`dockward gateway --audit-feed PATH\`); reconnects when it restarts
  --docker URL|HOST       unix:///var/run/docker.sock, tcp://HOST:2376 (with --tlscacert,
                          --tlscert, --tlskey) or the name of a \`dockward hosts\` entry

Sinks (repeatable; default stdout):
  stdout                  one line per alert (JSON with --json)
  file:PATH               JSON lines appended to PATH (created 0600)
  webhook:URL             POST of the alert JSON (falcosidekick's input); spooled on disk while
                          the receiver is down and delivered in order when it is back
  syslog:udp://HOST:PORT  RFC 5424; syslog:tcp://HOST:PORT uses octet-counting framing;
                          ?facility=NAME picks the facility (default auth)

Examples:
  dockward monitor --audit-log ~/.dockward/audit/gateway.log --docker unix:///var/run/docker.sock
  dockward monitor --audit-feed unix:///run/dockward/audit.sock --sink syslog:udp://127.0.0.1:514
  dockward monitor --docker web1 --rules my-rules.yaml --sink webhook:http://127.0.0.1:2801/

SIGTERM or SIGINT stops it, after the sinks are flushed. docs/monitor.md has the details.
`;

/** `dockward monitor`: declarations only. */
export function monitorCommand(): Command {
  return new Command('monitor')
    .description(
      'Detect risky Docker API use: rules over the gateway audit log and Docker events, alerts to stdout, files, webhooks or syslog.',
    )
    .option('--audit-log <file>', "follow the gateway's audit log (repeatable)", collect, [])
    .option(
      '--audit-feed <url>',
      "follow a running gateway's live audit feed, unix:///PATH (repeatable)",
      collect,
      [],
    )
    .option(
      '--docker <url>',
      'follow the events of a daemon: unix://, tcp:// or a hosts name (repeatable)',
      collect,
      [],
    )
    .option('--tlscacert <file>', 'CA of tcp:// daemons given by URL')
    .option('--tlscert <file>', 'client certificate for tcp:// daemons given by URL')
    .option('--tlskey <file>', 'client key for tcp:// daemons given by URL')
    .option('--rules <file>', 'a YAML rules file (repeatable; loaded all or nothing)', collect, [])
    .option('--no-default-rules', 'do not load the built-in rules')
    .option('--sink <sink>', 'where alerts go (repeatable; default stdout)', collect, [])
    .option(
      '--metrics <host:port>',
      'serve Prometheus /metrics and /healthz here (plain HTTP: keep it on loopback)',
    )
    .option('--from-start', 'read audit logs from their beginning instead of their end')
    .option(
      '--spool-dir <dir>',
      'where webhook alerts wait while a receiver is down (default: <home>/monitor/spool)',
    )
    .option(
      '--reconnect-delay <ms>',
      'first delay before reconnecting to a daemon or an audit feed; doubles up to 30 s',
      '250',
    )
    .addHelpText('after', HELP)
    .action(async (opts: MonitorOptions, cmd: Command) => {
      await monitor(contextOf(cmd), opts);
    });
}

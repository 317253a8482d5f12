import { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { createLogger } from '../log.js';
import { startMonitor } from '../monitor/run.js';
import { collect, contextOf } from './context.js';
import { waitForStopSignal } from './gateway.js';

interface MonitorFlags {
  auditLog: string[];
  auditFeed: string[];
  docker: string[];
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  rules: string[];
  defaultRules: boolean;
  sink: string[];
  json?: boolean;
  metrics?: string;
  fromStart?: boolean;
  spoolDir?: string;
  reconnectDelay: string;
}

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
    .action(async (opts: MonitorFlags, cmd: Command) => {
      const { paths, out } = contextOf(cmd);
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
      const logger = createLogger();
      const running = await startMonitor(
        paths,
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
          json: out.json,
          fromStart: opts.fromStart === true,
          reconnectDelayMs,
          ...(opts.metrics ? { metrics: opts.metrics } : {}),
          ...(opts.spoolDir ? { spoolDir: opts.spoolDir } : {}),
        },
        logger,
      );
      await waitForStopSignal();
      logger.info('stopping: flushing the sinks');
      await running.stop();
    });
}

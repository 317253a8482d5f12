import { Command, Option } from 'commander';
import { DockwardError } from '../../errors.js';
import { contextOf } from '../context.js';
import { collect, durationOf, sizeOf } from '../options.js';
import { defaultWorkers, MAX_DEFAULT_WORKERS } from '../../gateway/workers.js';
import { type GatewayOptions, gateway } from './gateway.js';
import { LIMIT_DEFAULTS } from './limits.js';

/** `dockward gateway`: declarations only. */
export function gatewayCommand(): Command {
  return new Command('gateway')
    .description(
      'Run the mTLS gateway: clients with a certificate from the CA reach the daemon socket, each request decided, recorded and forwarded.',
    )
    .option('--listen <host:port>', 'where to listen for TLS clients', '127.0.0.1:2376')
    .option(
      '--upstream <url>',
      'the daemon: unix:///path or tcp://host:port (TLS)',
      'unix:///var/run/docker.sock',
    )
    .option('--upstream-tls-dir <dir>', 'for a tcp upstream: ca.pem, cert.pem, key.pem to reach it')
    .option(
      '--tls-dir <dir>',
      "ca.pem, cert.pem, key.pem of the gateway (default: the PKI's issued/gateway, issued on first start)",
    )
    .option('--crl <file>', "CRL to check client certificates against (default: the PKI's crl.pem)")
    .option(
      '--policy <file>',
      'policy file (roles, identities, rules; docs/policy.md) instead of the built-in roles; reloaded on SIGHUP or when the file changes, a malformed one refused (exit 2 at start, the old one kept on reload)',
    )
    .option(
      '--allow <cidr>',
      'client addresses allowed to connect (repeatable; default: loopback only)',
      collect,
      [],
    )
    .option('--audit-log <file>', 'hash-chained JSON-lines audit log of every request and connection')
    .option(
      '--audit-feed <path>',
      'also stream each audit record live on this unix socket (mode 0600; needs --audit-log)',
    )
    .option(
      '--metrics <host:port>',
      'serve Prometheus /metrics and /healthz here (plain HTTP: keep it on loopback)',
    )
    .option('--close-revoked', 'on reload, end the open connections of certificates the new CRL revokes')
    .option(
      '--headers-timeout <ms>',
      'a request head must arrive within this time (slowloris guard)',
      '30000',
    )
    .option(
      '--max-connections <n>',
      'authenticated connections open at once, all clients (503 above)',
      LIMIT_DEFAULTS.maxConnections,
    )
    .option(
      '--max-connections-per-identity <n>',
      'connections open at once per client certificate CN (429 above; per worker process)',
      LIMIT_DEFAULTS.maxConnectionsPerIdentity,
    )
    .option(
      '--max-handshakes <n>',
      `TLS handshakes in progress at once; more connections wait, fairly between client addresses (up to ${1024} waiting, then closed before the handshake)`,
      LIMIT_DEFAULTS.maxHandshakes,
    )
    .option(
      '--max-streams-per-identity <n>',
      'streams (events, logs, attach, exec, pulls...) open at once per client certificate CN (429 above; per worker process)',
      LIMIT_DEFAULTS.maxStreamsPerIdentity,
    )
    .option(
      '--body-timeout <ms>',
      'a request body the policy reads must arrive whole within this time (408 after; 0: no limit)',
      LIMIT_DEFAULTS.bodyTimeout,
    )
    .option(
      '--body-memory <bytes>',
      'request bodies held in memory at once for policy checks, all clients; a quarter of it per identity (503 above)',
      LIMIT_DEFAULTS.bodyMemory,
    )
    .option(
      '--json-max-keys <n>',
      'object keys plus array items a JSON request body may have, checked before it is parsed (413 above)',
      LIMIT_DEFAULTS.jsonMaxKeys,
    )
    .option(
      '--json-max-depth <n>',
      'nesting a JSON request body may have, checked before it is parsed (413 above)',
      LIMIT_DEFAULTS.jsonMaxDepth,
    )
    .option(
      '--workers <n>',
      `worker processes sharing the listener (one audit log, written by the main process); default: the cores less one (dockerd needs one), 1 to ${MAX_DEFAULT_WORKERS}`,
      String(defaultWorkers()),
    )
    .option(
      '--store <url>',
      'also ship the audit log to an event store: sqlite:FILE or postgres://USER@HOST:PORT/DB (needs --audit-log)',
    )
    .addOption(
      new Option('--audit-log-max-size <size>', 'rotate the audit log before it passes this size (k, m, g)')
        .argParser(sizeOf('--audit-log-max-size'))
        .default(100 * 1024 * 1024, '100m'),
    )
    .addOption(
      new Option(
        '--audit-log-keep-size <size>',
        'delete the oldest rotated audit files while they add up to more than this, once exported to --store (k, m, g)',
      )
        .argParser(sizeOf('--audit-log-keep-size'))
        .default(1024 * 1024 * 1024, '1g'),
    )
    .addOption(
      new Option(
        '--audit-log-keep-age <duration>',
        'delete rotated audit files older than this, exported or not (s, m, h, d)',
      )
        .argParser(durationOf('--audit-log-keep-age'))
        .default(90 * 86_400_000, '90d'),
    )
    .addOption(
      new Option(
        '--audit-rate <n>',
        'requests per second one identity may make, bursts of 10x; above it 429 and one summary record a second (0: no limit)',
      )
        .argParser(rateOf)
        .default(200, '200'),
    )
    .action(async (opts: GatewayOptions, cmd: Command) => {
      await gateway(contextOf(cmd), opts);
    });
}

function rateOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new DockwardError('DW_E_USAGE', `--audit-rate "${value}" is not a whole number`, {
      hint: 'Give requests per second per identity, e.g. --audit-rate 200 (0 turns the limit off).',
    });
  }
  return n;
}

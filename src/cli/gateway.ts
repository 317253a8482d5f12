import { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { createLogger } from '../log.js';
import { openAuditLog } from '../gateway/audit-file-sink.js';
import { NULL_AUDIT_SINK } from '../gateway/audit-sink.js';
import { runGatewayProcesses } from '../gateway/run.js';
import { defaultWorkers, MAX_DEFAULT_WORKERS } from '../gateway/workers.js';
import { collect, contextOf } from './context.js';
import { loadPolicyDecider } from './policy.js';
import { cliPassphraseSource } from './passphrase.js';

interface GatewayFlags {
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
  workers: string;
}

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
      '--workers <n>',
      `worker processes sharing the listener (one audit log, written by the main process); default: the cores, at most ${MAX_DEFAULT_WORKERS}`,
      String(defaultWorkers()),
    )
    .action(async (opts: GatewayFlags, cmd: Command) => {
      const { paths } = contextOf(cmd);
      if (opts.auditFeed && !opts.auditLog) {
        throw new DockwardError('DW_E_USAGE', '--audit-feed needs --audit-log', {
          hint: 'The feed streams the records the audit log gets: pass --audit-log FILE too.',
        });
      }
      const logger = createLogger();
      const log = opts.auditLog ? await openAuditLog(opts.auditLog, logger) : undefined;
      const audit = log?.sink ?? NULL_AUDIT_SINK;
      const workers = Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
        throw new DockwardError(
          'DW_E_USAGE',
          `--workers "${opts.workers}" is not a whole number from 1 to 64`,
          {
            hint: 'Give the number of worker processes, e.g. --workers 2 (1 runs the gateway in one process).',
          },
        );
      }
      const running = await runGatewayProcesses(
        paths,
        {
          listen: opts.listen,
          upstream: opts.upstream,
          allow: opts.allow,
          audit,
          ...(opts.auditFeed && log ? { auditFeed: { path: opts.auditFeed, writer: log.writer } } : {}),
          headersTimeoutMs: Number(opts.headersTimeout),
          ...(opts.upstreamTlsDir ? { upstreamTlsDir: opts.upstreamTlsDir } : {}),
          ...(opts.tlsDir ? { tlsDir: opts.tlsDir } : {}),
          ...(opts.crl ? { crl: opts.crl } : {}),
          ...(opts.policy
            ? { loadDecider: () => loadPolicyDecider(opts.policy!), extraWatch: [opts.policy] }
            : {}),
          ...(opts.metrics ? { metrics: opts.metrics } : {}),
          ...(opts.closeRevoked ? { closeRevoked: true } : {}),
          workers,
          ...(opts.policy ? { policyFile: opts.policy } : {}),
        },
        logger,
        cliPassphraseSource(),
      ).catch(async (err: unknown) => {
        await audit.close(); // releases the log's lock at once
        throw err;
      });
      await waitForStopSignal();
      logger.info('stopping: draining requests in flight');
      await running.stop();
    });
}

/** Resolves on the first SIGINT or SIGTERM. */
export function waitForStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

import { Command, Option } from 'commander';
import { contextOf } from '../context.js';
import { DEFAULT_FAIL_ON, listOf } from '../options.js';
import { type AuditOptions, audit, auditRules, printAudit, renderAuditRules } from './audit.js';
import { AUDIT_FORMATS } from './report.js';

/** `dockward audit`: declarations only. */
export function auditCommand(): Command {
  return new Command('audit')
    .description(
      'Audit a Docker daemon: CIS Docker Benchmark sections 2, 3 and the container checks of 5, plus TLS, ' +
        'listener and certificate checks. Targets: this host (default: the dockerd serving ' +
        '/var/run/docker.sock, or --host unix://PATH), a remote daemon over its API (--host tcp://..., ' +
        '--context NAME), or an offline tree (--root DIR).',
    )
    .addOption(
      new Option(
        '--host <url>',
        'unix://PATH: audit the dockerd serving that socket on this host; tcp://HOST:PORT: a remote daemon (API rules only; a TLS daemon needs --tlscacert/--tlscert/--tlskey or --context)',
      ).conflicts(['root', 'context']),
    )
    .addOption(
      new Option(
        '--context <name>',
        'a docker context (its host and TLS files, from $DOCKER_CONFIG)',
      ).conflicts('root'),
    )
    .option(
      '--root <dir>',
      'an offline tree standing for / (etc/docker/daemon.json, etc/systemd/...): file rules only',
    )
    .option('--tlscacert <file>', 'tcp target: CA certificate the daemon must chain to')
    .option('--tlscert <file>', 'tcp target: client certificate')
    .option('--tlskey <file>', 'tcp target: client key')
    .addOption(
      new Option('--format <format>', 'output format (default table; json with --json)').choices(
        AUDIT_FORMATS,
      ),
    )
    .option(
      '--fail-on <level>',
      'exit 1 when a failing finding at or above LEVEL exists: info|low|medium|high|critical, or none to never fail',
      DEFAULT_FAIL_ON,
    )
    .option(
      '--include <ids>',
      'only these rules: ids or CIS numbers, comma separated (2.7, tls-auth, 3)',
      listOf,
      [],
    )
    .option('--exclude <ids>', 'leave out these rules: ids or CIS numbers, comma separated', listOf)
    .option('--output <file>', 'write the report to FILE (the summary line goes to stderr)')
    .option('--list', 'list the rules (id, CIS number, severity, title) and exit')
    .addHelpText(
      'after',
      `\nExit codes: 0 no failing finding at or above --fail-on (default ${DEFAULT_FAIL_ON}), 1 one exists, 2 bad usage.\n` +
        'An unreachable daemon or an unreadable file is a failing "audit-input" finding (high), never a silent pass.\n' +
        'Any size of report is written completely to a pipe (audit --format sarif | ...) before dockward exits.',
    )
    .action(async (opts: AuditOptions & { list?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.list) {
        ctx.out.result(auditRules(), renderAuditRules);
        return;
      }
      printAudit(ctx, await audit(ctx, opts), opts.failOn);
    });
}

import { Command, Option } from 'commander';
import { runAudit, targetOf } from '../audit/audit.js';
import { failsAt, parseSeverity } from '../audit/engine.js';
import { formatJson } from '../audit/format/json.js';
import { formatJunit } from '../audit/format/junit.js';
import { formatSarif } from '../audit/format/sarif.js';
import { formatTable, summaryLine } from '../audit/format/table.js';
import type { AuditReport, Severity } from '../audit/model.js';
import { ALL_RULES } from '../audit/rules/index.js';
import { DockwardError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { contextOf } from './context.js';
import { renderTable } from './output.js';

export const AUDIT_FORMATS = ['table', 'json', 'sarif', 'junit'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** The exit threshold when `--fail-on` is not given: CI gets a red build for high and critical failures. */
export const DEFAULT_FAIL_ON: Severity = 'high';

interface AuditFlags {
  host?: string;
  context?: string;
  root?: string;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  format?: AuditFormat;
  failOn: string;
  include?: string[];
  exclude?: string[];
  output?: string;
  list?: boolean;
}

/** Commander collector for repeatable, comma-separated rule lists. */
export function listOf(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

/** `--fail-on LEVEL|none` → the threshold, or undefined for never. */
export function failOnOf(value: string): Severity | undefined {
  return value.trim().toLowerCase() === 'none' ? undefined : parseSeverity(value);
}

/** Renders the report in one format. */
export function renderReport(
  report: AuditReport,
  format: AuditFormat,
  options: { color: boolean; toolVersion: string },
): string {
  switch (format) {
    case 'table':
      return formatTable(report, { color: options.color });
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report, { toolVersion: options.toolVersion });
    case 'junit':
      return formatJunit(report);
  }
}

/** Colors only for a person at a terminal who has not asked for none (https://no-color.org). */
function useColor(toFile: boolean): boolean {
  const noColor = process.env['NO_COLOR'];
  return !toFile && process.stdout.isTTY === true && (noColor === undefined || noColor === '');
}

/** `dockward audit`: the daemon, its files, listeners, certificates and containers against CIS and more. */
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
        'unix://PATH: audit the dockerd serving that socket on this host; tcp://HOST:PORT: a remote daemon (API rules only)',
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
        'An unreachable daemon or an unreadable file is a failing "audit-input" finding (high), never a silent pass.',
    )
    .action(async (opts: AuditFlags, cmd: Command) => {
      const { out } = contextOf(cmd);
      if (opts.list) {
        const rules = ALL_RULES.map((r) => ({
          id: r.id,
          cis: r.cis ?? null,
          severity: r.severity,
          area: r.area,
          title: r.title,
        }));
        out.result(rules, (rs) =>
          renderTable(
            ['ID', 'CIS', 'SEVERITY', 'AREA', 'TITLE'],
            rs.map((r) => [r.id, r.cis ?? '-', r.severity, r.area, r.title]),
          ),
        );
        return;
      }
      if (out.json && opts.format !== undefined && opts.format !== 'json') {
        throw new DockwardError('DW_E_USAGE', `--json and --format ${opts.format} ask for two formats`, {
          hint: 'Drop --json, or use --format json.',
        });
      }
      const format: AuditFormat = opts.format ?? (out.json ? 'json' : 'table');
      const failOn = failOnOf(opts.failOn);
      const tls = {
        ...(opts.tlscacert ? { ca: opts.tlscacert } : {}),
        ...(opts.tlscert ? { cert: opts.tlscert } : {}),
        ...(opts.tlskey ? { key: opts.tlskey } : {}),
      };
      const hasTls = Object.keys(tls).length > 0;
      if (opts.root !== undefined && hasTls) {
        throw new DockwardError('DW_E_USAGE', '--root audits files only: TLS client flags do not apply', {
          hint: 'Drop --tlscacert/--tlscert/--tlskey, or audit a daemon with --host tcp://...',
        });
      }
      const { target } = await targetOf({
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(opts.context !== undefined ? { context: opts.context } : {}),
        ...(opts.root !== undefined ? { root: opts.root } : {}),
        ...(hasTls ? { tls } : {}),
      });
      const report = await runAudit(target, {
        ...(hasTls ? { tls } : {}),
        ...(opts.context !== undefined ? { context: opts.context } : {}),
        include: opts.include ?? [],
        exclude: opts.exclude ?? [],
      });
      const { VERSION } = await import('./program.js');
      const text = renderReport(report, format, {
        color: useColor(opts.output !== undefined),
        toolVersion: VERSION,
      });
      if (opts.output !== undefined) {
        await writeFileAtomic(opts.output, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o644 });
        out.info(`${summaryLine(report.summary)}; report written to ${opts.output}`);
      } else if (out.json) {
        out.result(JSON.parse(text) as unknown, () => '');
      } else {
        out.result(text, (t) => t);
      }
      if (failOn !== undefined && failsAt(report, failOn)) {
        throw new DockwardError(
          'DW_E_AUDIT_FAILED',
          `${report.summary.byStatus.fail} failing finding(s), at least one at or above ${failOn}`,
          {
            hint: `Fix what the report lists, or choose the threshold with --fail-on (${failOn} now; none never fails).`,
            resultPrinted: true,
          },
        );
      }
    });
}

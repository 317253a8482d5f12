import { stat } from 'node:fs/promises';
import { runAudit, targetOf } from '../../audit/audit.js';
import { failsAt } from '../../audit/engine.js';
import { summaryLine } from '../../audit/format/table.js';
import type { AuditReport } from '../../audit/model.js';
import { ALL_RULES } from '../../audit/rules/index.js';
import { DockwardError } from '../../errors.js';
import { colorAllowed } from '../../log.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import { VERSION } from '../../version.js';
import type { CommandContext } from '../context.js';
import { failOnOf } from '../options.js';
import { renderTable } from '../output.js';
import { type AuditFormat, renderReport } from './report.js';

export interface AuditOptions {
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
}

export interface AuditRun {
  report: AuditReport;
  format: AuditFormat;
  /** The report in that format. */
  text: string;
  /** Where it was written with --output. */
  output?: string;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** `dockward audit --list`: the rules. */
export function auditRules() {
  return ALL_RULES.map((r) => ({
    id: r.id,
    cis: r.cis ?? null,
    severity: r.severity,
    area: r.area,
    title: r.title,
  }));
}

export function renderAuditRules(rs: ReturnType<typeof auditRules>): string {
  return renderTable(
    ['ID', 'CIS', 'SEVERITY', 'AREA', 'TITLE'],
    rs.map((r) => [r.id, r.cis ?? '-', r.severity, r.area, r.title]),
  );
}

/** `dockward audit`: collects, runs the rules and renders the report (written to --output when given). */
export async function audit(ctx: CommandContext, opts: AuditOptions): Promise<AuditRun> {
  if (ctx.out.json && opts.format !== undefined && opts.format !== 'json') {
    throw new DockwardError('DW_E_USAGE', `--json and --format ${opts.format} ask for two formats`, {
      hint: 'Drop --json, or use --format json.',
    });
  }
  const format: AuditFormat = opts.format ?? (ctx.out.json ? 'json' : 'table');
  failOnOf(opts.failOn); // a bad level is a usage error before anything is collected
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
  if (opts.root !== undefined && !(await isDirectory(opts.root))) {
    throw new DockwardError('DW_E_NOT_FOUND', `--root ${opts.root} is not a folder`, {
      hint: 'Pass the folder that stands for / of the host to audit (it holds etc/docker/daemon.json).',
    });
  }
  if (opts.host?.startsWith('tcp://') && !hasTls && opts.context === undefined) {
    ctx.out.info(
      `note: no TLS client files for ${opts.host}: a TLS daemon (port 2376) needs --tlscacert, --tlscert and --tlskey (or --context NAME)`,
    );
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
  const text = renderReport(report, format, {
    color: opts.output === undefined && colorAllowed(process.stdout),
    toolVersion: VERSION,
  });
  if (opts.output !== undefined) {
    await writeFileAtomic(opts.output, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o644 });
    ctx.out.info(`${summaryLine(report.summary)}; report written to ${opts.output}`);
    return { report, format, text, output: opts.output };
  }
  return { report, format, text };
}

/** Prints the report (unless it went to a file), then fails at --fail-on. */
export function printAudit(ctx: CommandContext, run: AuditRun, failOnText: string): void {
  if (run.output === undefined) {
    if (ctx.out.json) ctx.out.result(JSON.parse(run.text) as unknown, () => '');
    else ctx.out.result(run.text, (t) => t);
  }
  const failOn = failOnOf(failOnText);
  if (failOn !== undefined && failsAt(run.report, failOn)) {
    throw new DockwardError(
      'DW_E_AUDIT_FAILED',
      `${run.report.summary.byStatus.fail} failing finding(s), at least one at or above ${failOn}`,
      {
        hint: `Fix what the report lists, or choose the threshold with --fail-on (${failOn} now; none never fails).`,
        resultPrinted: true,
      },
    );
  }
}

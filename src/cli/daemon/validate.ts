import { validateHostConfig } from '../../daemon/show.js';
import { errorLines, type ValidationReport, validationError, warningLines } from '../../daemon/validate.js';
import type { CommandContext } from '../context.js';
import { type HostFlags, hostStateOf } from './host-options.js';

export interface DaemonValidateOptions extends HostFlags {
  allowPlainTcp?: boolean;
}

/**
 * `dockward daemon validate`. A file dockerd would refuse is an error (exit 2): JSON callers get the
 * error object (every problem in its message), people the report printed before it.
 */
export async function daemonValidate(
  ctx: CommandContext,
  opts: DaemonValidateOptions,
): Promise<ValidationReport> {
  const report = await validateHostConfig({
    ...hostStateOf(opts),
    allowPlainTcp: opts.allowPlainTcp === true,
  });
  if (!report.ok) {
    if (!ctx.out.json) ctx.out.result(report, renderDaemonValidate);
    throw validationError(report);
  }
  return report;
}

/** The JSON shape: the effective entries instead of the whole merge. */
export function daemonValidateData(report: ValidationReport): unknown {
  return { ...report, effective: report.effective.entries };
}

export function renderDaemonValidate(report: ValidationReport): string {
  return [
    `${report.path}: checked for dockerd ${report.engine.version ?? `${report.engine.major} (assumed)`}${report.commandLine ? ` with the command line of ${report.commandLine.where}` : ''}`,
    ...errorLines(report).map((l) => `ERROR   ${l}`),
    ...warningLines(report).map((l) => `WARNING ${l}`),
    `dockerd --validate: ${report.dockerdValidate.detail}`,
    report.ok ? 'OK: dockerd would start with this file' : 'FAILED: dockerd would refuse to start',
  ].join('\n');
}

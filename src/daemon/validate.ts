/**
 * `daemon validate` and the validation step of `apply`: dockward's own checks (every key and
 * type, flag-vs-file conflicts, the semantic checks, the TLS and subordinate-id files), then
 * `dockerd --validate --config-file` when the installed dockerd has it (23.0 and later).
 */
import { promises as fs } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockwardError } from '../errors.js';
import type { CmdlineIssue } from './cmdline.js';
import { type CheckFs, type CheckOptions, type Finding, runChecks } from './checks.js';
import type { EffectiveConfig } from './effective-config.js';
import { type CommandLine, type EngineVersionInfo, effectiveOf } from './host-state.js';
import { analyzeDaemonJson, type DaemonJsonIssue } from './parse.js';
import { type ProgramRunner, runProgram } from './systemd-io.js';

/** First dockerd major version with `--validate`. */
export const DOCKERD_VALIDATE_SINCE = 23;

export interface DockerdValidateOutcome {
  status: 'passed' | 'failed' | 'skipped';
  /** dockerd's output, or why it was skipped. */
  detail: string;
}

/** Everything validation found about one daemon.json. */
export interface ValidationReport {
  ok: boolean;
  path: string;
  engine: EngineVersionInfo;
  /** The command line the file was checked against. */
  commandLine: { from: string; where: string } | undefined;
  /** Problems reading the file (JSON, keys, types), with line and column. */
  parseIssues: DaemonJsonIssue[];
  /** Problems of the command line itself (unknown flags...), reported as they are. */
  cmdlineIssues: CmdlineIssue[];
  /** The semantic and file checks. */
  findings: Finding[];
  dockerdValidate: DockerdValidateOutcome;
  effective: EffectiveConfig;
}

/** Reads files for the checks; `overlay` stands for files that are about to be written. */
export function checkFs(overlay: Readonly<Record<string, string>> = {}): CheckFs {
  return {
    async readFile(path: string): Promise<string> {
      const planned = overlay[path];
      if (planned !== undefined) return planned;
      return fs.readFile(path, 'utf8');
    },
  };
}

export interface ValidateInput extends CheckOptions {
  path: string;
  /** The candidate's bytes (or text). */
  content: Uint8Array | string;
  commandLine: CommandLine | undefined;
  engine: EngineVersionInfo;
  /** The dockerd binary for `--validate` (default `dockerd`). */
  dockerdBinary?: string;
  /** Files the checks should see as already written (init installs the TLS files later). */
  overlay?: Readonly<Record<string, string>>;
  run?: ProgramRunner;
}

/** Validates a candidate daemon.json against the command line and the engine that will read it. */
export async function validateDaemonConfig(input: ValidateInput): Promise<ValidationReport> {
  const analysis = analyzeDaemonJson(input.content, { source: input.path, engineMajor: input.engine.major });
  const effective = effectiveOf(input.path, analysis.config, analysis.keyOrder, input.commandLine);
  const findings = await runChecks(effective, { ...input, fs: checkFs(input.overlay) });
  const cmdlineIssues = input.commandLine?.parsed.issues ?? [];
  const dockerdValidate = analysis.ok
    ? await runDockerdValidate(input)
    : { status: 'skipped' as const, detail: 'skipped: fix the errors above first' };
  const ok =
    analysis.ok && !findings.some((f) => f.severity === 'error') && dockerdValidate.status !== 'failed';
  return {
    ok,
    path: input.path,
    engine: input.engine,
    commandLine: input.commandLine
      ? { from: input.commandLine.from, where: input.commandLine.where }
      : undefined,
    parseIssues: analysis.issues,
    cmdlineIssues,
    findings,
    dockerdValidate,
    effective,
  };
}

async function runDockerdValidate(input: ValidateInput): Promise<DockerdValidateOutcome> {
  const version = input.engine.version ?? `${input.engine.major}`;
  if (input.engine.source === 'assumed') {
    return { status: 'skipped', detail: 'skipped: no dockerd found to run `dockerd --validate`' };
  }
  if (input.engine.major < DOCKERD_VALIDATE_SINCE) {
    return {
      status: 'skipped',
      detail: `skipped: dockerd ${version} has no --validate (added in ${DOCKERD_VALIDATE_SINCE}.0); dockward's own checks stand in for it`,
    };
  }
  // --validate reads a file: give it the candidate exactly as it would be written.
  const dir = await mkdtemp(join(tmpdir(), 'dockward-validate-'));
  try {
    const file = join(dir, 'daemon.json');
    await writeFile(file, input.content, { mode: 0o600 });
    const run = input.run ?? runProgram;
    const res = await run(input.dockerdBinary ?? 'dockerd', ['--validate', '--config-file', file], {
      timeoutMs: 30_000,
    });
    const output = `${res.stdout}${res.stderr}`.trim().replaceAll(file, input.path);
    if (res.code === 0) return { status: 'passed', detail: output || 'configuration OK' };
    return { status: 'failed', detail: output || `dockerd --validate exited with ${res.code}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report's errors, one per line (`line 3, column 5: ...` or `key: ...`). */
export function errorLines(report: ValidationReport): string[] {
  const lines: string[] = [];
  for (const i of report.parseIssues) {
    if (i.severity !== 'error') continue;
    lines.push(
      `${i.line === undefined ? i.path || 'file' : `line ${i.line}, column ${i.column}`}: ${i.message}`,
    );
  }
  for (const f of report.findings) if (f.severity === 'error') lines.push(`${f.key}: ${f.message}`);
  if (report.dockerdValidate.status === 'failed')
    lines.push(`dockerd --validate: ${report.dockerdValidate.detail}`);
  return lines;
}

/** The report's warnings, one per line. */
export function warningLines(report: ValidationReport): string[] {
  return [
    ...report.parseIssues
      .filter((i) => i.severity === 'warning')
      .map(
        (i) =>
          `${i.line === undefined ? i.path || 'file' : `line ${i.line}, column ${i.column}`}: ${i.message}`,
      ),
    ...report.findings.filter((f) => f.severity === 'warning').map((f) => `${f.key}: ${f.message}`),
  ];
}

/** A DW_E_INPUT error that lists every error of a failed validation (exit 2). */
export function validationError(report: ValidationReport, what = report.path): DockwardError {
  const lines = errorLines(report);
  const firstHint =
    report.parseIssues.find((i) => i.severity === 'error')?.hint ??
    report.findings.find((f) => f.severity === 'error')?.hint;
  const message =
    lines.length === 1
      ? `${what}: ${lines[0]}`
      : `${what} has ${lines.length} problems:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  return new DockwardError('DW_E_INPUT', message, {
    hint: firstHint ?? 'Fix the file; dockerd would refuse to start with it.',
  });
}

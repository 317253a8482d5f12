import { DockwardError } from '../errors.js';
import { currentCommandLine, effectiveOf, type HostStateOptions, readHostState } from './host-state.js';
import { type ValidationReport, validateDaemonConfig } from './validate.js';

/** `daemon show`: the effective configuration (daemon.json merged with the command line), key by key. */
export async function showDaemonConfig(options: HostStateOptions & { all?: boolean }) {
  const { all, ...stateOptions } = options;
  const state = await readHostState(stateOptions);
  const line = currentCommandLine(state);
  const effective = effectiveOf(
    state.file.path,
    state.file.analysis.config,
    state.file.analysis.keyOrder,
    line,
    all === true,
  );
  return {
    configPath: state.file.path,
    configExists: state.file.exists,
    chosenBy: state.file.chosenBy,
    commandLine: line ? { from: line.from, where: line.where, argv: line.argv } : undefined,
    engine: state.engine,
    entries: effective.entries,
    conflicts: effective.conflicts,
    issues: state.file.analysis.issues,
  };
}

export type DaemonConfigView = Awaited<ReturnType<typeof showDaemonConfig>>;

/** `daemon validate`: the daemon.json dockerd reads (or --config), checked against this host's dockerd. */
export async function validateHostConfig(
  options: HostStateOptions & { allowPlainTcp: boolean },
): Promise<ValidationReport> {
  const { allowPlainTcp, ...stateOptions } = options;
  const state = await readHostState(stateOptions);
  if (!state.file.exists) {
    throw new DockwardError('DW_E_INPUT', `${state.file.path} does not exist`, {
      hint: 'Pass --config with the daemon.json to check.',
    });
  }
  return validateDaemonConfig({
    path: state.file.path,
    content: state.file.bytes ?? '',
    commandLine: currentCommandLine(state),
    engine: state.engine,
    dockerdBinary: state.process?.exe ?? state.unitCommandLine?.argv[0] ?? 'dockerd',
    allowInsecureTcp: allowPlainTcp,
  });
}

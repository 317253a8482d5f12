import type { Command } from 'commander';
import { createLogger, defaultLogFormat, type LogFormat, type Logger } from '../log.js';
import { resolveHome, type StatePaths, statePaths } from '../store/paths.js';
import { type CliIo, createOutput, type Output, processIo } from './output.js';

export interface GlobalOptions {
  home?: string;
  json?: boolean;
  logFormat?: LogFormat;
}

/** What every command function gets: the state folder, the output channel and a logger factory. */
export interface CommandContext {
  paths: StatePaths;
  out: Output;
  /** A logger in the format chosen by --log-format (default: pretty on a terminal, else JSON). */
  logger(level?: string): Logger;
  /** The format logger() uses: --log-format, else DOCKWARD_LOG_FORMAT, else by whether stderr is a terminal. */
  logFormat: LogFormat;
}

const ioByProgram = new WeakMap<Command, CliIo>();

/** Binds the output sinks to a program tree (main() does it once). */
export function bindIo(program: Command, io: CliIo): void {
  ioByProgram.set(program, io);
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/** Global flags (`--home`, `--json`, `--log-format`) as seen from any subcommand. */
export function contextOf(cmd: Command): CommandContext {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const io = ioByProgram.get(rootOf(cmd)) ?? processIo;
  const logFormat = globals.logFormat ?? defaultLogFormat();
  return {
    paths: statePaths(resolveHome(globals.home)),
    out: createOutput(globals.json === true, io),
    logger: (level) => createLogger({ ...(level !== undefined ? { level } : {}), format: logFormat }),
    logFormat,
  };
}

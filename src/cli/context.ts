import type { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { resolveHome, type StatePaths, statePaths } from '../store/paths.js';
import { type CliIo, createOutput, type Output, processIo } from './output.js';

export interface GlobalOptions {
  home?: string;
  json?: boolean;
}

export interface CommandContext {
  paths: StatePaths;
  out: Output;
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

/** Global flags (`--home`, `--json`) as seen from any subcommand. */
export function contextOf(cmd: Command): CommandContext {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const io = ioByProgram.get(rootOf(cmd)) ?? processIo;
  return { paths: statePaths(resolveHome(globals.home)), out: createOutput(globals.json === true, io) };
}

/** Commander option parser for a whole number of days. */
export function parseDaysOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new DockwardError('DW_E_DURATION', `"${value}" is not a whole number of days`, {
      hint: 'Pass a number of days, for example --days 365.',
    });
  }
  return n;
}

/** Commander collector for repeatable options (`--san a --san b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

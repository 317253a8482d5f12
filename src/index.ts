#!/usr/bin/env node
import { CommanderError } from 'commander';
import { type CliIo, processIo } from './cli/output.js';
import { buildProgram } from './cli/program.js';
import { describeError, isDockwardError, toExitCode } from './errors.js';

/** Runs the CLI and returns the exit code; the only place that decides how dockward exits. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const json = argv.includes('--json');
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message or the help text.
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return 0;
      }
      return 2;
    }
    if (isDockwardError(err)) {
      io.stderr.write(`dockward: ${err.message} [${err.code}]\n`);
      if (err.hint) io.stderr.write(`  fix: ${err.hint}\n`);
      if (json && !err.resultPrinted) {
        io.stdout.write(
          `${JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint } }, null, 2)}\n`,
        );
      }
      return toExitCode(err);
    }
    io.stderr.write(`dockward: unexpected error: ${describeError(err)} [DW_E_INTERNAL]\n`);
    if (err instanceof Error && err.stack && process.env['DOCKWARD_DEBUG']) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

export { DockwardError } from './errors.js';

/** Runs the CLI on this process's arguments and exits with its code (bin/dockward.js calls it). */
export async function run(): Promise<never> {
  const code = await main(process.argv.slice(2));
  // stdout/stderr are synchronous for files and pipes on Linux, so nothing printed is lost.
  process.exit(code);
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) void run();

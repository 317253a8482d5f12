#!/usr/bin/env node
import { CommanderError } from 'commander';
import { type CliIo, processIo } from './cli/output.js';
import { loadProgram } from './cli/program.js';
import { DockwardError, describeError, fromSystemError, isDockwardError, toExitCode } from './errors.js';

/** Runs the CLI and returns the exit code; the only place that decides how dockward exits. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const json = argv.includes('--json');
  try {
    await (await loadProgram(argv, io)).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      // Commander already printed the message or the help text.
      if (
        caught.code === 'commander.helpDisplayed' ||
        caught.code === 'commander.version' ||
        caught.code === 'commander.help'
      ) {
        return 0;
      }
      return 2;
    }
    // A failed listen, open or connect is the user's to fix: say so, with its own code.
    const err = isDockwardError(caught) ? caught : fromSystemError(caught);
    if (err instanceof DockwardError) {
      io.stderr.write(`dockward: ${err.message} [${err.code}]\n`);
      if (err.hint) io.stderr.write(`  fix: ${err.hint}\n`);
      if (json && !err.resultPrinted) {
        io.stdout.write(
          `${JSON.stringify({ error: { code: err.code, message: err.message, hint: err.hint } }, null, 2)}\n`,
        );
      }
      return toExitCode(err);
    }
    io.stderr.write(`dockward: unexpected error: ${describeError(caught)} [DW_E_INTERNAL]\n`);
    io.stderr.write('  fix: this is a bug in dockward: please report it with the command you ran.\n');
    if (caught instanceof Error && caught.stack && process.env['DOCKWARD_DEBUG']) {
      io.stderr.write(`${caught.stack}\n`);
    }
    return 1;
  }
}

export { DockwardError } from './errors.js';

/**
 * Resolves once everything written to the stream so far has been handed to the OS. A pipe whose
 * reader is slow (`| wc -c`) takes writes asynchronously once its 64 KiB buffer is full; exiting
 * before this resolves would cut the output there.
 */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

/**
 * A reader that went away (`| head`) is not an error: what is left to print has nobody to read it,
 * so dockward finishes quietly, as cat and grep do, and exits with the command's own code.
 */
function quietWhenReaderGone(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || stream.destroyed) return;
    throw err;
  });
}

/** Runs the CLI on this process's arguments and exits with its code (bin/dockward.js calls it). */
export async function run(): Promise<never> {
  quietWhenReaderGone(process.stdout);
  quietWhenReaderGone(process.stderr);
  const exitCode = await main(process.argv.slice(2));
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(exitCode);
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) void run();

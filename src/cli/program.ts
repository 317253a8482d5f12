import { Command, Option } from 'commander';
import { LOG_FORMATS } from '../log.js';
import { VERSION } from '../version.js';
import { bindIo } from './context.js';
import { type CliIo, processIo } from './output.js';

/**
 * The command groups, each loaded only when asked for: a command imports its own group and not the
 * other twelve (the console's web server, the event stores, the archive code), which keeps the
 * gateway's and every short command's memory and start time down. Order is the help's order.
 */
const GROUPS: ReadonlyArray<{ name: string; load: () => Promise<Command> }> = [
  { name: 'up', load: async () => (await import('./up/index.js')).upCommand() },
  { name: 'pki', load: async () => (await import('./pki/index.js')).pkiCommand() },
  { name: 'daemon', load: async () => (await import('./daemon/index.js')).daemonCommand() },
  { name: 'init', load: async () => (await import('./init/index.js')).initCommand() },
  { name: 'gateway', load: async () => (await import('./gateway/index.js')).gatewayCommand() },
  { name: 'audit', load: async () => (await import('./audit/index.js')).auditCommand() },
  { name: 'audit-log', load: async () => (await import('./audit-log/index.js')).auditLogCommand() },
  { name: 'policy', load: async () => (await import('./policy/index.js')).policyCommand() },
  { name: 'host', load: async () => (await import('./host/index.js')).hostCommand() },
  { name: 'hosts', load: async () => (await import('./hosts/index.js')).hostsCommand() },
  { name: 'monitor', load: async () => (await import('./monitor/index.js')).monitorCommand() },
  { name: 'console', load: async () => (await import('./console/index.js')).consoleCommand() },
  { name: 'service', load: async () => (await import('./service/index.js')).serviceCommand() },
];

/** Global options that take a value: the word after them is not the command. */
const VALUE_OPTIONS = new Set(['--home', '--log-format']);

/** The command word of argv (the first word that is neither an option nor an option's value). */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return argv[i + 1];
    if (VALUE_OPTIONS.has(word)) {
      i++;
      continue;
    }
    if (!word.startsWith('-')) return word;
  }
  return undefined;
}

/**
 * The program for this argv: only the named group when argv names one, every group otherwise
 * (top-level help, an unknown command that commander suggests a name for).
 */
export async function loadProgram(argv: readonly string[] = [], io: CliIo = processIo): Promise<Command> {
  const word = commandWord(argv);
  const wanted = GROUPS.filter((g) => g.name === word);
  return buildProgram(await Promise.all((wanted.length > 0 ? wanted : GROUPS).map((g) => g.load())), io);
}

/** Declares the command tree; each group lives in src/cli/<group>/, one file per subcommand. */
export function buildProgram(commands: readonly Command[], io: CliIo = processIo): Command {
  const program = new Command('dockward')
    .description('Secure remote access to the Docker daemon: PKI, hardening, audit, an mTLS gateway.')
    .version(VERSION)
    .option('--home <dir>', 'state folder (default: $DOCKWARD_HOME or ~/.dockward)')
    .option('--json', 'print results as JSON')
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines on stderr: pretty (coloured, for a terminal; NO_COLOR turns colour off) or json (JSON lines); default: pretty on a terminal, else json (or $DOCKWARD_LOG_FORMAT)',
      ).choices(LOG_FORMATS),
    )
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions(false);
  for (const command of commands) program.addCommand(command);
  // Exit codes and error output are decided in one place (src/index.ts), so commander must throw.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    for (const sub of cmd.commands) override(sub);
  };
  override(program);
  bindIo(program, io);
  return program;
}

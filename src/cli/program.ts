import { Command } from 'commander';
import { bindIo } from './context.js';
import { type CliIo, processIo } from './output.js';
import { auditCommand } from './audit.js';
import { auditLogCommand } from './audit-log.js';
import { daemonCommand } from './daemon.js';
import { gatewayCommand } from './gateway.js';
import { hostsCommand } from './hosts.js';
import { initCommand } from './init.js';
import { monitorCommand } from './monitor.js';
import { policyCommand } from './policy.js';
import { pkiCommand } from './pki.js';
import { upCommand } from './up.js';
import { consoleCommand } from './console/serve.js';

export const VERSION = '0.1.0';

/** Declares the command tree; each group lives in its own module under src/cli/. */
export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('dockward')
    .description('Secure remote access to the Docker daemon: PKI, hardening, audit, an mTLS gateway.')
    .version(VERSION)
    .option('--home <dir>', 'state folder (default: $DOCKWARD_HOME or ~/.dockward)')
    .option('--json', 'print results as JSON')
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions(false);
  program.addCommand(upCommand());
  program.addCommand(pkiCommand());
  program.addCommand(daemonCommand());
  program.addCommand(initCommand());
  program.addCommand(gatewayCommand());
  program.addCommand(auditCommand());
  program.addCommand(auditLogCommand());
  program.addCommand(policyCommand());
  program.addCommand(hostsCommand());
  program.addCommand(monitorCommand());
  program.addCommand(consoleCommand());
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

import { Command, Option } from 'commander';
import { LOG_FORMATS } from '../log.js';
import { VERSION } from '../version.js';
import { auditCommand } from './audit/index.js';
import { auditLogCommand } from './audit-log/index.js';
import { bindIo } from './context.js';
import { daemonCommand } from './daemon/index.js';
import { gatewayCommand } from './gateway/index.js';
import { hostCommand } from './host/index.js';
import { hostsCommand } from './hosts/index.js';
import { initCommand } from './init/index.js';
import { monitorCommand } from './monitor/index.js';
import { type CliIo, processIo } from './output.js';
import { pkiCommand } from './pki/index.js';
import { policyCommand } from './policy/index.js';
import { upCommand } from './up/index.js';
import { consoleCommand } from './console/index.js';
import { serviceCommand } from './service/index.js';

/** Declares the command tree; each group lives in src/cli/<group>/, one file per subcommand. */
export function buildProgram(io: CliIo = processIo): Command {
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
  program.addCommand(upCommand());
  program.addCommand(pkiCommand());
  program.addCommand(daemonCommand());
  program.addCommand(initCommand());
  program.addCommand(gatewayCommand());
  program.addCommand(auditCommand());
  program.addCommand(auditLogCommand());
  program.addCommand(policyCommand());
  program.addCommand(hostCommand());
  program.addCommand(hostsCommand());
  program.addCommand(monitorCommand());
  program.addCommand(consoleCommand());
  program.addCommand(serviceCommand());
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

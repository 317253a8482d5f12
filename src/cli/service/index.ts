import { Command } from 'commander';
import { contextOf } from '../context.js';
import { type InstallOptions, install, renderInstall } from './install.js';
import { renderStatus, status } from './status.js';
import { renderUninstall, uninstall } from './uninstall.js';

/** `dockward service`: declarations only. */
export function serviceCommand(): Command {
  const service = new Command('service').description(
    'Run the gateway or the monitor as a hardened systemd service (dedicated user, sandboxed, restarted on failure).',
  );
  service
    .command('install')
    .description(
      'Write dockward-NAME.service with the flags after --, reload systemd, enable and start it, check it stays active.',
    )
    .argument('<name>', 'gateway | monitor')
    .argument(
      '[args...]',
      "the command's own flags, after -- (e.g. -- --listen 0.0.0.0:2376 --audit-log /var/log/dockward/gateway.log)",
    )
    .option('--exec <path>', 'the dockward executable systemd starts (default: dockward on PATH)')
    .action(async (name: string, args: string[], opts: InstallOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await install(ctx, name, args, opts), renderInstall);
    });
  service
    .command('status')
    .description("systemctl's state of dockward-NAME.service and its last journal lines")
    .argument('<name>', 'gateway | monitor')
    .option('--lines <n>', 'journal lines to show', '15')
    .action(async (name: string, opts: { lines: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await status(name, opts), renderStatus);
    });
  service
    .command('uninstall')
    .description('Stop, disable and remove dockward-NAME.service (its user, state and logs stay)')
    .argument('<name>', 'gateway | monitor')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      ctx.out.result(await uninstall(ctx, name), renderUninstall);
    });
  return service;
}

import { Command } from 'commander';
import { contextOf } from '../context.js';
import { DEFAULT_SOCKET, renderUp, type UpOptions, up } from './up.js';

/** `dockward up`: declarations only. */
export function upCommand(): Command {
  return new Command('up')
    .description(
      'First run: PKI, the gateway in front of the local daemon (or a sandbox dockerd), a docker context.',
    )
    .option('--listen <host:port>', 'where the gateway listens', '127.0.0.1:2376')
    .option(
      '--upstream <url>',
      `the daemon (default: unix://${DEFAULT_SOCKET} when it answers, else a sandbox dockerd)`,
    )
    .option(
      '--install-missing',
      "as root, install Debian's docker.io with apt when dockerd is missing (npm start does)",
    )
    .option('--no-context', 'do not write the docker context "dockward"')
    .addHelpText(
      'after',
      '\nOne `up` per --home: a second one exits 2 (DW_E_ALREADY_RUNNING) naming the running one, how to reach and stop it.',
    )
    .action(async (opts: UpOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      await up(ctx, opts, (started) => {
        const { certDir: _, ...data } = started;
        ctx.out.result(data, () => renderUp(started));
      });
    });
}

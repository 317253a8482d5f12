import { Command } from 'commander';
import { contextOf } from '../context.js';
import { auditLogVerify, renderVerify } from './verify.js';

/** `dockward audit-log`: declarations only. */
export function auditLogCommand(): Command {
  const auditLog = new Command('audit-log').description(
    "The gateway's audit log: verify that no record was edited, deleted or reordered.",
  );

  auditLog
    .command('verify <files...>')
    .description(
      'Verify the hash chain. With one FILE its rotated files (FILE.N … FILE.1) are read too, oldest ' +
        'first; with several, give them oldest first. Exit 1 names the first bad record.',
    )
    .option('--no-rotated', 'with one FILE, do not read its rotated FILE.N files')
    .option('--strict', 'also fail on torn lines (writes a crash interrupted)')
    .option('--anchor <hash>', 'the prev hash the first record must carry (a head noted from an older file)')
    .action(
      async (
        files: string[],
        opts: { rotated: boolean; strict?: boolean; anchor?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        ctx.out.result(await auditLogVerify(ctx, { files, ...opts }), renderVerify);
      },
    );

  return auditLog;
}

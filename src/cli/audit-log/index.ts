import { Command } from 'commander';
import { contextOf } from '../context.js';
import { type AuditLogChainsOptions, failOnBrokenChain, renderChains, verifyStoreChains } from './chains.js';
import { type AuditLogQueryOptions, queryAuditLog, renderAuditPage } from './query.js';
import { auditLogVerify, renderVerify } from './verify.js';

const STORE_FLAG_HELP =
  'event store: sqlite:FILE or postgres://USER@HOST:PORT/DB (default: sqlite:HOME/events.db)';

/** `dockward audit-log`: declarations only. */
export function auditLogCommand(): Command {
  const auditLog = new Command('audit-log').description(
    "The gateway's audit log: verify that no record was edited, deleted or reordered; query what the event store holds.",
  );

  auditLog
    .command('verify <files...>')
    .description(
      'Verify the hash chain. With one FILE its rotated files (FILE.N … FILE.1) are read too, oldest ' +
        'first; with several, give them oldest first. Checked against the latest signed head of ' +
        'FILE.heads: exit 1 names the first bad record, or a log cut, replaced or missing a rotated file.',
    )
    .option('--no-rotated', 'with one FILE, do not read its rotated FILE.N files')
    .option('--strict', 'also fail on torn lines (writes a crash interrupted)')
    .option('--anchor <hash>', 'the prev hash the first record must carry (a head noted from an older file)')
    .option('--heads <file>', "the gateway's signed chain heads (default: the last FILE given + .heads)")
    .option('--ca <file>', "the CA the heads' signer must be issued by (default: the PKI's ca.pem)")
    .option('--require-signed-head', 'fail when there is no signed head (default: a warning)')
    .action(
      async (
        files: string[],
        opts: {
          rotated: boolean;
          strict?: boolean;
          anchor?: string;
          heads?: string;
          ca?: string;
          requireSignedHead?: boolean;
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        ctx.out.result(await auditLogVerify(ctx, { files, ...opts }), renderVerify);
      },
    );

  auditLog
    .command('query')
    .description('Query the audit records shipped to the event store (all gateways), oldest first.')
    .option('--store <url>', STORE_FLAG_HELP)
    .option('--identity <cn>', 'only records of this client certificate CN')
    .option('--host <name>', 'only records from gateways on this host')
    .option('--endpoint <name>', 'only requests to this endpoint (e.g. container.create)')
    .option('--decision <allow|deny>', 'only allowed or denied requests')
    .option('--since <time>', 'from this time: 24h, 7d, 30m before now, or an ISO time')
    .option('--until <time>', 'before this time (same forms)')
    .option('--limit <n>', 'records per page (1..1000, default 50)')
    .option('--order <asc|desc>', 'asc: oldest first (default); desc: newest first')
    .option('--cursor <c>', 'the next page (printed after a full page)')
    .action(async (opts: AuditLogQueryOptions, cmd: Command) => {
      const { paths, out } = contextOf(cmd);
      out.result(await queryAuditLog(paths, opts), renderAuditPage);
    });

  auditLog
    .command('chains')
    .description(
      "Verify the hash chain of every gateway log in the event store and its head's signature; exit 1 names a broken one.",
    )
    .option('--store <url>', STORE_FLAG_HELP)
    .action(async (opts: AuditLogChainsOptions, cmd: Command) => {
      const { paths, out } = contextOf(cmd);
      const res = await verifyStoreChains(paths, opts);
      out.result(res, renderChains);
      failOnBrokenChain(res);
    });

  return auditLog;
}

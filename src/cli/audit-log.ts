import { Command } from 'commander';
import { DockwardError } from '../errors.js';
import { describeProblem, type VerifyResult, verifyAuditLog } from '../gateway/audit-log/verify.js';
import { contextOf } from './context.js';
import { addAuditLogQuery } from './audit-log/query.js';

/** `dockward audit-log`: checks the gateway's hash-chained audit log. */
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
    .action(async (files: string[], opts: { rotated: boolean; strict?: boolean; anchor?: string }, cmd) => {
      const { out } = contextOf(cmd);
      if (opts.anchor !== undefined && !/^[0-9a-f]{64}$/.test(opts.anchor)) {
        throw new DockwardError('DW_E_USAGE', `--anchor "${opts.anchor}" is not a sha256 hash`, {
          hint: 'Pass the 64 lowercase hex digits of a record hash, e.g. the head a previous verify printed.',
        });
      }
      const res = await verifyAuditLog(files, {
        discover: opts.rotated,
        strict: opts.strict === true,
        ...(opts.anchor !== undefined ? { anchor: opts.anchor } : {}),
      });
      if (res.problem) {
        for (const line of tornNotes(res)) out.info(line);
        throw new DockwardError('DW_E_AUDIT_LOG_TAMPERED', describeProblem(res.problem), {
          hint:
            res.records > 0
              ? `The ${res.records} records before it verify (seq ${res.firstSeq}..${res.lastSeq}); compare the rest with a shipped copy of the log.`
              : 'Compare the log with a shipped copy of it.',
        });
      }
      out.result(res, renderVerify);
    });

  addAuditLogQuery(auditLog);
  return auditLog;
}

function renderVerify(r: VerifyResult): string {
  if (r.records === 0) {
    return [
      `ok: 0 records (${r.files.map((f) => f.path).join(', ')} holds no record yet)`,
      ...tornNotes(r),
    ].join('\n');
  }
  return [
    `ok: ${r.records} records, chain intact (first seq ${r.firstSeq}, last seq ${r.lastSeq})`,
    ...r.files.map(
      (f) => `  ${f.path}: ${f.records === 0 ? 'no records' : `seq ${f.firstSeq}..${f.lastSeq}`}`,
    ),
    `  head ${r.lastHash} (keep it elsewhere to detect a later rewrite)`,
    ...(r.fromStart
      ? []
      : [`  note: the chain starts at seq ${r.firstSeq}; older records are in files not given here`]),
    ...tornNotes(r),
  ].join('\n');
}

function tornNotes(r: VerifyResult): string[] {
  return r.torn.map(
    (t) =>
      `  note: ${t.file}:${t.line}: torn line (${t.bytes} bytes), a write a crash interrupted; it holds no record` +
      (t.recovered ? ' and the chain continues after it' : ''),
  );
}

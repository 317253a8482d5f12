import { DockwardError } from '../../errors.js';
import { readPkiCa } from '../../events/head-signature.js';
import { checkSignedHeads, type HeadCheck } from '../../gateway/audit-log/head-check.js';
import { headsPathFor, readHeads } from '../../gateway/audit-log/heads.js';
import { describeProblem, type VerifyResult, verifyAuditLog } from '../../gateway/audit-log/verify.js';
import type { CommandContext } from '../context.js';

export interface AuditLogVerifyOptions {
  files: string[];
  rotated: boolean;
  strict?: boolean;
  anchor?: string;
  heads?: string;
  ca?: string;
  requireSignedHead?: boolean;
}

export type AuditLogVerifyResult = VerifyResult & { headsFile: string; signedHead: HeadCheck };

/**
 * `dockward audit-log verify FILE...`: the hash chain intact and consistent with the latest signed
 * head of `FILE.heads`, or DW_E_AUDIT_LOG_TAMPERED naming what is wrong.
 */
export async function auditLogVerify(
  ctx: CommandContext,
  opts: AuditLogVerifyOptions,
): Promise<AuditLogVerifyResult> {
  if (opts.anchor !== undefined && !/^[0-9a-f]{64}$/.test(opts.anchor)) {
    throw new DockwardError('DW_E_USAGE', `--anchor "${opts.anchor}" is not a sha256 hash`, {
      hint: 'Pass the 64 lowercase hex digits of a record hash, e.g. the head a previous verify printed.',
    });
  }
  const headsFile = opts.heads ?? headsPathFor(opts.files[opts.files.length - 1] ?? '');
  const read = await readHeads(headsFile).catch((err: unknown) => {
    throw new DockwardError(
      'DW_E_FILE',
      `cannot read the heads file ${headsFile}: ${(err as Error).message}`,
    );
  });
  if (opts.heads !== undefined && read === undefined) {
    throw new DockwardError('DW_E_INPUT', `no heads file at ${opts.heads}`, {
      hint: 'Pass the FILE.heads the gateway writes beside its --audit-log FILE.',
    });
  }
  const res = await verifyAuditLog(opts.files, {
    discover: opts.rotated,
    strict: opts.strict === true,
    ...(opts.anchor !== undefined ? { anchor: opts.anchor } : {}),
    checkpoints: new Set((read?.heads ?? []).map((h) => h.seq)),
  });
  if (res.problem) {
    for (const line of tornNotes(res)) ctx.out.info(line);
    throw new DockwardError('DW_E_AUDIT_LOG_TAMPERED', describeProblem(res.problem), {
      hint:
        res.records > 0
          ? `The ${res.records} records before it verify (seq ${res.firstSeq}..${res.lastSeq}); compare the rest with a shipped copy of the log.`
          : 'Compare the log with a shipped copy of it.',
    });
  }
  const caPem = opts.ca !== undefined ? await readPkiCa(opts.ca) : await readPkiCa(ctx.paths.caCert);
  if (opts.ca !== undefined && caPem === undefined) {
    throw new DockwardError('DW_E_INPUT', `no CA certificate at ${opts.ca}`, {
      hint: "Pass the PKI's ca.pem (the CA that issued the gateway's certificate).",
    });
  }
  const signedHead = checkSignedHeads(res, read, { caPem, wholeLog: opts.rotated, headsFile });
  if (signedHead.status === 'failed') {
    throw new DockwardError('DW_E_AUDIT_LOG_TAMPERED', signedHead.problem ?? 'the signed head check failed', {
      hint: `The chain itself verifies (${res.records} records, seq ${res.firstSeq ?? '-'}..${res.lastSeq ?? '-'}); the signed heads in ${headsFile} say more was there. Compare with a shipped copy (the event store, the gateway's own log lines 'audit chain head signed').`,
    });
  }
  if (signedHead.status === 'ok' && !signedHead.caChecked) {
    const why = `the signer of the heads (CN=${signedHead.signer ?? '?'}) was not checked against a CA: no ca.pem in the dockward home`;
    if (opts.requireSignedHead) {
      throw new DockwardError('DW_E_AUDIT_LOG_TAMPERED', why, {
        hint: "Pass --ca with the PKI's ca.pem (or --home): a head signed by a key of an attacker's own would pass without it.",
      });
    }
    ctx.out.info(`warning: ${why}; pass --ca FILE (or --home) to check it`);
  }
  if (signedHead.status === 'none') {
    const warning = `warning: no signed head (${headsFile} ${read ? 'holds none' : 'does not exist'}): records cut from the end, a replaced file or a deleted oldest file cannot be detected`;
    if (opts.requireSignedHead) {
      throw new DockwardError(
        'DW_E_AUDIT_LOG_TAMPERED',
        `no signed head for ${opts.files.join(', ')}: ${headsFile} ${read ? 'holds none' : 'does not exist'}`,
        {
          hint: 'The gateway writes FILE.heads beside its --audit-log FILE; pass --heads if it was moved, or drop --require-signed-head for a log of an older gateway.',
        },
      );
    }
    ctx.out.info(warning);
  }
  return { ...res, headsFile, signedHead };
}

export function renderVerify(r: AuditLogVerifyResult): string {
  const head = headLines(r);
  if (r.records === 0) {
    return [
      `ok: 0 records (${r.files.map((f) => f.path).join(', ')} holds no record yet)`,
      ...head,
      ...tornNotes(r),
    ].join('\n');
  }
  return [
    `ok: ${r.records} records, chain intact (first seq ${r.firstSeq}, last seq ${r.lastSeq})`,
    ...r.files.map(
      (f) => `  ${f.path}: ${f.records === 0 ? 'no records' : `seq ${f.firstSeq}..${f.lastSeq}`}`,
    ),
    `  head ${r.lastHash} (keep it elsewhere to detect a later rewrite)`,
    ...head,
    ...(r.fromStart
      ? []
      : [`  note: the chain starts at seq ${r.firstSeq}; older records are in files not given here`]),
    ...tornNotes(r),
  ].join('\n');
}

function headLines(r: AuditLogVerifyResult): string[] {
  const h = r.signedHead;
  if (h.status !== 'ok' || !h.head) return ['  signed head: none (see the warning)'];
  return [
    `  signed head: seq ${h.head.seq} at ${h.head.time} by CN=${h.signer ?? '?'} (${h.caChecked ? 'CA-issued' : 'CA NOT CHECKED'}), log starts at seq ${h.head.start}: matches (${h.heads} heads in ${r.headsFile})`,
  ];
}

function tornNotes(r: VerifyResult): string[] {
  return r.torn.map(
    (t) =>
      `  note: ${t.file}:${t.line}: torn line (${t.bytes} bytes), a write a crash interrupted; it holds no record` +
      (t.recovered ? ' and the chain continues after it' : ''),
  );
}

/**
 * Checks a verified chain against the signed heads of `FILE.heads`: each head's signature under a
 * certificate the PKI's CA issued, then the log against the latest one (cut, replaced, a rotated
 * file missing). Pure: the CLI reads the files.
 */
import { checkSignedBytes } from '../../events/head-signature.js';
import { type LogHead, logHeadBytes, type ReadHeads } from './heads.js';
import type { VerifyResult } from './verify.js';

export interface HeadCheck {
  /** `none`: no signed head to check against (no heads file, or an empty one). */
  status: 'ok' | 'none' | 'failed';
  /** The latest signed head. */
  head: LogHead | null;
  /** Its signer's CN. */
  signer: string | null;
  /** Signed heads in the file. */
  heads: number;
  /** False when no CA was at hand: the signatures verify, but whose key made them is unchecked. */
  caChecked: boolean;
  problem: string | null;
}

export interface HeadCheckOptions {
  /** The PKI's CA certificate (PEM); without it the signer is unchecked (reported, as the store does). */
  caPem: string | undefined;
  /** The files read are the whole log (rotated files included), so its start can be checked. */
  wholeLog: boolean;
  /** Where the heads came from, for messages. */
  headsFile: string;
}

export function checkSignedHeads(
  res: VerifyResult,
  read: ReadHeads | undefined,
  opts: HeadCheckOptions,
): HeadCheck {
  const heads = read?.heads ?? [];
  const latest = heads[heads.length - 1] ?? null;
  const out = (problem: string | null, signer: string | null = null): HeadCheck => ({
    status: problem ? 'failed' : 'ok',
    head: latest,
    signer,
    heads: heads.length,
    caChecked: opts.caPem !== undefined,
    problem,
  });
  if (read && read.bad.length > 0) {
    return out(`${opts.headsFile} ${read.bad[0]}: the heads file was damaged or edited`);
  }
  if (!latest) return { status: 'none', head: null, signer: null, heads: 0, caChecked: false, problem: null };
  let signer: string | null = null;
  let prev: LogHead | undefined;
  for (const [i, h] of heads.entries()) {
    const s = checkSignedBytes(logHeadBytes(h), h.signature, h.certificate, opts.caPem);
    const where = `the signed head at seq ${h.seq} (${opts.headsFile}, head ${i + 1})`;
    if (!s.verified) return out(`${where} does not verify: the heads file was edited`);
    if (s.chainsToCa === false) {
      return out(`${where} is signed by CN=${s.cn ?? '?'}, a certificate the PKI's CA did not issue`);
    }
    if (prev && (h.seq < prev.seq || h.start < prev.start)) {
      return out(
        `${where} goes back from seq ${prev.seq} (start ${prev.start}): the log was cut while the gateway was stopped, or the heads file was reordered`,
      );
    }
    signer = s.cn ?? null;
    prev = h;
  }
  const ends = res.lastSeq;
  if (latest.seq > (ends ?? 0)) {
    return out(
      ends === null
        ? `truncated: the signed head at seq ${latest.seq} is not in the log, which holds no record`
        : `truncated: the signed head at seq ${latest.seq} is not in the log, which ends at seq ${ends}`,
      signer,
    );
  }
  const first = res.firstSeq;
  if (opts.wholeLog && first !== null && first > latest.start) {
    const oldest = res.files.find((f) => f.records > 0)?.path ?? '?';
    return out(
      `a rotated file is missing: the signed head at seq ${latest.seq} says the log starts at seq ${latest.start}, ` +
        `but its oldest file ${oldest} starts at seq ${first} (seq ${latest.start}..${first - 1} are gone)`,
      signer,
    );
  }
  const hashes = new Map((res.checkpoints ?? []).map((c) => [c.seq, c.hash]));
  for (const h of heads) {
    if (h.seq === 0 || first === null || h.seq < first || h.seq > (ends ?? 0)) continue;
    const found = hashes.get(h.seq);
    if (found !== h.hash) {
      return out(
        `replaced: the record at seq ${h.seq} has hash ${found ?? '(none)'}, not ${h.hash} that the head signed at ${h.time} vouches for: the log was rewritten`,
        signer,
      );
    }
  }
  return out(null, signer);
}

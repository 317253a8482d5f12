/**
 * Verifies the hash chain of each gateway log from the store: the same checks as
 * `audit-log verify` (hash recomputes, prev links, seq steps by one) over the stored records, in
 * seq order, and whether the last one is the chain head the gateway reported. A signed head is
 * checked too: a signature that does not verify, or a signer the PKI's CA did not issue, fails the
 * chain; an unsigned one (an older gateway) is reported, not failed.
 */
import { canonicalJson, sha256Hex } from '../gateway/audit-log/chain.js';
import { ZERO_HASH } from '../gateway/audit-log/record.js';
import { checkHeadSignature } from './head-signature.js';
import type { EventStore, StoreChainResult } from './model.js';

const BATCH = 5000;

/** Where an earlier verification stopped: continue after it instead of from the first record. */
export interface VerifiedUpTo {
  seq: number;
  hash: string;
  records: number;
  firstSeq: number | null;
}

export async function verifyStoredChain(
  store: EventStore,
  source: string,
  from?: VerifiedUpTo,
  /** The PKI's CA certificate (PEM): whether a head's signer was issued by it. */
  caPem?: string,
): Promise<StoreChainResult> {
  const heads = await store.chainHeads();
  const head = heads.find((h) => h.source === source);
  const res: StoreChainResult = {
    source,
    ok: true,
    records: from?.records ?? 0,
    firstSeq: from?.firstSeq ?? null,
    lastSeq: null,
    lastHash: null,
    matchesHead: null,
    headSignature: head ? checkHeadSignature(head, caPem) : null,
  };
  let prevHash: string | null = from?.hash ?? null;
  let prevSeq = from?.seq ?? 0;
  for (;;) {
    const batch = await store.scanSource(source, prevSeq, BATCH);
    if (batch.length === 0) break;
    for (const record of batch) {
      const fail = (message: string) => {
        res.ok = false;
        res.problem = { seq: record.seq, message };
      };
      if (sha256Hex(canonicalJson(record, 'hash')) !== record.hash) {
        fail('its hash does not match its content: the record was edited');
      } else if (prevHash === null && record.seq === 1 && record.prev !== ZERO_HASH) {
        fail('the first record of the chain does not start from the zero hash');
      } else if (prevHash !== null && record.seq !== prevSeq + 1) {
        fail(`seq ${prevSeq + 1}..${record.seq - 1} missing from the store`);
      } else if (prevHash !== null && record.prev !== prevHash) {
        fail('its prev is not the hash of the record before it');
      }
      if (!res.ok) return res;
      if (res.firstSeq === null) res.firstSeq = record.seq;
      res.records++;
      prevHash = record.hash;
      prevSeq = record.seq;
    }
  }
  res.lastSeq = res.records > 0 ? prevSeq : null;
  res.lastHash = prevHash;
  if (head)
    res.matchesHead = head.seq === prevSeq ? head.hash === prevHash : head.seq > prevSeq ? false : null;
  if (head && head.seq === prevSeq && head.hash !== prevHash) {
    res.ok = false;
    res.problem = { seq: prevSeq, message: 'the last record is not the chain head the gateway reported' };
  } else if (
    head &&
    res.headSignature?.signed &&
    (!res.headSignature.verified || res.headSignature.chainsToCa === false)
  ) {
    res.ok = false;
    res.problem = {
      seq: head.seq,
      message: res.headSignature.problem ?? 'the chain head signature does not verify',
    };
  }
  return res;
}

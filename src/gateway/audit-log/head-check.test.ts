// Verify against signed heads with real keys: the PKI's gateway certificate (issued by the PKI
// code) signs; a second CA's certificate plays the foreign signer.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type KeySigner, loadKeySigner } from '../../events/head-signature.js';
import { initCa } from '../../pki/init-ca.js';
import { issueCertificate } from '../../pki/issue.js';
import { noPassphrase } from '../../pki/test-support.js';
import { statePaths } from '../../store/paths.js';
import { checkSignedHeads } from './head-check.js';
import { HeadKeeper, headsPathFor, readHeads } from './heads.js';
import { readLines, sampleRecord, tempDir, writeLines } from './test-support.js';
import { verifyAuditLog } from './verify.js';
import { AuditLogWriter } from './writer.js';

const base = tempDir('dw-head-check-');
after(() => rmSync(base, { recursive: true, force: true }));
let ca = '';
let signer: KeySigner;
let foreign: KeySigner;
let n = 0;

async function pkiSigner(home: string): Promise<{ ca: string; signer: KeySigner }> {
  const paths = statePaths(home);
  await initCa(paths, {}, noPassphrase);
  await issueCertificate(paths, { kind: 'server', name: 'gateway', sans: ['DNS:localhost'] }, noPassphrase);
  const dir = paths.issuedDir('gateway');
  return {
    ca: readFileSync(paths.caCert, 'utf8'),
    signer: await loadKeySigner(join(dir, 'cert.pem'), join(dir, 'key.pem')),
  };
}

before(async () => {
  ({ ca, signer } = await pkiSigner(join(base, 'home')));
  ({ signer: foreign } = await pkiSigner(join(base, 'other')));
});

/** A log of `count` records rotated at 2 KiB, with its signed heads (a head every 20 records, and at stop). */
async function signedLog(
  count: number,
  opts: { keySigner?: KeySigner; keep?: number; maxBytes?: number } = {},
) {
  const path = join(base, `case-${++n}`, 'gateway.log');
  const writer = await AuditLogWriter.open(path, { maxBytes: opts.maxBytes ?? 2048, keep: opts.keep ?? 100 });
  const keeper = new HeadKeeper({
    writer,
    signer: opts.keySigner ?? signer,
    source: `test:${path}`,
    everyRecords: 20,
    everyMs: 60_000,
  });
  for (let i = 0; i < count; i++) {
    writer.append(sampleRecord(i));
    if (i % 10 === 9) await writer.flush();
  }
  await writer.close();
  await keeper.stop();
  return path;
}

async function check(path: string, wholeLog = true) {
  const read = await readHeads(headsPathFor(path));
  const res = await verifyAuditLog(path, { checkpoints: new Set((read?.heads ?? []).map((h) => h.seq)) });
  return { res, head: checkSignedHeads(res, read, { caPem: ca, wholeLog, headsFile: headsPathFor(path) }) };
}

describe('audit-log verify against signed heads', () => {
  it('passes an untouched rotated log and names the head it matched', async () => {
    const path = await signedLog(200);
    const { res, head } = await check(path);
    assert.equal(res.ok, true);
    assert.ok(res.files.length > 3, 'the log rotated');
    assert.equal(head.status, 'ok', head.problem ?? '');
    assert.equal(head.head?.seq, 200);
    assert.equal(head.signer, 'gateway');
    assert.ok(head.heads >= 10, 'a head every 20 records');
  });

  it('fails a log whose last 50 records were removed: truncated, naming the signed seq and the end', async () => {
    const path = await signedLog(60, { maxBytes: 1024 * 1024 });
    writeLines(path, readLines(path).slice(0, -50));
    const { res, head } = await check(path);
    assert.equal(res.ok, true, 'the cut chain is self-consistent');
    assert.equal(head.status, 'failed');
    assert.match(
      head.problem!,
      /^truncated: the signed head at seq 60 is not in the log, which ends at seq \d+$/,
    );
  });

  it('fails a file replaced by a self-consistent chain: replaced, naming the seq', async () => {
    const path = await signedLog(40);
    const ref = (await readHeads(headsPathFor(path)))!;
    // A new chain of the same length, written by a writer of its own (no key).
    const other = join(base, `forged-${n}`, 'gateway.log');
    const w = await AuditLogWriter.open(other, { maxBytes: 2048, keep: 100 });
    for (let i = 0; i < 40; i++)
      w.append({ ...sampleRecord(i), ...(i % 2 === 1 ? {} : {}), time: '2026-01-01T00:00:00.000Z' });
    await w.close();
    for (const f of [path, ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => `${path}.${k}`)])
      rmSync(f, { force: true });
    for (let k = 1; k < 20; k++) {
      try {
        renameSync(`${other}.${k}`, `${path}.${k}`);
      } catch {
        break;
      }
    }
    renameSync(other, path);
    const { res, head } = await check(path);
    assert.equal(res.ok, true, 'the forged chain is self-consistent');
    assert.equal(ref.heads.at(-1)?.seq, 40);
    assert.equal(head.status, 'failed');
    assert.match(
      head.problem!,
      /^replaced: the record at seq \d+ has hash [0-9a-f]{64}, not [0-9a-f]{64} that the head signed at .* vouches for/,
    );
  });

  it('fails a log whose oldest rotated file was deleted: names the missing seqs', async () => {
    const path = await signedLog(200);
    let oldest = 1;
    while (readLines(`${path}.${oldest + 1}`).length > 0) {
      oldest++;
      try {
        readFileSync(`${path}.${oldest + 1}`);
      } catch {
        break;
      }
    }
    unlinkSync(`${path}.${oldest}`);
    const { res, head } = await check(path);
    assert.equal(res.ok, true);
    assert.equal(head.status, 'failed');
    assert.match(
      head.problem!,
      /^a rotated file is missing: the signed head at seq 200 says the log starts at seq 1, but its oldest file .* starts at seq \d+ \(seq 1\.\.\d+ are gone\)$/,
    );
  });

  it('still fails after a restart when the oldest file was deleted while the gateway was stopped', async () => {
    const path = await signedLog(200);
    let oldest = 1;
    while (readLines(`${path}.${oldest}`).length > 0) {
      try {
        readFileSync(`${path}.${oldest + 1}`);
        oldest++;
      } catch {
        break;
      }
    }
    unlinkSync(`${path}.${oldest}`);
    // The gateway starts again and signs heads: they must not vouch for the shorter log.
    const writer = await AuditLogWriter.open(path, { maxBytes: 2048, keep: 100 });
    const keeper = new HeadKeeper({ writer, signer, source: 'test', everyRecords: 5, everyMs: 60_000 });
    for (let i = 0; i < 10; i++) writer.append(sampleRecord(i));
    await writer.close();
    await keeper.stop();
    const { head } = await check(path);
    assert.equal(head.status, 'failed');
    assert.match(
      head.problem!,
      /^a rotated file is missing: the signed head at seq 210 says the log starts at seq 1/,
    );
  });

  it('passes a log whose oldest files the retention deleted: the signed start moved with them', async () => {
    const path = await signedLog(200, { keep: 2 });
    const { res, head } = await check(path);
    assert.ok(res.firstSeq! > 1, 'old records were rotated away');
    assert.equal(head.status, 'ok', head.problem ?? '');
    assert.equal(head.head?.start, res.firstSeq);
  });

  it('fails heads signed by a certificate the PKI CA did not issue, and an edited head', async () => {
    const path = await signedLog(30, { keySigner: foreign });
    const { head } = await check(path);
    assert.equal(head.status, 'failed');
    assert.match(head.problem!, /signed by CN=gateway, a certificate the PKI's CA did not issue/);
    const own = await signedLog(30);
    const hp = headsPathFor(own);
    writeLines(
      hp,
      readLines(hp).map((l) => l.replace(/"seq":30,/, '"seq":31,')),
    );
    const edited = await check(own);
    assert.equal(edited.head.status, 'failed');
    assert.match(edited.head.problem!, /does not verify: the heads file was edited/);
  });

  it('says plainly when there is no signed head', async () => {
    const path = await signedLog(10);
    unlinkSync(headsPathFor(path));
    const { head } = await check(path);
    assert.equal(head.status, 'none');
  });
});

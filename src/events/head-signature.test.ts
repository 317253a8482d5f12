// Signed chain heads with real keys: the PKI's gateway certificate (issued by the PKI code) and a
// self-signed RSA one made by openssl; signatures checked through a real SQLite store.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sampleRecord, tempDir } from '../gateway/audit-log/test-support.js';
import { AuditLogWriter } from '../gateway/audit-log/writer.js';
import { initCa } from '../pki/init-ca.js';
import { issueCertificate } from '../pki/issue.js';
import { noPassphrase } from '../pki/test-support.js';
import { type StatePaths, statePaths } from '../store/paths.js';
import {
  canonicalHeadBytes,
  checkHeadSignature,
  describeHeadSignature,
  type HeadSigner,
  loadHeadSigner,
} from './head-signature.js';
import { AuditShipper } from './shipper.js';
import { SqliteEventStore } from './sqlite.js';
import { verifyStoredChain } from './verify-chain.js';

const base = tempDir('dw-heads-');
let paths: StatePaths;
let ca: string;
let signer: HeadSigner;
const gatewayDir = () => paths.issuedDir('gateway');
let n = 0;
const fresh = () => join(base, `case-${++n}`);

before(async () => {
  paths = statePaths(join(base, 'home'));
  await initCa(paths, {}, noPassphrase);
  await issueCertificate(paths, { kind: 'server', name: 'gateway', sans: ['DNS:localhost'] }, noPassphrase);
  ca = readFileSync(paths.caCert, 'utf8');
  signer = await loadHeadSigner(join(gatewayDir(), 'cert.pem'), join(gatewayDir(), 'key.pem'));
});
after(() => rmSync(base, { recursive: true, force: true }));

const head = {
  source: 'h:/var/log/gw.log',
  seq: 42,
  hash: 'ab'.repeat(32),
  time: '2026-01-02T03:04:05.000Z',
};

async function shipLog(store: SqliteEventStore, dir: string, count: number, withSigner?: HeadSigner) {
  const log = join(dir, 'gateway.log');
  const writer = await AuditLogWriter.open(log);
  for (let i = 0; i < count; i++) writer.append(sampleRecord(i));
  await writer.close();
  const shipper = new AuditShipper({
    store,
    logPath: log,
    source: 'gw-a',
    host: 'h1',
    pollMs: 20,
    ...(withSigner ? { signer: withSigner } : {}),
  });
  shipper.start();
  await shipper.drain();
  await shipper.stop();
}

describe('signed chain heads', () => {
  it('signs a canonical byte string of source, seq, hash and time with a domain tag', () => {
    assert.equal(
      canonicalHeadBytes(head).toString('utf8'),
      `["dockward-chain-head-v1","h:/var/log/gw.log",42,"${'ab'.repeat(32)}","2026-01-02T03:04:05.000Z"]`,
    );
  });

  it("verifies a head the gateway's PKI key signed, names its CN and finds it issued by the CA", () => {
    const status = checkHeadSignature({ ...head, ...signer(head) }, ca);
    assert.deepEqual(status, { signed: true, cn: 'gateway', verified: true, chainsToCa: true });
    assert.equal(describeHeadSignature(status), 'signed by CN=gateway, verified, chains to the CA');
  });

  it('fails a head whose seq, hash or time changed after signing', () => {
    const signed = { ...head, ...signer(head) };
    for (const changed of [{ seq: 43 }, { hash: 'cd'.repeat(32) }, { time: '2026-01-02T03:04:06.000Z' }]) {
      const status = checkHeadSignature({ ...signed, ...changed }, ca);
      assert.equal(status.verified, false);
      assert.match(status.problem ?? '', /does not verify/);
    }
    assert.equal(checkHeadSignature({ ...signed, signature: 'not base64 at all' }, ca).verified, false);
  });

  it('reports an unsigned head as unsigned, not as a failure', () => {
    assert.deepEqual(checkHeadSignature(head, ca), { signed: false });
    assert.equal(describeHeadSignature({ signed: false }), 'unsigned (an older gateway)');
  });

  it('verifies an openssl RSA key but fails a head whose self-signed certificate the CA did not issue', async () => {
    const dir = fresh();
    execFileSync('mkdir', ['-p', dir]);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=rogue',
        '-days',
        '2',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const rogue = await loadHeadSigner(join(dir, 'cert.pem'), join(dir, 'key.pem'));
    const status = checkHeadSignature({ ...head, ...rogue(head) }, ca);
    assert.deepEqual(status, {
      signed: true,
      cn: 'rogue',
      verified: true,
      chainsToCa: false,
      problem: "the chain head is signed by CN=rogue, a certificate the PKI's CA did not issue",
    });
    // Without the CA at hand the chain is unknown, not failed.
    assert.equal(checkHeadSignature({ ...head, ...rogue(head) }).chainsToCa, null);
    // Shipped into a store, the rogue-signed head fails the chain once the CA is known.
    const store = await SqliteEventStore.open(':memory:');
    await shipLog(store, dir, 5, rogue);
    const chain = await verifyStoredChain(store, 'gw-a', undefined, ca);
    assert.equal(chain.ok, false);
    assert.match(chain.problem?.message ?? '', /CN=rogue, a certificate the PKI's CA did not issue/);
    assert.equal((await verifyStoredChain(store, 'gw-a')).ok, true);
    await store.close();
    // A key that is not the certificate's is refused at load, naming files, never key bytes.
    const err = await loadHeadSigner(join(gatewayDir(), 'cert.pem'), join(dir, 'key.pem')).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error);
    assert.match(err.message, /does not belong to the certificate/);
    assert.doesNotMatch(err.message, /PRIVATE KEY/);
  });

  it('ships signed heads into SQLite; a tampered stored signature fails the chain', async () => {
    const dir = fresh();
    const dbFile = join(dir, 'events.db');
    const store = await SqliteEventStore.open(dbFile);
    await shipLog(store, dir, 30, signer);
    const good = await verifyStoredChain(store, 'gw-a', undefined, ca);
    assert.equal(good.ok, true);
    assert.deepEqual(good.headSignature, { signed: true, cn: 'gateway', verified: true, chainsToCa: true });
    const [stored] = await store.chainHeads();
    assert.match(stored?.certificate ?? '', /BEGIN CERTIFICATE/);
    // Another writer flips a signature byte.
    const db = new Database(dbFile);
    const sig = Buffer.from(stored!.signature!, 'base64');
    sig[0] = sig[0]! ^ 0xff;
    db.prepare('UPDATE chain_heads SET signature = ? WHERE source = ?').run(sig.toString('base64'), 'gw-a');
    db.close();
    const bad = await verifyStoredChain(store, 'gw-a', undefined, ca);
    assert.equal(bad.ok, false);
    assert.equal(bad.problem?.seq, 30);
    assert.match(bad.problem?.message ?? '', /signature does not verify/);
    await store.close();
  });

  it('keeps a signed head when an unsigned one for the same seq arrives', async () => {
    const store = await SqliteEventStore.open(':memory:');
    await store.putChainHead({ ...head, ...signer(head) });
    await store.putChainHead(head);
    assert.ok((await store.chainHeads())[0]?.signature);
    await store.putChainHead({ ...head, seq: 43 });
    assert.equal((await store.chainHeads())[0]?.signature, undefined);
    await store.close();
  });

  it('opens a SQLite file an older dockward wrote (no certificate column) and reports its head unsigned', async () => {
    const dir = fresh();
    const dbFile = join(dir, 'events.db');
    const first = await SqliteEventStore.open(dbFile);
    await shipLog(first, dir, 10);
    await first.close();
    // Back to the version-1 layout: chain_heads without `certificate`.
    const db = new Database(dbFile);
    db.exec('ALTER TABLE chain_heads DROP COLUMN certificate; PRAGMA user_version = 1;');
    db.close();
    const store = await SqliteEventStore.open(dbFile);
    const chain = await verifyStoredChain(store, 'gw-a', undefined, ca);
    assert.equal(chain.ok, true);
    assert.deepEqual(chain.headSignature, { signed: false });
    await store.putChainHead({
      ...head,
      source: 'gw-a',
      seq: 10,
      ...signer({ ...head, source: 'gw-a', seq: 10 }),
    });
    assert.match((await store.chainHeads())[0]?.certificate ?? '', /BEGIN CERTIFICATE/);
    await store.close();
    const check = new Database(dbFile, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), 2);
    check.close();
  });
});

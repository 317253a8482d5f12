import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { statePaths } from '../store/paths.js';
import { initCa } from './init-ca.js';
import { inspectCertificate, listCertificates } from './inventory.js';
import { issueCertificate } from './issue.js';
import { renewCertificates } from './renew.js';
import { revokeCertificate } from './revoke.js';
import { fixedPassphrase, noPassphrase, openssl, snapshotTree } from './test-support.js';

const base = mkdtempSync(join(tmpdir(), 'dw-pki-'));
after(() => rmSync(base, { recursive: true, force: true }));

function errorCode(code: string) {
  return (err: unknown) => (err as { code?: string }).code === code;
}

describe('a PKI made by dockward, checked with the real openssl', () => {
  const paths = statePaths(join(base, 'home'));
  let serverSerial = '';
  let clientSerial = '';

  before(async () => {
    await initCa(paths, {}, noPassphrase);
    serverSerial = (
      await issueCertificate(
        paths,
        { kind: 'server', name: 'dockerhost', sans: ['DNS:dockerhost.example', 'IP:127.0.0.1', 'IP:::1'] },
        noPassphrase,
      )
    ).record.serial;
    clientSerial = (
      await issueCertificate(paths, { kind: 'client', name: 'alice', ou: 'operator' }, noPassphrase)
    ).record.serial;
  });

  it('makes a CA certificate with basicConstraints CA, keyCertSign and cRLSign', () => {
    const text = openssl(['x509', '-in', paths.caCert, '-noout', '-text']).output;
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(text, /ecdsa-with-SHA256/);
  });

  it('issues certificates that openssl verify accepts against the CA', () => {
    for (const name of ['dockerhost', 'alice']) {
      const res = openssl(['verify', '-CAfile', paths.caCert, join(paths.issuedDir(name), 'cert.pem')]);
      assert.equal(res.status, 0, res.output);
      assert.match(res.output, /: OK/);
    }
  });

  it('gives the server certificate serverAuth and its SANs, the client certificate clientAuth and its OU', () => {
    const server = openssl([
      'x509',
      '-in',
      join(paths.issuedDir('dockerhost'), 'cert.pem'),
      '-noout',
      '-text',
    ]).output;
    assert.match(server, /Extended Key Usage: \s+TLS Web Server Authentication\n/);
    assert.match(server, /DNS:dockerhost\.example, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(server, /CA:FALSE/);
    assert.match(server, /Key Usage: critical\s+Digital Signature/);
    const client = openssl([
      'x509',
      '-in',
      join(paths.issuedDir('alice'), 'cert.pem'),
      '-noout',
      '-text',
    ]).output;
    assert.match(client, /Extended Key Usage: \s+TLS Web Client Authentication\n/);
    assert.match(client, /Subject: CN ?= ?alice, OU ?= ?operator/);
    assert.doesNotMatch(client, /Server Authentication/);
  });

  it('uses random 128-bit serials and a notBefore a few minutes in the past', () => {
    assert.match(serverSerial, /^[0-9a-f]{31,32}$/);
    assert.notEqual(serverSerial, clientSerial);
    const start = openssl([
      'x509',
      '-in',
      join(paths.issuedDir('alice'), 'cert.pem'),
      '-noout',
      '-startdate',
    ]);
    const notBefore = Date.parse(start.output.replace('notBefore=', '').trim());
    assert.ok(Date.now() - notBefore >= 4 * 60 * 1000, 'notBefore should be backdated');
  });

  it('writes the DOCKER_CERT_PATH layout with 0700 folders, 0600 keys and 0644 certificates', () => {
    const dir = paths.issuedDir('alice');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(paths.pki).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(paths.caKey).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'cert.pem')).mode & 0o777, 0o644);
    assert.equal(statSync(join(dir, 'ca.pem')).mode & 0o777, 0o644);
    assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), readFileSync(paths.caCert, 'utf8'));
    assert.equal(openssl(['pkey', '-in', join(dir, 'key.pem'), '-noout']).status, 0);
  });

  it('revokes into a signed CRL that openssl verifies and that lists the serial', async () => {
    await revokeCertificate(paths, { name: 'alice', reason: 'keyCompromise' }, noPassphrase);
    const res = openssl(['crl', '-in', paths.crl, '-CAfile', paths.caCert, '-noout', '-text', '-verify']);
    assert.equal(res.status, 0, res.output);
    assert.match(res.output, /verify OK/);
    assert.match(res.output, new RegExp(`Serial Number: ${clientSerial.toUpperCase()}`));
    assert.match(res.output, /Key Compromise/);
    const verify = openssl([
      'verify',
      '-crl_check',
      '-CAfile',
      paths.caCert,
      '-CRLfile',
      paths.crl,
      join(paths.issuedDir('alice'), 'cert.pem'),
    ]);
    assert.notEqual(verify.status, 0);
    assert.match(verify.output, /certificate revoked/);
    const list = await listCertificates(paths);
    assert.equal(list.certs.find((c) => c.name === 'alice')?.status, 'revoked');
  });

  it('refuses to revoke the same certificate twice, or a name it does not know', async () => {
    await assert.rejects(
      revokeCertificate(paths, { name: 'alice' }, noPassphrase),
      errorCode('DW_E_CERT_REVOKED'),
    );
    await assert.rejects(
      revokeCertificate(paths, { name: 'nobody' }, noPassphrase),
      errorCode('DW_E_CERT_UNKNOWN'),
    );
  });

  it('renews with a new key and serial, the same subject and SANs, and keeps the history', async () => {
    const oldKey = readFileSync(join(paths.issuedDir('dockerhost'), 'key.pem'), 'utf8');
    const res = await renewCertificates(paths, { name: 'dockerhost' }, noPassphrase);
    assert.equal(res.renewed.length, 1);
    const renewed = res.renewed[0]!.record;
    assert.notEqual(renewed.serial, serverSerial);
    assert.equal(renewed.renewedFrom, serverSerial);
    assert.deepEqual(renewed.sans, ['DNS:dockerhost.example', 'IP:127.0.0.1', 'IP:::1']);
    assert.notEqual(readFileSync(join(paths.issuedDir('dockerhost'), 'key.pem'), 'utf8'), oldKey);
    const info = await inspectCertificate(paths, 'dockerhost');
    assert.equal(info.current.serial, renewed.serial);
    assert.deepEqual(
      info.history.map((h) => [h.serial, h.status]),
      [[serverSerial, 'superseded']],
    );
    // The old key is kept in a 0600 backup, never lost.
    const backupKey = join(paths.backups, 'dockerhost', serverSerial, 'key.pem');
    assert.equal(readFileSync(backupKey, 'utf8'), oldKey);
    assert.equal(statSync(backupKey).mode & 0o777, 0o600);
  });

  it('with --within renews only certificates that expire inside the window', async () => {
    await issueCertificate(paths, { kind: 'client', name: 'ci', days: 10 }, noPassphrase);
    const res = await renewCertificates(paths, { withinMs: 30 * 24 * 3600e3 }, noPassphrase);
    assert.deepEqual(
      res.renewed.map((r) => r.name),
      ['ci'],
    );
    assert.ok(res.skipped.some((s) => s.name === 'dockerhost'));
    const again = await renewCertificates(paths, { withinMs: 5 * 24 * 3600e3 }, noPassphrase);
    assert.equal(again.renewed.length, 0);
  });
});

describe('bad input writes nothing', () => {
  const paths = statePaths(join(base, 'strict'));
  before(async () => {
    await initCa(paths, {}, noPassphrase);
    await issueCertificate(paths, { kind: 'client', name: 'bob' }, noPassphrase);
  });

  const cases: [string, string, () => Promise<unknown>][] = [
    [
      'a malformed SAN',
      'DW_E_SAN_INVALID',
      () => issueCertificate(paths, { kind: 'server', name: 's1', sans: ['DNS:bad_host'] }, noPassphrase),
    ],
    [
      'a server certificate without SANs',
      'DW_E_SAN_INVALID',
      () => issueCertificate(paths, { kind: 'server', name: 's2' }, noPassphrase),
    ],
    [
      'a duplicate name',
      'DW_E_CERT_EXISTS',
      () => issueCertificate(paths, { kind: 'client', name: 'bob' }, noPassphrase),
    ],
    [
      'a name with a slash',
      'DW_E_NAME_INVALID',
      () => issueCertificate(paths, { kind: 'client', name: '../x' }, noPassphrase),
    ],
    [
      'zero days',
      'DW_E_DURATION',
      () => issueCertificate(paths, { kind: 'client', name: 'z', days: 0 }, noPassphrase),
    ],
    [
      'renew of an unknown name',
      'DW_E_CERT_UNKNOWN',
      () => renewCertificates(paths, { name: 'ghost' }, noPassphrase),
    ],
    [
      'revoke of an unknown name',
      'DW_E_CERT_UNKNOWN',
      () => revokeCertificate(paths, { name: 'ghost' }, noPassphrase),
    ],
    ['init over an existing CA', 'DW_E_CA_EXISTS', () => initCa(paths, {}, noPassphrase)],
  ];
  for (const [what, code, run] of cases) {
    it(`refuses ${what} with ${code}`, async () => {
      const beforeSnap = snapshotTree(paths.home);
      await assert.rejects(run(), errorCode(code));
      assert.equal(snapshotTree(paths.home), beforeSnap);
    });
  }

  it('refuses to issue before a CA exists, without creating the state folder', async () => {
    const empty = statePaths(join(base, 'never-created'));
    await assert.rejects(
      issueCertificate(empty, { kind: 'client', name: 'x' }, noPassphrase),
      errorCode('DW_E_CA_MISSING'),
    );
    assert.throws(() => statSync(empty.home), /ENOENT/);
  });
});

describe('an encrypted CA key', () => {
  const paths = statePaths(join(base, 'encrypted'));

  it('is stored as encrypted PKCS#8 that openssl opens only with the passphrase', async () => {
    const res = await initCa(paths, { encrypt: true, keyType: 'rsa-2048' }, fixedPassphrase('correct horse'));
    assert.equal(res.ca.encrypted, true);
    const pem = readFileSync(paths.caKey, 'utf8');
    assert.match(pem, /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.equal(openssl(['pkey', '-in', paths.caKey, '-passin', 'pass:correct horse', '-noout']).status, 0);
    assert.notEqual(openssl(['pkey', '-in', paths.caKey, '-passin', 'pass:wrong', '-noout']).status, 0);
  });

  it('signs with the right passphrase and refuses a wrong or missing one, writing nothing', async () => {
    const ok = await issueCertificate(
      paths,
      { kind: 'client', name: 'carol' },
      fixedPassphrase('correct horse'),
    );
    assert.equal(openssl(['verify', '-CAfile', paths.caCert, join(ok.files.dir, 'cert.pem')]).status, 0);
    const snap = snapshotTree(paths.home);
    await assert.rejects(
      issueCertificate(paths, { kind: 'client', name: 'dave' }, fixedPassphrase('wrong')),
      errorCode('DW_E_PASSPHRASE'),
    );
    await assert.rejects(
      issueCertificate(paths, { kind: 'client', name: 'dave' }, noPassphrase),
      errorCode('DW_E_PASSPHRASE'),
    );
    assert.equal(snapshotTree(paths.home), snap);
  });

  it('replaces the CA with --force and keeps the old PKI in a backup', async () => {
    const oldCa = readFileSync(paths.caCert, 'utf8');
    const res = await initCa(paths, { force: true, keyType: 'rsa-4096' }, noPassphrase);
    assert.ok(res.backupDir);
    assert.equal(readFileSync(join(res.backupDir, 'ca.pem'), 'utf8'), oldCa);
    assert.notEqual(readFileSync(paths.caCert, 'utf8'), oldCa);
    assert.equal((await listCertificates(paths)).certs.length, 0);
    assert.match(
      openssl(['x509', '-in', paths.caCert, '-noout', '-text']).output,
      /Public-Key: \(4096 bit\)/,
    );
  });
});

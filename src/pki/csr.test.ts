import assert from 'node:assert/strict';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { statePaths } from '../store/paths.js';
import { checkServerSans, createCsr, parseCsr, signServerCsr, spkiFingerprint } from './csr.js';
import { initCa } from './init-ca.js';
import { generateKeyPair } from './keys.js';
import { renewCertificates } from './renew.js';
import { parseSans } from './san.js';
import { noPassphrase, openssl } from './test-support.js';

const base = mkdtempSync(join(tmpdir(), 'dw-csr-'));
after(() => rmSync(base, { recursive: true, force: true }));

function errorCode(code: string) {
  return (err: unknown) => (err as { code?: string }).code === code;
}

async function request(cn: string, sans: string[]): Promise<{ csr: string; keys: CryptoKeyPair }> {
  const keys = await generateKeyPair('ecdsa-p256');
  return { csr: await createCsr({ keys, keyType: 'ecdsa-p256', cn, sans: parseSans(sans) }), keys };
}

describe('signing a host certificate request', () => {
  const paths = statePaths(join(base, 'home'));

  it('signs a CSR that openssl reads, for the key that made it, and keeps no key in the PKI', async () => {
    await initCa(paths, {}, noPassphrase);
    const { csr, keys } = await request('web-1', ['DNS:web-1', 'IP:198.18.0.11']);
    writeFileSync(join(base, 'web-1.csr'), csr);
    assert.equal(openssl(['req', '-in', join(base, 'web-1.csr'), '-noout', '-verify']).status, 0);
    const r = await signServerCsr(paths, { csrPem: csr }, noPassphrase);
    assert.equal(r.record.name, 'web-1');
    assert.equal(r.record.keyOnHost, true);
    assert.deepEqual(r.record.sans, ['DNS:web-1', 'IP:198.18.0.11']);
    const cert = new X509Certificate(r.certPem);
    const { subtle } = globalThis.crypto;
    const spki = Buffer.from(await subtle.exportKey('spki', keys.publicKey));
    assert.equal(
      spkiFingerprint(cert.publicKey),
      spkiFingerprint(createPublicKey({ key: spki, format: 'der', type: 'spki' })),
    );
    writeFileSync(join(base, 'cert.pem'), r.certPem);
    const v = openssl(['verify', '-CAfile', paths.caCert, '-purpose', 'sslserver', join(base, 'cert.pem')]);
    assert.equal(v.status, 0, v.output);
    assert.equal(existsSync(join(paths.issuedDir('web-1'), 'key.pem')), false);
    assert.equal(readFileSync(join(paths.issuedDir('web-1'), 'cert.pem'), 'utf8'), r.certPem);
  });

  it('refuses a second request under a current name unless asked to replace it', async () => {
    const { csr } = await request('web-1', ['DNS:web-1']);
    await assert.rejects(signServerCsr(paths, { csrPem: csr }, noPassphrase), errorCode('DW_E_CERT_EXISTS'));
    const r = await signServerCsr(paths, { csrPem: csr, replace: true }, noPassphrase);
    assert.ok(r.record.renewedFrom);
  });

  it('leaves a host-held key out of pki renew', async () => {
    const r = await renewCertificates(paths, { withinMs: 10_000 * 86_400_000 }, noPassphrase);
    assert.equal(r.renewed.length, 0);
    assert.match(r.skipped.find((s) => s.name === 'web-1')?.reason ?? '', /key is on the host/);
  });

  it('refuses a CSR whose signature does not match its content', async () => {
    const { csr } = await request('web-2', ['DNS:web-2']);
    const other = await request('web-3', ['DNS:web-3']);
    // Swap the signed body of one request into the other: the signature no longer verifies.
    const body = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const a = body(csr);
    const b = body(other.csr);
    const tampered = Buffer.from(a);
    const i = tampered.indexOf(Buffer.from('web-2'));
    tampered.write('web-3', i);
    assert.notDeepEqual(tampered, b);
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${tampered.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(parseCsr(pem), errorCode('DW_E_INPUT'));
    await assert.rejects(parseCsr('not a csr'), errorCode('DW_E_INPUT'));
  });

  it('refuses a request without names, with a wildcard, or for an address no client dials', async () => {
    assert.throws(() => checkServerSans([]), errorCode('DW_E_SAN_INVALID'));
    for (const bad of ['DNS:*.example.com', 'IP:0.0.0.0', 'IP:::', 'IP:224.0.0.1']) {
      assert.throws(() => checkServerSans(parseSans([bad])), errorCode('DW_E_SAN_INVALID'), bad);
    }
    checkServerSans(parseSans(['DNS:h', 'IP:127.0.0.1', 'IP:fd00::1']));
    const { csr } = await request('web-4', ['DNS:*.example.com']);
    await assert.rejects(signServerCsr(paths, { csrPem: csr }, noPassphrase), errorCode('DW_E_SAN_INVALID'));
  });
});

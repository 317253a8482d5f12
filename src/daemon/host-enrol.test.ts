import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseCsr, signServerCsr } from '../pki/csr.js';
import { initCa } from '../pki/init-ca.js';
import { noPassphrase } from '../pki/test-support.js';
import { statePaths } from '../store/paths.js';
import { installCertificate, REQUEST_KEY_FILE, requestCertificate } from './host-enrol.js';

const base = mkdtempSync(join(tmpdir(), 'dw-enrol-'));
after(() => rmSync(base, { recursive: true, force: true }));

function errorCode(code: string) {
  return (err: unknown) => (err as { code?: string }).code === code;
}

describe('the host side of enrolment', () => {
  const tlsDir = join(base, 'tls');
  const paths = statePaths(join(base, 'home'));
  const other = statePaths(join(base, 'other'));

  it('makes a 0400 key in the TLS folder and a CSR for it, never printing the key', async () => {
    const r = await requestCertificate({ tlsDir, sans: ['IP:192.0.2.10'], hostSans: false, name: 'web-1' });
    assert.equal(r.keyPath, join(tlsDir, REQUEST_KEY_FILE));
    assert.equal(statSync(r.keyPath).mode & 0o777, 0o400);
    assert.equal(statSync(tlsDir).mode & 0o777, 0o700);
    assert.doesNotMatch(JSON.stringify(r), /PRIVATE KEY/);
    const csr = await parseCsr(r.csr);
    assert.equal(csr.cn, 'web-1');
    assert.equal(csr.publicKeyFingerprint, r.publicKeyFingerprint);
    assert.deepEqual(r.sans, ['IP:192.0.2.10']);
  });

  it('refuses, writing nothing, a certificate from another CA or for another key', async () => {
    await initCa(paths, {}, noPassphrase);
    await initCa(other, {}, noPassphrase);
    const mine = await requestCertificate({
      tlsDir,
      sans: ['IP:192.0.2.10'],
      hostSans: false,
      name: 'web-1',
    });
    const signed = await signServerCsr(paths, { csrPem: mine.csr }, noPassphrase);
    writeFileSync(join(base, 'cert.pem'), signed.certPem);
    writeFileSync(join(base, 'ca.pem'), signed.caPem);
    writeFileSync(join(base, 'other-ca.pem'), readFileSync(other.caCert));
    await assert.rejects(
      installCertificate({ certPath: join(base, 'cert.pem'), caPath: join(base, 'other-ca.pem'), tlsDir }),
      errorCode('DW_E_INPUT'),
    );
    // A newer request replaces the key: the certificate of the older one no longer fits.
    await requestCertificate({ tlsDir, sans: ['IP:192.0.2.10'], hostSans: false, name: 'web-1' });
    await assert.rejects(
      installCertificate({ certPath: join(base, 'cert.pem'), caPath: join(base, 'ca.pem'), tlsDir }),
      errorCode('DW_E_HOST_CERT_MISMATCH'),
    );
    assert.equal(existsSync(join(tlsDir, 'cert.pem')), false);
    assert.equal(existsSync(join(tlsDir, 'key.pem')), false);
  });
});

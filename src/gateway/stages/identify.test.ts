/**
 * The identify stage on real mTLS handshakes over loopback: certificates made by the real
 * openssl, verified by OpenSSL inside Node's TLS server, then judged by the stage.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { openssl } from '../../pki/test-support.js';
import { identify, type PeerVerdict } from './identify.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-identify-'));
const f = (name: string) => join(dir, name);

function run(args: string[]): void {
  const r = openssl(args);
  assert.equal(r.status, 0, r.output);
}

/** A leaf signed by `ca`, with the given extensions. */
function leaf(name: string, subject: string, ext: string, ca = 'ca'): void {
  writeFileSync(f(`${name}.ext`), ext);
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${name}.key`)]);
  run(['req', '-new', '-key', f(`${name}.key`), '-subj', subject, '-out', f(`${name}.csr`)]);
  run([
    'x509',
    '-req',
    '-in',
    f(`${name}.csr`),
    '-CA',
    f(`${ca}.pem`),
    '-CAkey',
    f(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f(`${name}.ext`),
    '-out',
    f(`${name}.pem`),
  ]);
}

function selfCa(name: string): void {
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(`${name}.key`)]);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    f(`${name}.key`),
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
    '-out',
    f(`${name}.pem`),
  ]);
}

let port = 0;
let verdicts: PeerVerdict[] = [];
const server = createServer({ requestCert: true, rejectUnauthorized: false }, (socket: TLSSocket) => {
  verdicts.push({
    peer: socket.getPeerCertificate(),
    authorized: socket.authorized,
    authorizationError: socket.authorizationError,
  });
  socket.end();
});

before(async () => {
  selfCa('ca');
  selfCa('other');
  leaf('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', '/CN=olivia/OU=operator', 'extendedKeyUsage=clientAuth\n');
  leaf('noeku', '/CN=nobody', 'basicConstraints=CA:FALSE\n');
  leaf('stranger', '/CN=mallory/OU=admin', 'extendedKeyUsage=clientAuth\n', 'other');
  server.setSecureContext({
    key: readFileSync(f('server.key')),
    cert: readFileSync(f('server.pem')),
    ca: readFileSync(f('ca.pem')),
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function handshake(name?: string): Promise<PeerVerdict> {
  verdicts = [];
  const s = connect({
    host: '127.0.0.1',
    port,
    ca: readFileSync(f('ca.pem')),
    ...(name ? { key: readFileSync(f(`${name}.key`)), cert: readFileSync(f(`${name}.pem`)) } : {}),
  });
  s.on('error', () => undefined);
  await new Promise((r) => s.once('close', r));
  assert.equal(verdicts.length, 1);
  return verdicts[0]!;
}

describe('stage identify', () => {
  it('takes the identity from a verified client certificate', async () => {
    const who = identify(await handshake('client'), new Set());
    assert.ok('identity' in who && !('reason' in who));
    assert.equal(who.identity.cn, 'olivia');
    assert.deepEqual(who.identity.ou, ['operator']);
  });

  it('refuses a connection without a certificate', async () => {
    assert.deepEqual(identify(await handshake(), new Set()), { reason: 'no client certificate' });
  });

  it('refuses a certificate from another CA, saying why', async () => {
    const who = identify(await handshake('stranger'), new Set());
    assert.ok('reason' in who);
    assert.match(who.reason, /untrusted/);
  });

  it('refuses a certificate without the clientAuth usage', async () => {
    const who = identify(await handshake('noeku'), new Set());
    assert.ok('reason' in who);
    assert.match(who.reason, /clientAuth/);
  });

  it('refuses a serial on the reloaded revocation set, keeping the identity for the record', async () => {
    const v = await handshake('client');
    const serial = identify(v, new Set());
    assert.ok('identity' in serial && serial.identity);
    const who = identify(v, new Set([serial.identity.serial]));
    assert.ok('reason' in who);
    assert.match(who.reason, /revoked/);
    assert.equal(who.identity?.cn, 'olivia');
  });
});

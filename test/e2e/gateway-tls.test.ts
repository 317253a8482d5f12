// The gateway's admission and TLS: who may connect, and what it refuses before any request.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createLeafCertificate } from '../../src/pki/certificate.js';
import { exportPrivateKeyPem, generateKeyPair } from '../../src/pki/keys.js';
import { revokeCertificate } from '../../src/pki/revoke.js';
import { loadCa } from '../../src/pki/store.js';
import { issueCertificate } from '../../src/pki/issue.js';
import { e2eSkipReason, type PrivateDockerd, runDocker, startDockerd } from './harness/index.js';
import { type GatewayFixture, makePki, startGateway } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();
const none = async () => undefined;

interface ClientFiles {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function filesOf(dir: string): ClientFiles {
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  };
}

/** GET /_ping over TLS with the given client files: the status, or the error that ended it. */
function ping(
  port: number,
  files: ClientFiles,
  extra: Record<string, unknown> = {},
): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/_ping',
        servername: 'localhost',
        agent: false,
        ca: files.ca,
        ...(files.cert ? { cert: files.cert, key: files.key } : {}),
        ...extra,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () =>
          resolve(res.statusCode === 200 ? { status: 200 } : { status: res.statusCode ?? 0, body }),
        );
      },
    );
    req.on('error', (err) =>
      resolve({ error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }),
    );
    req.setTimeout(15_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('gateway admission and mTLS', { skip }, () => {
  let dockerd: PrivateDockerd;
  let gw: GatewayFixture;
  let pki: Awaited<ReturnType<typeof makePki>>;
  let other: Awaited<ReturnType<typeof makePki>>;

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({ admin: 'admin', doomed: 'admin', streamer: 'admin' });
    other = await makePki({ stranger: 'admin' });
    await issueCertificate(pki.paths, { kind: 'server', name: 'srv', sans: ['DNS:localhost'] }, none);
    // Certificates outside their validity window, signed by the right CA.
    const ca = await loadCa(pki.paths, none);
    for (const [name, now, days] of [
      ['expired', new Date(Date.now() - 30 * 864e5), 2],
      ['future', new Date(Date.now() + 30 * 864e5), 10],
    ] as const) {
      const keys = await generateKeyPair('ecdsa-p256');
      const cert = await createLeafCertificate({
        kind: 'client',
        cn: name,
        ou: 'admin',
        sans: [],
        publicKey: keys.publicKey,
        leafKeyType: 'ecdsa-p256',
        days,
        ca,
        now,
      });
      const dir = join(pki.paths.home, 'odd', name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'ca.pem'), ca.cert.toString('pem'));
      writeFileSync(join(dir, 'cert.pem'), cert.toString('pem'));
      writeFileSync(join(dir, 'key.pem'), await exportPrivateKeyPem(keys.privateKey), { mode: 0o600 });
    }
    gw = await startGateway(dockerd, pki.paths, { closeRevoked: true });
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
    other?.dispose();
  });

  const handshakeFailures = () => gw.memory!.connections.filter((c) => c.event === 'handshake-failed');

  it('serves a client certificate of its CA', async () => {
    assert.deepEqual(await ping(gw.port, filesOf(pki.paths.issuedDir('admin'))), { status: 200 });
  });

  const refusals: [string, () => ClientFiles, RegExp][] = [
    [
      'no client certificate',
      () => ({ ca: readFileSync(pki.paths.caCert) }),
      /no-certificate|other|untrusted/,
    ],
    [
      'a certificate from another CA',
      () => ({ ...filesOf(other.paths.issuedDir('stranger')), ca: readFileSync(pki.paths.caCert) }),
      /untrusted/,
    ],
    ['an expired certificate', () => filesOf(join(pki.paths.home, 'odd', 'expired')), /expired/],
    ['a certificate not valid yet', () => filesOf(join(pki.paths.home, 'odd', 'future')), /not-yet-valid/],
    [
      'a server certificate presented as a client certificate',
      () => filesOf(pki.paths.issuedDir('srv')),
      /wrong-purpose/,
    ],
  ];
  for (const [what, files, reason] of refusals) {
    it(`refuses ${what} during the handshake and records why`, async () => {
      const before = handshakeFailures().length;
      const res = await ping(gw.port, files());
      // The handshake completes so the client can be told why; nothing reaches dockerd.
      assert.equal(res.status, 403, `expected a refusal, got ${JSON.stringify(res)}`);
      assert.match(res.body ?? '', /"message":"dockward: client certificate refused: /);
      const failures = handshakeFailures();
      assert.equal(failures.length, before + 1);
      assert.match(failures.at(-1)!.reason ?? '', reason);
    });
  }

  it('refuses TLS 1.1 (the server, not the client, says no)', async () => {
    const before = handshakeFailures().length;
    const res = await ping(gw.port, filesOf(pki.paths.issuedDir('admin')), {
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    assert.equal(res.status, undefined);
    assert.match(handshakeFailures().at(-1)?.reason ?? '', /protocol-version/);
    assert.equal(handshakeFailures().length, before + 1);
  });

  it('refuses a revoked certificate after a reload, and --close-revoked ends its open stream', async () => {
    const env = gw.envFor('doomed');
    assert.equal((await runDocker(['version'], { env })).code, 0);
    // An open /events stream from the certificate about to be revoked.
    const files = filesOf(pki.paths.issuedDir('doomed'));
    let opened: () => void = () => undefined;
    const streamOpen = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const streamClosed = new Promise<void>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: gw.port, servername: 'localhost', ...files }, () => {
        s.write('GET /v1.41/events HTTP/1.1\r\nHost: docker\r\n\r\n');
      });
      s.once('data', () => opened()); // the stream's response head: it is established
      s.on('close', () => resolve());
      s.on('error', () => undefined);
    });
    await streamOpen;
    await revokeCertificate(pki.paths, { name: 'doomed', reason: 'keyCompromise' }, none);
    const reloaded = await gw.gateway.reload();
    assert.equal(reloaded.ok, true);
    await streamClosed;
    assert.ok(
      gw.memory!.connections.some((c) => c.event === 'revoked-closed' && c.identity?.cn === 'doomed'),
    );
    const res = await runDocker(['version'], { env });
    assert.notEqual(res.code, 0);
    assert.match(handshakeFailures().at(-1)?.reason ?? '', /revoked/);
    // Others are unaffected.
    assert.equal((await runDocker(['version'], { env: gw.envFor('admin') })).code, 0);
  });

  it('keeps the old configuration when a reload finds a broken file', async () => {
    const crl = readFileSync(pki.paths.crl);
    writeFileSync(pki.paths.crl, 'not a crl');
    try {
      const res = await gw.gateway.reload();
      assert.equal(res.ok, false);
      assert.deepEqual(await ping(gw.port, filesOf(pki.paths.issuedDir('admin'))), { status: 200 });
    } finally {
      writeFileSync(pki.paths.crl, crl);
    }
  });
});

describe('gateway IP allowlist', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Awaited<ReturnType<typeof makePki>>;
  let gw: GatewayFixture;

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({ admin: 'admin' });
    // TEST-NET-1 only: loopback is not allowed (no traffic is ever sent to that range).
    gw = await startGateway(dockerd, pki.paths, { allow: ['192.0.2.0/24'] });
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
  });

  it('closes a connection from an address outside --allow before any TLS byte', async () => {
    const res = await ping(gw.port, filesOf(pki.paths.issuedDir('admin')));
    assert.equal(res.status, undefined);
    assert.match(res.error ?? '', /ECONNRESET|socket disconnected|EPIPE|socket hang up/);
    const denied = gw.memory!.connections.filter((c) => c.event === 'denied-address');
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.client.address, '127.0.0.1');
    assert.equal(gw.memory!.connections.filter((c) => c.event === 'handshake-failed').length, 0);
  });

  it('lets loopback in after a reload that allows it', async () => {
    assert.equal((await gw.gateway.reload(['127.0.0.1/32'])).ok, true);
    assert.deepEqual(await ping(gw.port, filesOf(pki.paths.issuedDir('admin'))), { status: 200 });
  });
});

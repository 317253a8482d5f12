// The gateway's admission and TLS: who may connect, and what it refuses before any request.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { e2eSkipReason, type PrivateDockerd, runDocker, startDockerd } from './harness/index.js';
import {
  eventually,
  type GatewayProcess,
  makePki,
  type Pki,
  startGateway,
  type ClientFiles,
  filesOf,
} from './support/gateway-fixture.js';
import { signLeafWithOpenssl } from './support/openssl-certs.js';

const skip = await e2eSkipReason();

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
  let gw: GatewayProcess;
  let pki: Pki;
  let other: Pki;

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({ admin: 'admin', doomed: 'admin', streamer: 'admin' });
    other = await makePki({ stranger: 'admin' });
    await pki.dockward(['pki', 'issue', 'server', 'srv', '--san', 'DNS:localhost']);
    // Certificates outside their validity window, signed by the right CA (openssl: dockward
    // never issues such a thing).
    const day = 864e5;
    await signLeafWithOpenssl(pki, join(pki.home, 'odd', 'expired'), {
      cn: 'expired',
      ou: 'admin',
      notBefore: new Date(Date.now() - 30 * day),
      notAfter: new Date(Date.now() - 28 * day),
    });
    await signLeafWithOpenssl(pki, join(pki.home, 'odd', 'future'), {
      cn: 'future',
      ou: 'admin',
      notBefore: new Date(Date.now() + 30 * day),
      notAfter: new Date(Date.now() + 40 * day),
    });
    gw = await startGateway(dockerd, pki, { closeRevoked: true });
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
    other?.dispose();
  });

  const handshakeFailures = () => gw.connections().filter((c) => c.event === 'handshake-failed');

  it('serves a client certificate of its CA', async () => {
    assert.deepEqual(await ping(gw.port, filesOf(pki.issuedDir('admin'))), { status: 200 });
  });

  const refusals: [string, () => ClientFiles, RegExp][] = [
    ['no client certificate', () => ({ ca: readFileSync(pki.caCert) }), /no-certificate|other|untrusted/],
    [
      'a certificate from another CA',
      () => ({ ...filesOf(other.issuedDir('stranger')), ca: readFileSync(pki.caCert) }),
      /untrusted/,
    ],
    ['an expired certificate', () => filesOf(join(pki.home, 'odd', 'expired')), /expired/],
    ['a certificate not valid yet', () => filesOf(join(pki.home, 'odd', 'future')), /not-yet-valid/],
    [
      'a server certificate presented as a client certificate',
      () => filesOf(pki.issuedDir('srv')),
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
      // The record reaches the log file just after the answer: wait for it, then count exactly.
      await eventually(() => handshakeFailures().length > before);
      const failures = handshakeFailures();
      assert.equal(failures.length, before + 1);
      assert.match(failures.at(-1)!.reason ?? '', reason);
    });
  }

  it('refuses TLS 1.1 (the server, not the client, says no)', async () => {
    const before = handshakeFailures().length;
    const res = await ping(gw.port, filesOf(pki.issuedDir('admin')), {
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    assert.equal(res.status, undefined);
    await eventually(() => handshakeFailures().length > before);
    assert.match(handshakeFailures().at(-1)?.reason ?? '', /protocol-version/);
    assert.equal(handshakeFailures().length, before + 1);
  });

  it('refuses a revoked certificate after a reload, and --close-revoked ends its open stream', async () => {
    const env = gw.envFor('doomed');
    assert.equal((await runDocker(['version'], { env })).code, 0);
    // An open /events stream from the certificate about to be revoked.
    const files = filesOf(pki.issuedDir('doomed'));
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
    await pki.dockward(['pki', 'revoke', 'doomed', '--reason', 'keyCompromise']);
    const reloaded = await gw.reload();
    assert.equal(reloaded.ok, true);
    await streamClosed;
    assert.ok(
      await eventually(() =>
        gw.connections().some((c) => c.event === 'revoked-closed' && c.identity?.cn === 'doomed'),
      ),
      'a revoked-closed record for doomed',
    );
    const res = await runDocker(['version'], { env });
    assert.notEqual(res.code, 0);
    await eventually(() => /revoked/.test(handshakeFailures().at(-1)?.reason ?? ''));
    assert.match(handshakeFailures().at(-1)?.reason ?? '', /revoked/);
    // Others are unaffected.
    assert.equal((await runDocker(['version'], { env: gw.envFor('admin') })).code, 0);
  });

  it('keeps the old configuration when a reload finds a broken file', async () => {
    const crl = readFileSync(pki.crl);
    writeFileSync(pki.crl, 'not a crl');
    try {
      const res = await gw.reload();
      assert.equal(res.ok, false);
      assert.equal(gw.child.exitCode, null, 'the gateway keeps running');
      assert.deepEqual(await ping(gw.port, filesOf(pki.issuedDir('admin'))), { status: 200 });
    } finally {
      writeFileSync(pki.crl, crl);
      assert.deepEqual(await gw.reload(), { ok: true });
    }
  });
});

describe('gateway IP allowlist', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Pki;
  let gw: GatewayProcess;

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({ admin: 'admin' });
    // TEST-NET-1 only: loopback is not allowed (no traffic is ever sent to that range).
    gw = await startGateway(dockerd, pki, { allow: ['192.0.2.0/24'] });
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
  });

  it('closes a connection from an address outside --allow before any TLS byte', async () => {
    const res = await ping(gw.port, filesOf(pki.issuedDir('admin')));
    assert.equal(res.status, undefined);
    assert.match(res.error ?? '', /ECONNRESET|socket disconnected|EPIPE|socket hang up/);
    assert.ok(await eventually(() => gw.connections().some((c) => c.event === 'denied-address')));
    const denied = gw.connections().filter((c) => c.event === 'denied-address');
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.client!.address, '127.0.0.1');
    assert.equal(gw.connections().filter((c) => c.event === 'handshake-failed').length, 0);
  });

  // The allowlist is the --allow flags: a reload (SIGHUP) keeps them, a gateway started with
  // loopback in --allow lets it in. (Gateway.reload(allow) with another list has no CLI path.)
  it('keeps --allow across a SIGHUP reload, and lets loopback in when --allow names it', async () => {
    assert.deepEqual(await gw.reload(), { ok: true });
    const still = await ping(gw.port, filesOf(pki.issuedDir('admin')));
    assert.equal(still.status, undefined, 'loopback is still closed after the reload');
    const open = await startGateway(dockerd, pki, { allow: ['192.0.2.0/24', '127.0.0.1/32'] });
    try {
      assert.deepEqual(await ping(open.port, filesOf(pki.issuedDir('admin'))), { status: 200 });
    } finally {
      await open.stop();
    }
  });
});

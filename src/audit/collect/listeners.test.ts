import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { parseDockerdArgs } from '../../daemon/cmdline.js';
import { mergeEffectiveConfig } from '../../daemon/effective-config.js';
import {
  collectListeners,
  configTcpHosts,
  decodeProcAddress,
  listeningOf,
  listenStreamAddresses,
  mergeListeners,
  parseProcNetTcp,
  probeAddressesOf,
  probeListener,
  processTcpListeners,
} from './listeners.js';

// Rows as an x86 (little-endian) kernel prints them: 127.0.0.1:2375 LISTEN, 0.0.0.0:2376 LISTEN,
// an established connection, and a listener of another process.
const NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0947 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0
   1: 00000000:0948 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5002 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0947 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 5003 1 0000000000000000 20 4 30 10 -1
   3: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6000 1 0000000000000000 100 0 0 10 0
`;
const NET_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0949 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5004 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:094A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5005 1 0000000000000000 100 0 0 10 0
`;

describe('/proc/net/tcp decoding', () => {
  it('decodes IPv4 addresses in host byte order and ports in plain hex', () => {
    assert.deepEqual(decodeProcAddress('0100007F:0947', true), { address: '127.0.0.1', port: 2375 });
    assert.deepEqual(decodeProcAddress('7F000001:0947', false), { address: '127.0.0.1', port: 2375 });
    assert.deepEqual(decodeProcAddress('0500000A:0050', true), { address: '10.0.0.5', port: 80 });
  });

  it('decodes IPv6 wildcard, loopback, a global address and IPv4-mapped addresses', () => {
    assert.equal(decodeProcAddress('00000000000000000000000000000000:0949', true).address, '::');
    assert.equal(decodeProcAddress('00000000000000000000000001000000:0949', true).address, '::1');
    // 2001:db8::5 word by word, each word byte-swapped
    assert.equal(decodeProcAddress('B80D0120000000000000000005000000:0001', true).address, '2001:db8::5');
    assert.equal(decodeProcAddress('0000000000000000FFFF00000100007F:0947', true).address, '127.0.0.1');
  });

  it('keeps only the LISTEN rows of the process inodes', () => {
    const rows = [...parseProcNetTcp(NET_TCP, true), ...parseProcNetTcp(NET_TCP6, true)];
    assert.equal(rows.length, 6);
    assert.deepEqual(listeningOf(rows, new Set([5001, 5002, 5003, 5004, 5005])), [
      { address: '127.0.0.1', port: 2375 },
      { address: '0.0.0.0', port: 2376 },
      { address: '::', port: 2377 },
      { address: '::1', port: 2378 },
    ]);
  });

  it('finds a real listener of this process in its own /proc tables', async () => {
    const server = createNetServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const found = await processTcpListeners(process.pid);
      assert.ok(
        found.some((l) => l.address === '127.0.0.1' && l.port === port),
        `127.0.0.1:${port} in ${JSON.stringify(found)}`,
      );
    } finally {
      server.close();
    }
  });
});

describe('listener sources merged', () => {
  it('reads tcp hosts of the effective configuration with the TLS default port', () => {
    const effective = mergeEffectiveConfig({
      file: { path: '/etc/docker/daemon.json', config: { tls: true } },
      flags: {
        where: 'test',
        parsed: parseDockerdArgs(['dockerd', '-H', 'tcp://[::1]:2380', '-H', 'fd://', '-H', 'tcp://0.0.0.0']),
      },
    });
    assert.deepEqual(configTcpHosts(effective), [
      { address: '::1', port: 2380 },
      { address: '0.0.0.0', port: 2376 },
    ]);
  });

  it('reads socket unit ListenStream ports, addresses and ignores paths', () => {
    assert.deepEqual(listenStreamAddresses(['2375', '127.0.0.1:2376', '[::1]:2377', '/run/docker.sock']), [
      { address: '::', port: 2375 },
      { address: '127.0.0.1', port: 2376 },
      { address: '::1', port: 2377 },
    ]);
  });

  it('folds a wildcard or a name onto the process row of the same port', () => {
    const facts = mergeListeners({
      process: [
        { address: '0.0.0.0', port: 2375 },
        { address: '127.0.0.1', port: 2380 },
      ],
      config: [
        { address: 'localhost', port: 2380 },
        { address: '[::1]', port: 2381 },
      ],
      'socket-unit': [{ address: '::', port: 2375 }],
    });
    assert.deepEqual(facts, [
      { address: '0.0.0.0', port: 2375, seenIn: ['process', 'socket-unit'] },
      { address: '127.0.0.1', port: 2380, seenIn: ['process', 'config'] },
      { address: '::1', port: 2381, seenIn: ['config'] },
    ]);
  });

  it('keeps two specific addresses on one port apart', () => {
    const facts = mergeListeners({
      process: [{ address: '127.0.0.1', port: 2375 }],
      config: [{ address: '127.0.0.2', port: 2375 }],
    });
    assert.equal(facts.length, 2);
  });

  it('dials wildcards on loopback and refuses to probe a non-loopback address', () => {
    assert.deepEqual(probeAddressesOf('0.0.0.0'), { dial: ['127.0.0.1'] });
    assert.deepEqual(probeAddressesOf('::'), { dial: ['::1', '127.0.0.1'] });
    assert.deepEqual(probeAddressesOf('127.0.0.5'), { dial: ['127.0.0.5'] });
    assert.match((probeAddressesOf('10.1.2.3') as { skip: string }).skip, /not a loopback address/);
  });
});

/** A self-signed key and certificate made by the real openssl. */
function selfSigned(dir: string): { key: string; cert: string } {
  const res = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(res.status, 0, res.stderr);
  return {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

describe('probing listeners on loopback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-listen-'));
  const servers: Server[] = [];
  const ports = { plain: 0, tlsOpen: 0, tlsVerify: 0, notDocker: 0, closed: 0, tlsGateway: 0 };

  before(async () => {
    const { key, cert } = selfSigned(dir);
    const ping = (_req: unknown, res: { end(body: string): void }) => res.end('OK');
    const plain = createHttpServer((req, res) => (req.url === '/_ping' ? res.end('OK') : res.end('?')));
    const tlsOpen = createTlsServer({ key, cert }, (s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK'));
    });
    const tlsVerify = createTlsServer(
      { key, cert, ca: cert, requestCert: true, rejectUnauthorized: true },
      (s) => ping(undefined, { end: (b) => s.end(b) }),
    );
    // Like the dockward gateway: the handshake completes, then the request is refused with a 403.
    const tlsGateway = createTlsServer({ key, cert }, (s) => {
      s.once('data', () => s.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    });
    servers.push(tlsGateway);
    ports.tlsGateway = await listen(tlsGateway);
    // A TCP service that is not HTTP and not TLS: it closes every connection at once.
    const notDocker = createNetServer((s) => s.destroy());
    servers.push(plain, tlsOpen, tlsVerify, notDocker);
    ports.plain = await listen(plain);
    ports.tlsOpen = await listen(tlsOpen);
    ports.tlsVerify = await listen(tlsVerify);
    ports.notDocker = await listen(notDocker);
    const gone = createNetServer();
    ports.closed = await listen(gone);
    await new Promise((r) => gone.close(r));
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says a plain HTTP listener answers /_ping', async () => {
    const p = await probeListener('0.0.0.0', ports.plain);
    assert.equal(p.plainHttpPing, true);
    assert.equal(p.tlsWithoutClientCert, 'not-tls');
    assert.match(p.detail, /plain HTTP on 127\.0\.0\.1:\d+/);
  });

  it('says a TLS listener without client verification accepts a client with no certificate', async () => {
    const p = await probeListener('127.0.0.1', ports.tlsOpen);
    assert.equal(p.plainHttpPing, false);
    assert.equal(p.tlsWithoutClientCert, 'accepted');
  });

  it('says a TLS listener that requires a client certificate refuses', async () => {
    const p = await probeListener('127.0.0.1', ports.tlsVerify);
    assert.equal(p.plainHttpPing, false);
    assert.equal(p.tlsWithoutClientCert, 'refused', p.detail);
  });

  it('says a TLS listener that completes the handshake but refuses the request (a gateway) refuses', async () => {
    const p = await probeListener('127.0.0.1', ports.tlsGateway);
    assert.equal(p.tlsWithoutClientCert, 'refused', p.detail);
    assert.match(p.detail, /answered "HTTP\/1\.1 403 Forbidden"/);
  });

  it('says a closed port is unreachable', async () => {
    const p = await probeListener('127.0.0.1', ports.closed);
    assert.equal(p.tlsWithoutClientCert, 'unreachable');
    assert.equal(p.plainHttpPing, false);
  });

  it('says a service that speaks neither HTTP nor TLS is not TLS (and not accepting)', async () => {
    const p = await probeListener('127.0.0.1', ports.notDocker);
    assert.equal(p.plainHttpPing, false);
    assert.equal(p.tlsWithoutClientCert, 'not-tls', p.detail);
  });

  it('does not probe a non-loopback address and says why', async () => {
    const p = await probeListener('192.0.2.10', 2376);
    assert.equal(p.plainHttpPing, undefined);
    assert.equal(p.tlsWithoutClientCert, undefined);
    assert.match(p.detail, /not probed/);
  });

  it('collects config listeners with probes, and no probes for an offline tree', async () => {
    const effective = mergeEffectiveConfig({
      file: { path: '/x/daemon.json', config: { hosts: [`tcp://127.0.0.1:${ports.plain}`] } },
    });
    const config = { state: 'ok' as const, value: effective };
    const socketUnit = { state: 'missing' as const, reason: 'no unit' };
    const probed = await collectListeners({ config, socketUnit, probe: true });
    assert.equal(probed.state, 'ok');
    assert.deepEqual(
      probed.state === 'ok' ? probed.value.map((l) => [l.port, l.seenIn, l.plainHttpPing]) : [],
      [[ports.plain, ['config'], true]],
    );
    const offline = await collectListeners({ config, socketUnit, probe: false });
    assert.equal(offline.state === 'ok' ? offline.value[0]?.plainHttpPing : 'x', undefined);
    const none = await collectListeners({
      config: { state: 'missing', reason: 'remote' },
      socketUnit,
      probe: true,
    });
    assert.equal(none.state, 'missing');
  });
});

/**
 * The upstream exchange and its pool against a scripted daemon on a unix socket (a stand-in for
 * dockerd whose every byte the test chooses: the real daemon never misbehaves on cue).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatRequestHead, UpstreamExchange } from './exchange.js';
import { ConnectionPool } from './pool.js';

let dir: string;
let sock: string;
let server: Server;
/** What the daemon answers to each request it reads (keyed by the request's target). */
let script: (target: string, request: string, socket: Socket) => void;
let accepted = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-exchange-'));
  sock = join(dir, 'd.sock');
  server = createServer((socket) => {
    accepted++;
    let buf = '';
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      // A request is complete at its head's end, or at the last chunk for a chunked body.
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.slice(0, end);
      if (/transfer-encoding: chunked/i.test(head) && !buf.endsWith('0\r\n\r\n')) return;
      const m = /^(\S+) (\S+) /.exec(head)!;
      const request = buf;
      buf = '';
      script(m[2]!, request, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Result {
  status?: number;
  body: string;
  error?: string;
  headSeen?: boolean;
}

function send(
  pool: ConnectionPool,
  target: string,
  stream?: (ex: UpstreamExchange) => void,
  chunked = false,
): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { body: '' };
    const ex = new UpstreamExchange(
      pool,
      'GET',
      formatRequestHead(stream ? 'POST' : 'GET', target, chunked ? ['Transfer-Encoding', 'chunked'] : []),
      null,
      stream ? { chunked } : null,
      {
        onHead: (h) => {
          r.status = h.status;
        },
        onBody: (p) => {
          r.body += p.toString('latin1');
        },
        onEnd: () => resolve(r),
        onError: (err, headSeen) => resolve({ ...r, error: err.message, headSeen }),
      },
    );
    stream?.(ex);
  });
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

describe('upstream exchange and pool', () => {
  it('reuses a kept-alive connection, last in first out', async () => {
    script = (_t, _r, s) => s.write(ok('pong'));
    const pool = new ConnectionPool(() => connect(sock));
    const before = accepted;
    for (let i = 0; i < 5; i++) assert.deepEqual(await send(pool, '/_ping'), { status: 200, body: 'pong' });
    assert.equal(accepted - before, 1);
    pool.destroy();
  });

  it('does not reuse a connection the daemon asked to close', async () => {
    script = (_t, _r, s) => s.write(ok('x', 'Connection: close\r\n'));
    const pool = new ConnectionPool(() => connect(sock));
    const before = accepted;
    await send(pool, '/a');
    await send(pool, '/b');
    assert.equal(accepted - before, 2);
    pool.destroy();
  });

  it('does not reuse a connection with bytes after the response', async () => {
    script = (_t, _r, s) => s.write(`${ok('x')}HTTP/1.1 200 OK\r\n`);
    const pool = new ConnectionPool(() => connect(sock));
    const before = accepted;
    assert.equal((await send(pool, '/a')).body, 'x');
    assert.equal((await send(pool, '/b')).body, 'x');
    assert.equal(accepted - before, 2);
    pool.destroy();
  });

  it('fails before the head when the daemon closes without answering (the caller sends 502)', async () => {
    script = (_t, _r, s) => s.destroy();
    const pool = new ConnectionPool(() => connect(sock));
    const r = await send(pool, '/a');
    assert.equal(r.headSeen, false);
    assert.match(r.error!, /closed/);
    pool.destroy();
  });

  it('fails inside the body when a sized answer is cut short', async () => {
    script = (_t, _r, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    const pool = new ConnectionPool(() => connect(sock));
    const r = await send(pool, '/a');
    assert.equal(r.headSeen, true);
    assert.equal(r.body, 'abc');
    pool.destroy();
  });

  it('refuses an ambiguous answer', async () => {
    script = (_t, _r, s) =>
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    const pool = new ConnectionPool(() => connect(sock));
    const r = await send(pool, '/a');
    assert.equal(r.headSeen, false);
    assert.match(r.error!, /both Content-Length and Transfer-Encoding/);
    pool.destroy();
  });

  it('fails when the daemon is not there', async () => {
    const pool = new ConnectionPool(() => connect(join(dir, 'nobody.sock')));
    const r = await send(pool, '/a');
    assert.match(r.error!, /ENOENT|ECONNREFUSED/);
    pool.destroy();
  });

  it('re-encodes a streamed body as chunks, and sends a sized one as is', async () => {
    let seen = '';
    script = (_t, r, s) => {
      seen = r;
      s.write(ok('done'));
    };
    const pool = new ConnectionPool(() => connect(sock));
    await send(
      pool,
      '/load',
      (ex) => {
        ex.write(Buffer.from('hello'));
        setImmediate(() => {
          ex.write(Buffer.from(' world!'));
          ex.end();
        });
      },
      true,
    );
    assert.match(seen, /\r\n\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n$/);
    pool.destroy();
  });

  it('does not reuse a connection whose streamed request was not sent whole', async () => {
    script = (_t, _r, s) => s.write(ok('early'));
    const pool = new ConnectionPool(() => connect(sock));
    const before = accepted;
    // The daemon answers after the head alone (the test's daemon reads no Content-Length).
    const r = await send(pool, '/load', () => undefined, false);
    assert.equal(r.body, 'early');
    await send(pool, '/a');
    assert.equal(accepted - before, 2);
    pool.destroy();
  });
});

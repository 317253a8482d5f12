/**
 * The gateway's HTTP/1.1 connection layer on real loopback sockets (TLS sits below it in the
 * gateway and changes nothing here): keep-alive, pipelining, response framing, 100-continue,
 * the timeouts and the read-ahead bound.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DockwardError } from '../../errors.js';
import type { RequestIO } from '../pipeline.js';
import { type BodyBudget, BodyMemory } from '../limits.js';
import { DEFAULT_HTTP_OPTIONS, HttpConnection, type HttpLayerOptions } from './connection.js';

type Handler = (io: RequestIO, conn: HttpConnection) => void;
let handler: Handler = () => undefined;
let options: HttpLayerOptions = DEFAULT_HTTP_OPTIONS;
let last: HttpConnection | undefined;
let budget: BodyBudget | undefined;
const server = createServer((socket) => {
  const conn: HttpConnection = new HttpConnection(
    socket,
    options,
    (io) => handler(io, conn),
    () => undefined,
    budget,
  );
  last = conn;
});
let port = 0;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** Sends raw bytes, collects everything until the server closes or `until` matches. */
function exchange(
  raw: string | Buffer,
  until?: RegExp,
  ms = 5000,
): Promise<{ text: string; closed: boolean; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => resolve({ text, closed: false, socket }), ms);
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (until?.test(text)) {
        clearTimeout(timer);
        resolve({ text, closed: false, socket });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, socket });
    });
    socket.write(raw);
  });
}

const ok =
  (body: string, headers: string[] = ['Content-Length', String(body.length)]) =>
  (io: RequestIO) => {
    const res = io.response();
    res.writeHead(200, undefined, headers);
    res.end(body);
  };

describe('HTTP connection layer', () => {
  it('keeps the connection for pipelined requests and answers them in order', async () => {
    options = DEFAULT_HTTP_OPTIONS;
    let n = 0;
    handler = (io) => ok(`r${++n}${io.head.target}`)(io);
    const r = await exchange(
      'GET /a HTTP/1.1\r\nHost: d\r\n\r\nGET /b HTTP/1.1\r\nHost: d\r\n\r\n',
      /r2\/b$/,
    );
    assert.match(
      r.text,
      /^HTTP\/1\.1 200 OK\r\nContent-Length: 4\r\n\r\nr1\/aHTTP\/1\.1 200 OK\r\nContent-Length: 4\r\n\r\nr2\/b$/,
    );
    assert.equal(r.closed, false);
    r.socket.destroy();
  });

  it('frames a response without a length as chunked, and closes after Connection: close', async () => {
    handler = (io) => {
      const res = io.response();
      res.writeHead(200, undefined, ['Content-Type', 'text/plain']);
      res.write(Buffer.from('hello '));
      res.end(Buffer.from('world'));
    };
    const r = await exchange('GET / HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.ok(r.closed);
    assert.match(
      r.text,
      /Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n$/,
    );
  });

  it('sends no body for HEAD, and a close-delimited one to HTTP/1.0', async () => {
    handler = ok('abc');
    const head = await exchange('HEAD / HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(head.text, /Content-Length: 3\r\nConnection: close\r\n\r\n$/);
    handler = ok('abc', []);
    const old = await exchange('GET / HTTP/1.0\r\n\r\n');
    assert.ok(old.closed);
    assert.match(old.text, /Connection: close\r\n\r\nabc$/);
  });

  it('reads a chunked body whole, and says 100 Continue first when asked', async () => {
    handler = (io) => void io.readBody(1024).then((b) => ok(`got ${b.toString()}`)(io));
    const r = await exchange(
      'POST / HTTP/1.1\r\nHost: d\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    );
    assert.match(r.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.match(r.text, /got abcde$/);
  });

  it('refuses a body over the limit with 413 and closes', async () => {
    handler = (io) =>
      void io.readBody(4).catch((err: DockwardError) => {
        io.refuse(err);
      });
    const r = await exchange('POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 10\r\n\r\n0123456789');
    assert.ok(r.closed);
    assert.match(r.text, /^HTTP\/1\.1 413 /);
    assert.match(r.text, /Connection: close/);
  });

  it('closes after refusing a request whose body it did not read (never reads it as a request)', async () => {
    handler = (io) => {
      io.discardBody();
      io.refuse(new DockwardError('DW_E_DENIED', 'no'));
    };
    const r = await exchange(
      'POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 40\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: d\r\n\r\n',
    );
    assert.ok(r.closed);
    assert.equal(r.text.match(/HTTP\/1\.1 /g)?.length, 1);
    assert.match(r.text, /^HTTP\/1\.1 403 /);
  });

  it('refuses a malformed chunked body and closes', async () => {
    handler = (io) => void io.readBody(1024).catch((err: DockwardError) => io.refuse(err));
    const r = await exchange(
      'POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n5;ext\r\nhello\r\n0\r\n\r\n',
    );
    assert.ok(r.closed);
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.match(r.text, /chunk extensions/);
  });

  it('answers 408 to a head that does not arrive in time, and closes an idle keep-alive connection', async () => {
    options = { ...DEFAULT_HTTP_OPTIONS, headersTimeoutMs: 200, keepAliveTimeoutMs: 200 };
    handler = ok('x');
    const slow = await exchange('GET / HTTP/1.1\r\nHost: d\r\n');
    assert.ok(slow.closed);
    assert.match(slow.text, /^HTTP\/1\.1 408 /);
    const idle = await exchange('GET / HTTP/1.1\r\nHost: d\r\n\r\n');
    assert.ok(idle.closed);
    assert.match(idle.text, /^HTTP\/1\.1 200 /);
    options = DEFAULT_HTTP_OPTIONS;
  });

  it('times each keep-alive wait and each head from its own start, however often re-armed', async () => {
    options = { ...DEFAULT_HTTP_OPTIONS, headersTimeoutMs: 300, keepAliveTimeoutMs: 300 };
    handler = ok('x');
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now())));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    // Five requests 200 ms apart (each under the 300 ms keep-alive limit): the connection stays.
    for (let i = 0; i < 5; i++) {
      socket.write('GET / HTTP/1.1\r\nHost: d\r\n\r\n');
      await new Promise((r) => setTimeout(r, 200));
    }
    const lastAnswer = Date.now() - 200;
    assert.equal(text.match(/HTTP\/1\.1 200 /g)?.length, 5);
    // Then idle: closed about 300 ms after the last answer, not before.
    const at = await closed;
    assert.ok(at - lastAnswer >= 250, `closed ${at - lastAnswer} ms after the last answer`);
    // A head that starts but never ends, after a served request: 408 from the head's own clock.
    const slow = await exchange('GET / HTTP/1.1\r\nHost: d\r\n\r\nGET / HTTP/1.1\r\nHost: d\r\n');
    assert.ok(slow.closed);
    assert.match(slow.text, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 408 /);
    options = DEFAULT_HTTP_OPTIONS;
  });

  it('sends a sized answer, head and body, in one socket write at end()', async () => {
    const writes: number[] = [];
    handler = (io, conn) => {
      const socket = conn.socket;
      const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
      (socket as { write: (chunk: Buffer) => boolean }).write = (chunk: Buffer) => {
        writes.push(chunk.length);
        return write(chunk);
      };
      const res = io.response();
      res.writeHead(200, undefined, ['Content-Length', '5']);
      res.end(Buffer.from('hello'));
      // Out already, not at the end of the tick.
      assert.equal(writes.length, 1);
    };
    const r = await exchange('GET / HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello$/);
    assert.deepEqual(writes, [Buffer.byteLength(r.text)]);
  });

  it('tells a transport waiting for drain when its queued writes have left', async () => {
    handler = (io) => {
      const res = io.response();
      res.writeHead(200, undefined, []);
      // 64 KiB queued in one tick: write() says wait, 'drain' says go on.
      const big = Buffer.alloc(64 * 1024, 0x61);
      assert.equal(res.write(big), false);
      assert.ok(res.writableLength >= big.length);
      res.once('drain', () => res.end(Buffer.from('!')));
    };
    const r = await exchange('GET / HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n');
    assert.ok(r.closed);
    assert.match(r.text, /\r\n10000\r\na{65536}\r\n1\r\n!\r\n0\r\n\r\n$/);
  });

  it('stops reading a client that sends far ahead of the request in flight', async () => {
    options = { ...DEFAULT_HTTP_OPTIONS, readAheadBytes: 1024 };
    let held: RequestIO | undefined;
    handler = (io) => {
      held = io;
    };
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('GET /a HTTP/1.1\r\nHost: d\r\n\r\n');
    await until(() => held !== undefined);
    socket.write(Buffer.alloc(4 * 1024 * 1024, 0x61));
    await until(() => (last?.socket as Socket | undefined)?.isPaused() === true);
    socket.destroy();
    options = DEFAULT_HTTP_OPTIONS;
  });

  it('hands the raw socket over, with the bytes already read after the body', async () => {
    handler = (io) =>
      void io.readBody(1024).then((body) => {
        const socket = io.takeOver();
        socket.write(`HTTP/1.1 101 UPGRADED\r\n\r\nbody=${body.toString()};`);
        socket.on('data', (c: Buffer) => socket.write(c));
      });
    const r = await exchange(
      'POST /exec/x/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}raw',
      /raw$/,
    );
    assert.match(r.text, /^HTTP\/1\.1 101 UPGRADED\r\n\r\nbody=\{\};raw$/);
    r.socket.destroy();
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('HTTP connection layer: limits', () => {
  it('answers 408 and closes when a body read whole does not arrive within the body timeout', async () => {
    options = { ...DEFAULT_HTTP_OPTIONS, bodyTimeoutMs: 300 };
    handler = (io) => {
      io.readBody(1024 * 1024).then(
        () => ok('x')(io),
        (err: DockwardError) => io.refuse(err),
      );
    };
    const started = Date.now();
    try {
      const r = await exchange('POST /c HTTP/1.1\r\nHost: d\r\nContent-Length: 100\r\n\r\n0123456789');
      assert.match(r.text, /^HTTP\/1\.1 408 /);
      assert.match(r.text, /did not arrive within 300 ms \(--body-timeout\)/);
      assert.equal(r.closed, true);
      assert.ok(Date.now() - started < 3000);
    } finally {
      options = DEFAULT_HTTP_OPTIONS;
    }
  });

  it('answers 503 when the bodies held in memory would pass the budget, and gives the memory back', async () => {
    // 1 MiB in all: a quarter, 256 KiB, for one identity.
    budget = new BodyMemory(1024 * 1024).for('alice');
    handler = (io) => {
      io.readBody(1024 * 1024).then(
        (b) => ok(String(b.length))(io),
        (err: DockwardError) => io.refuse(err),
      );
    };
    try {
      const big = await exchange(`POST /c HTTP/1.1\r\nHost: d\r\nContent-Length: ${300 * 1024}\r\n\r\n`);
      assert.match(big.text, /^HTTP\/1\.1 503 /);
      assert.match(big.text, /--body-memory/);
      // Within the budget, twice in a row: the first body's memory was given back.
      for (let i = 0; i < 2; i++) {
        const body = 'x'.repeat(200 * 1024);
        const r = await exchange(
          `POST /c HTTP/1.1\r\nHost: d\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        assert.match(r.text, /^HTTP\/1\.1 200 [\s\S]*204800$/);
      }
    } finally {
      budget = undefined;
    }
  });

  it('closes a streaming response soon after the client ended its side', async () => {
    handler = (io) => {
      const res = io.response();
      res.writeHead(200, undefined, []);
      res.flushHeaders(); // a stream that never writes again (events with no events)
    };
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', () => socket.end());
    socket.write('GET /events HTTP/1.1\r\nHost: d\r\n\r\n');
    await closed;
    const ms = Date.now() - started;
    assert.ok(ms < 4000, `closed after ${ms} ms`);
  });
});

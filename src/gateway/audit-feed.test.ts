import assert from 'node:assert/strict';
import { linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isDockwardError } from '../errors.js';
import { main } from '../index.js';
import { waitFor } from '../monitor/test-support.js';
import { AuditFeedServer, FEED_OVERFLOW_LINE } from './audit-feed.js';
import { sampleRecord, tempDir } from './audit-log/test-support.js';
import { AuditLogWriter } from './audit-log/writer.js';
import { PromGatewayMetrics } from './prom-metrics.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = tempDir('dw-feed-');
  dirs.push(d);
  return d;
}

/** A feed client that collects what it is sent; `paused` ones do not read at all. */
class Client {
  text = '';
  ended = false;
  readonly socket: Socket;
  readonly ready: Promise<void>;
  constructor(path: string, paused = false) {
    this.socket = connect(path);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (c: Buffer) => {
      this.text += c.toString('utf8');
    });
    this.socket.on('close', () => {
      this.ended = true;
    });
    if (paused) this.socket.pause();
  }
  lines(): string[] {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

async function fileLines(writer: AuditLogWriter): Promise<string[]> {
  await writer.flush();
  return readFileSync(writer.path, 'utf8').trim().split('\n');
}

describe('the audit feed', () => {
  it('sends every client each appended record, byte for byte the line in the file, on a 0600 socket', async () => {
    const dir = folder();
    const writer = await AuditLogWriter.open(join(dir, 'audit.log'), { fsync: 'never' });
    writer.append(sampleRecord(0)); // before anyone listens: not sent
    const metrics = new PromGatewayMetrics();
    const feed = await AuditFeedServer.start({ path: join(dir, 'feed.sock'), writer, metrics });
    assert.equal(statSync(feed.path).mode & 0o777, 0o600);
    assert.ok(statSync(feed.path).isSocket());
    const a = new Client(feed.path);
    const b = new Client(feed.path);
    await Promise.all([a.ready, b.ready]);
    await waitFor(() => feed.clientCount === 2, 'two clients');
    b.socket.write('anything a client sends is ignored\n');
    for (let i = 1; i < 8; i++) writer.append(sampleRecord(i));
    const expected = (await fileLines(writer)).slice(1);
    await waitFor(() => a.lines().length >= 7 && b.lines().length >= 7, 'the records on both clients');
    assert.deepEqual(a.lines(), expected);
    assert.deepEqual(b.lines(), expected);
    assert.match(await metrics.registry.metrics(), /dockward_audit_feed_clients 2/);
    await feed.close();
    await waitFor(() => a.ended && b.ended, 'the clients closed by the feed');
    assert.throws(() => statSync(feed.path), /ENOENT/, 'the socket file is removed on close');
    await writer.close();
  });

  it('cuts off a client that never reads, with a last overflow line, while the others keep receiving', async () => {
    const dir = folder();
    const writer = await AuditLogWriter.open(join(dir, 'audit.log'), { fsync: 'never' });
    const feed = await AuditFeedServer.start({
      path: join(dir, 'feed.sock'),
      writer,
      maxPendingBytes: 64 * 1024,
      closeGraceMs: 60_000,
    });
    const slow = new Client(feed.path, true);
    const fast = new Client(feed.path);
    await Promise.all([slow.ready, fast.ready]);
    await waitFor(() => feed.clientCount === 2, 'two clients');
    let n = 0;
    // The kernel's socket buffers take a few hundred KiB before the feed's own buffer fills.
    while (feed.overflows === 0) {
      assert.ok(n < 50_000, 'the slow client was never cut off');
      for (let i = 0; i < 50; i++) writer.append(sampleRecord(n++));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(feed.clientCount, 1);
    for (let i = 0; i < 10; i++) writer.append(sampleRecord(n++)); // the gateway goes on
    const all = await fileLines(writer);
    assert.equal(all.length, n);
    await waitFor(() => fast.lines().length >= n, 'every record at the reading client');
    assert.deepEqual(fast.lines(), all);
    // The slow client, reading at last, finds a gapless prefix and then the overflow line.
    slow.socket.resume();
    await waitFor(() => slow.ended, 'the slow client disconnected');
    const got = slow.lines();
    assert.equal(got.at(-1), FEED_OVERFLOW_LINE);
    assert.ok(got.length > 1 && got.length - 1 < n);
    assert.deepEqual(got.slice(0, -1), all.slice(0, got.length - 1));
    await feed.close();
    await writer.close();
  });

  it('replaces a stale socket but refuses a live one or a file that is not a socket', async () => {
    const dir = folder();
    const writer = await AuditLogWriter.open(join(dir, 'audit.log'), { fsync: 'never' });
    const notSocket = join(dir, 'plain');
    writeFileSync(notSocket, 'keep me');
    await assert.rejects(AuditFeedServer.start({ path: notSocket, writer }), (err: unknown) => {
      return isDockwardError(err) && err.code === 'DW_E_USAGE' && /not a socket/.test(err.message);
    });
    assert.equal(readFileSync(notSocket, 'utf8'), 'keep me');

    const path = join(dir, 'feed.sock');
    const first = await AuditFeedServer.start({ path, writer });
    await assert.rejects(
      AuditFeedServer.start({ path, writer }),
      (err: unknown) => isDockwardError(err) && err.code === 'DW_E_LOCKED',
    );
    await first.close();

    // A socket left behind by a process that died: bound, then its listener gone without unlink.
    const stale = join(dir, 'stale.sock');
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(stale, resolve));
    const leftover = join(dir, 'leftover.sock');
    linkSync(stale, leftover);
    await new Promise<void>((resolve) => other.close(() => resolve()));
    assert.ok(statSync(leftover).isSocket());
    const feed = await AuditFeedServer.start({ path: leftover, writer });
    const c = new Client(leftover);
    await c.ready;
    await waitFor(() => feed.clientCount === 1, 'a client on the replaced socket');
    await feed.close();
    await writer.close();
  });
  it('is refused by `dockward gateway` without --audit-log, with exit code 2', async () => {
    const dir = folder();
    let stderr = '';
    const code = await main(
      ['--home', join(dir, 'home'), 'gateway', '--audit-feed', join(dir, 'feed.sock')],
      {
        stdout: { write: () => undefined },
        stderr: {
          write: (chunk: string) => {
            stderr += chunk;
          },
        },
      },
    );
    assert.equal(code, 2);
    assert.match(stderr, /--audit-feed needs --audit-log/);
    assert.throws(() => statSync(join(dir, 'feed.sock')), /ENOENT/);
  });
});

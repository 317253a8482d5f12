import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { isDockwardError } from '../../errors.js';
import { AuditFeedServer, auditFeedLine, FEED_OVERFLOW_LINE } from '../../gateway/audit-feed.js';
import { sampleRecord, tempDir } from '../../gateway/audit-log/test-support.js';
import { AuditLogWriter } from '../../gateway/audit-log/writer.js';
import type { RawEvent } from '../model.js';
import { waitFor } from '../test-support.js';
import { AuditFeedSource, feedSocketPath } from './audit-feed.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = tempDir('dw-mon-feed-');
  dirs.push(d);
  return d;
}

function seqs(events: RawEvent[]): number[] {
  return events.map((e) => (e.source === 'gateway' ? e.record.seq : -1));
}

const logged: { msg: string; [key: string]: unknown }[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
const messages = () => logged.map((l) => l.msg);

describe('the audit-feed source', () => {
  it('emits each record of a running feed and reconnects when the feed comes back', async () => {
    const dir = folder();
    const path = join(dir, 'feed.sock');
    const writer = await AuditLogWriter.open(join(dir, 'audit.log'), { fsync: 'never' });
    let feed = await AuditFeedServer.start({ path, writer });
    const source = new AuditFeedSource({ url: `unix://${path}`, initialBackoffMs: 20, logger });
    const events: RawEvent[] = [];
    await source.start((e) => events.push(e));
    await waitFor(() => feed.clientCount === 1, 'the source connected');
    for (let i = 0; i < 3; i++) writer.append(sampleRecord(i));
    await waitFor(() => events.length >= 3, 'three records');
    assert.deepEqual(seqs(events), [1, 2, 3]);
    assert.equal(events[0]!.source === 'gateway' && events[0]!.origin, `unix://${path}`);

    // The gateway restarts: records appended while the feed is down are the file's alone.
    await feed.close();
    writer.append(sampleRecord(3));
    feed = await AuditFeedServer.start({ path, writer });
    await waitFor(() => feed.clientCount === 1, 'the source reconnected');
    assert.equal(source.connections, 2);
    for (let i = 4; i < 6; i++) writer.append(sampleRecord(i));
    await waitFor(() => events.length >= 5, 'the later records');
    assert.deepEqual(seqs(events), [1, 2, 3, 5, 6]);
    assert.ok(messages().includes('audit feed lost'));
    const gap = logged.find((l) => l.msg.startsWith('audit records were missed'));
    assert.deepEqual([gap?.['missedFromSeq'], gap?.['missedToSeq']], [4, 4]);
    await source.stop();
    await feed.close();
    await writer.close();
  });

  it('keeps retrying a feed that is not there yet', async () => {
    const dir = folder();
    const path = join(dir, 'feed.sock');
    const source = new AuditFeedSource({
      url: `unix://${path}`,
      initialBackoffMs: 10,
      maxBackoffMs: 40,
      logger,
    });
    const events: RawEvent[] = [];
    await source.start((e) => events.push(e));
    const writer = await AuditLogWriter.open(join(dir, 'audit.log'), { fsync: 'never' });
    const feed = await AuditFeedServer.start({ path, writer });
    await waitFor(() => feed.clientCount === 1, 'the source connected');
    writer.append(sampleRecord(0));
    await waitFor(() => events.length === 1, 'the record');
    await source.stop();
    await feed.close();
    await writer.close();
  });

  it('skips lines that are not audit records and warns that an overflow lost records', async () => {
    const dir = folder();
    const path = join(dir, 'fake.sock');
    const writer = await AuditLogWriter.open(join(dir, 'audit.log'), { fsync: 'never' });
    const good = auditFeedLine(writer.append(sampleRecord(0)));
    // A stand-in for the gateway that sends a fixed script (the real cut-off is tested in gateway/).
    const sockets = new Set<Socket>();
    const fake = createServer((s) => {
      sockets.add(s);
      s.end(`not json\n{"seq":1}\n${good}\n${FEED_OVERFLOW_LINE}\n`);
    });
    await new Promise<void>((resolve) => fake.listen(path, resolve));
    const before = logged.length;
    const source = new AuditFeedSource({ url: `unix://${path}`, initialBackoffMs: 60_000, logger });
    const events: RawEvent[] = [];
    await source.start((e) => events.push(e));
    await waitFor(
      () => logged.slice(before).some((l) => l.msg === 'audit feed lost'),
      'the end of the script',
    );
    const seen = logged.slice(before).map((l) => l.msg);
    assert.equal(seen.filter((m) => m === 'skipping a feed line that is not an audit record').length, 2);
    assert.ok(seen.some((m) => m.startsWith('the gateway cut this monitor off')));
    assert.deepEqual(seqs(events), [1]);
    await source.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => fake.close(() => resolve()));
    await writer.close();
  });

  it('takes only unix:///path URLs', () => {
    assert.equal(feedSocketPath('unix:///run/dockward/feed.sock'), '/run/dockward/feed.sock');
    for (const bad of ['tcp://127.0.0.1:1', '/run/feed.sock', 'unix://relative.sock']) {
      assert.throws(
        () => feedSocketPath(bad),
        (err: unknown) => isDockwardError(err) && err.code === 'DW_E_USAGE',
      );
    }
  });
});

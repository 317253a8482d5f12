import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isDockwardError } from '../../errors.js';
import type { Alert } from '../model.js';
import { SyslogTcpReceiver, SyslogUdpReceiver, WebhookReceiver, waitFor } from '../test-support.js';
import { FileSink } from './file.js';
import { parseSinkSpec } from './index.js';
import { StdoutSink } from './stdout.js';
import { formatSyslog, frameOctetCounting, parseSyslogUrl, SyslogSink } from './syslog.js';
import { WebhookSink } from './webhook.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'dw-mon-sink-'));
  dirs.push(d);
  return d;
}

function alert(n: number, extra: Partial<Alert> = {}): Alert {
  return {
    uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    output: `alert number ${n}`,
    priority: 'Critical',
    rule: 'Privileged container',
    time: '2026-01-02T03:04:05.000Z',
    output_fields: { 'container.name': `c${n}`, n },
    source: 'dockward-docker',
    tags: ['container', 'privileged'],
    hostname: 'mon-host',
    ...extra,
  };
}

describe('parsing --sink', () => {
  const good: [string, unknown][] = [
    ['stdout', { kind: 'stdout' }],
    ['file:/tmp/a.jsonl', { kind: 'file', path: '/tmp/a.jsonl' }],
    ['webhook:http://127.0.0.1:9/x', { kind: 'webhook', url: 'http://127.0.0.1:9/x' }],
    [
      'syslog:udp://127.0.0.1:514',
      { kind: 'syslog', target: { transport: 'udp', host: '127.0.0.1', port: 514, facility: 4 } },
    ],
    [
      'syslog:tcp://[::1]:601?facility=local0',
      { kind: 'syslog', target: { transport: 'tcp', host: '::1', port: 601, facility: 16 } },
    ],
  ];
  for (const [text, spec] of good) {
    it(`reads ${text}`, () => assert.deepEqual(parseSinkSpec(text), spec));
  }
  const bad = [
    'kafka:x',
    'file:',
    'webhook:ftp://x/',
    'webhook:nope',
    'syslog:udp://h',
    'syslog:http://h:1',
    'syslog:udp://h:1?facility=x',
  ];
  for (const text of bad) {
    it(`refuses ${text} with a usage error and a hint`, () => {
      assert.throws(
        () => parseSinkSpec(text),
        (err: unknown) => isDockwardError(err) && err.code === 'DW_E_USAGE' && err.hint !== undefined,
      );
    });
  }
});

describe('the stdout and file sinks', () => {
  it('prints one human line per alert, or the alert JSON with json', async () => {
    let out = '';
    const io = {
      write: (s: string) => {
        out += s;
      },
    };
    await new StdoutSink(false, io).deliver(alert(1, { output: 'two\nlines' }));
    assert.equal(out, '2026-01-02T03:04:05.000Z Critical Privileged container: two lines\n');
    out = '';
    await new StdoutSink(true, io).deliver(alert(2));
    assert.deepEqual(JSON.parse(out), alert(2));
  });

  it('appends JSON lines to a file it creates 0600', async () => {
    const path = join(folder(), 'alerts.jsonl');
    const sink = new FileSink(path);
    await Promise.all([sink.deliver(alert(1)), sink.deliver(alert(2))]);
    await sink.close();
    const again = new FileSink(path);
    await again.deliver(alert(3));
    await again.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert);
    assert.deepEqual(
      lines.map((a) => a.output_fields['n']),
      [1, 2, 3],
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});

describe('the webhook sink', () => {
  it('posts alerts as falcosidekick JSON in order', async () => {
    const receiver = new WebhookReceiver();
    await receiver.up();
    const sink = await WebhookSink.open({ url: receiver.url, spoolDir: folder() });
    for (let i = 1; i <= 5; i++) await sink.deliver(alert(i));
    await sink.drained();
    await sink.close();
    await receiver.down();
    assert.deepEqual(
      receiver.received,
      [1, 2, 3, 4, 5].map((i) => alert(i)),
    );
  });

  it('spools while the receiver is down and delivers every alert exactly once, in order, when it is back', async () => {
    const receiver = new WebhookReceiver();
    await receiver.up();
    const url = receiver.url;
    const port = receiver.port;
    await receiver.down();
    const spoolDir = folder();
    const sink = await WebhookSink.open({ url, spoolDir, initialBackoffMs: 20, maxBackoffMs: 100 });
    for (let i = 1; i <= 6; i++) await sink.deliver(alert(i));
    await waitFor(() => sink.failures >= 3, 'a few failed attempts');
    assert.equal(sink.pending, 6);
    assert.equal(readdirSync(sink.dir).filter((f) => f.endsWith('.json') && f !== 'cursor.json').length, 6);
    const back = new WebhookReceiver(port);
    await back.up();
    for (let i = 7; i <= 9; i++) await sink.deliver(alert(i));
    await sink.drained();
    await sink.close();
    await back.down();
    assert.deepEqual(
      back.received.map((a) => a.output_fields['n']),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(readdirSync(sink.dir).filter((f) => /^\d+\.json$/.test(f)).length, 0, 'the spool is empty');
  });

  it('keeps undelivered alerts across a restart and sends only those, once', async () => {
    const receiver = new WebhookReceiver();
    await receiver.up();
    const spoolDir = folder();
    const first = await WebhookSink.open({
      url: receiver.url,
      spoolDir,
      initialBackoffMs: 20,
      closeTimeoutMs: 50,
    });
    await first.deliver(alert(1));
    await first.deliver(alert(2));
    await first.drained();
    const port = receiver.port;
    const url = receiver.url;
    await receiver.down();
    await first.deliver(alert(3));
    await first.deliver(alert(4));
    await first.close(); // receiver down: 3 and 4 stay in the spool
    assert.deepEqual(
      receiver.received.map((a) => a.output_fields['n']),
      [1, 2],
    );
    const back = new WebhookReceiver(port);
    await back.up();
    const second = await WebhookSink.open({ url, spoolDir, initialBackoffMs: 20 });
    await second.deliver(alert(5));
    await second.drained();
    await second.close();
    await back.down();
    assert.deepEqual(
      back.received.map((a) => a.output_fields['n']),
      [3, 4, 5],
    );
  });

  it('refuses a second sink on the same spool while the first holds it', async () => {
    const spoolDir = folder();
    const url = 'http://127.0.0.1:9/x';
    const first = await WebhookSink.open({ url, spoolDir, closeTimeoutMs: 10 });
    await assert.rejects(
      WebhookSink.open({ url, spoolDir }),
      (err: unknown) => isDockwardError(err) && err.code === 'DW_E_LOCKED',
    );
    await first.close();
  });
});

describe('the syslog sink', () => {
  it('formats an RFC 5424 message with PRI from the priority and escaped structured data', () => {
    const msg = formatSyslog(alert(1, { rule: 'Odd "rule"]', priority: 'Warning' }), 4, '42');
    const expectedPrefix =
      '<36>1 2026-01-02T03:04:05.000Z mon-host dockward 42 alert [dockward@32473 rule="Odd \\"rule\\"\\]" priority="Warning" uuid="00000000-0000-4000-8000-000000000001" source="dockward-docker"] ';
    assert.ok(msg.startsWith(expectedPrefix), msg);
    assert.equal(JSON.parse(msg.slice(expectedPrefix.length)).rule, 'Odd "rule"]');
  });

  it('frames TCP messages by octet count, counting bytes not characters', () => {
    assert.equal(frameOctetCounting('é x').toString('utf8'), '4 é x');
  });

  it('sends one datagram per alert over UDP', async () => {
    const receiver = new SyslogUdpReceiver();
    await receiver.up();
    const got = receiver.messages;
    const sink = new SyslogSink({
      target: parseSyslogUrl(`udp://127.0.0.1:${receiver.port}?facility=local0`),
    });
    await sink.deliver(alert(1, { priority: 'Critical' }));
    await sink.deliver(alert(2, { priority: 'Notice' }));
    await waitFor(() => got.length >= 2, 'two datagrams');
    await sink.close();
    await receiver.down();
    assert.match(got[0]!, /^<130>1 /); // local0 (16) * 8 + critical (2)
    assert.match(got[1]!, /^<133>1 /); // + notice (5)
    assert.equal(JSON.parse(got[1]!.slice(got[1]!.indexOf('] ') + 2)).uuid, alert(2).uuid);
  });

  it('sends octet-counted frames over TCP and reconnects to a receiver that restarted', async () => {
    const receiver = new SyslogTcpReceiver();
    await receiver.up();
    const frames = receiver.messages;
    const sink = new SyslogSink({
      target: parseSyslogUrl(`tcp://127.0.0.1:${receiver.port}`),
      initialBackoffMs: 20,
    });
    await sink.deliver(alert(1, { output: 'multi\nline' }));
    await waitFor(() => frames.length >= 1, 'the first frame');
    // The receiver restarts: its connections are cut, the port is reused.
    await receiver.down();
    await receiver.up();
    // The first write after the restart may land on the dead socket; keep sending until one arrives.
    let n = 2;
    while (frames.length < 2 && n < 50) {
      await sink.deliver(alert(n++));
      await new Promise((r) => setTimeout(r, 30));
    }
    await sink.close();
    await receiver.down();
    assert.ok(frames.length >= 2, 'a frame arrived after the restart');
    assert.match(frames[0]!, /^<34>1 .* \{.*"output":"multi\\nline"/);
  });
});

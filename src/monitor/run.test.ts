import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { isDockwardError } from '../errors.js';
import { AuditFeedServer } from '../gateway/audit-feed.js';
import { AuditLogWriter } from '../gateway/audit-log/writer.js';
import { statePaths } from '../store/paths.js';
import type { Alert } from './model.js';
import { startMonitor } from './run.js';
import { waitFor } from './test-support.js';

const base = mkdtempSync(join(tmpdir(), 'dw-mon-run-'));
after(() => rmSync(base, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

const revoked = {
  type: 'connection',
  connId: 'c1',
  event: 'handshake-failed',
  client: { address: '192.0.2.7', port: 40000 },
  reason: 'revoked: certificate revoked (CERT_REVOKED)',
} as const;

describe('runMonitor wiring', () => {
  it('turns an audit record into an alert at every sink, and flushes them on stop', async () => {
    const dir = mkdtempSync(join(base, 'a-'));
    const log = join(dir, 'gateway.log');
    const writer = await AuditLogWriter.open(log, { fsync: 'never' });
    let printed = '';
    const running = await startMonitor(
      statePaths(join(dir, 'home')),
      {
        auditLogs: [log],
        dockers: [],
        rules: [],
        defaultRules: true,
        sinks: ['stdout', `file:${join(dir, 'alerts.jsonl')}`],
        json: false,
        fromStart: false,
        stdout: {
          write: (s: string) => {
            printed += s;
          },
        },
      },
      logger,
    );
    writer.append(revoked);
    await writer.flush();
    await waitFor(() => running.alerts >= 1, 'the alert');
    await running.stop();
    await writer.close();
    assert.match(printed, /^\S+ Warning Revoked certificate used: .*address=192\.0\.2\.7/);
    const saved = readFileSync(join(dir, 'alerts.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert);
    assert.equal(saved.length, 1);
    assert.equal(saved[0]!.source, 'dockward-gateway');
  });

  it('takes a live audit feed as its only source and alerts on its records', async () => {
    const dir = mkdtempSync(join(base, 'f-'));
    const writer = await AuditLogWriter.open(join(dir, 'gateway.log'), { fsync: 'never' });
    const feed = await AuditFeedServer.start({ path: join(dir, 'feed.sock'), writer });
    const running = await startMonitor(
      statePaths(join(dir, 'home')),
      {
        auditLogs: [],
        auditFeeds: [`unix://${feed.path}`],
        dockers: [],
        rules: [],
        defaultRules: true,
        sinks: [`file:${join(dir, 'alerts.jsonl')}`],
        json: false,
        fromStart: false,
      },
      logger,
    );
    assert.deepEqual(
      running.sources.map((s) => s.name),
      [`audit-feed:unix://${feed.path}`],
    );
    await waitFor(() => feed.clientCount === 1, 'the monitor on the feed');
    writer.append(revoked);
    await waitFor(() => running.alerts >= 1, 'the alert');
    await running.stop();
    await feed.close();
    await writer.close();
    const saved = JSON.parse(readFileSync(join(dir, 'alerts.jsonl'), 'utf8').trim()) as Alert;
    assert.equal(saved.rule, 'Revoked certificate used');
  });

  it('refuses an audit feed that is not a unix:// URL before starting anything', async () => {
    const dir = mkdtempSync(join(base, 'g-'));
    await assert.rejects(
      startMonitor(
        statePaths(join(dir, 'home')),
        {
          auditLogs: [],
          auditFeeds: ['tcp://127.0.0.1:9'],
          dockers: [],
          rules: [],
          defaultRules: true,
          sinks: ['stdout'],
          json: false,
          fromStart: false,
        },
        logger,
      ),
      (err: unknown) => isDockwardError(err) && err.code === 'DW_E_USAGE' && /--audit-feed/.test(err.message),
    );
  });

  it('starts nothing when one of the rule files is bad', async () => {
    const dir = mkdtempSync(join(base, 'b-'));
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      good,
      '- rule: Fine\n  desc: d\n  condition: docker.type = container\n  output: o\n  priority: notice\n',
    );
    writeFileSync(
      bad,
      '- rule: Broken\n  desc: d\n  condition: nosuch.field = 1\n  output: o\n  priority: notice\n',
    );
    await assert.rejects(
      startMonitor(
        statePaths(join(dir, 'home')),
        {
          auditLogs: [join(dir, 'gateway.log')],
          dockers: [],
          rules: [good, bad],
          defaultRules: true,
          sinks: [`file:${join(dir, 'alerts.jsonl')}`, 'webhook:http://127.0.0.1:9/'],
          json: false,
          fromStart: false,
        },
        logger,
      ),
      (err: unknown) => isDockwardError(err) && /bad\.yaml:3:\d+/.test(err.message),
    );
    assert.equal(existsSync(join(dir, 'home', 'monitor')), false, 'no spool was created');
  });
});

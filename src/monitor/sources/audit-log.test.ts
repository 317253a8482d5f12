import assert from 'node:assert/strict';
import { appendFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { AuditLogWriter } from '../../gateway/audit-log/writer.js';
import { sampleRecord, tempDir } from '../../gateway/audit-log/test-support.js';
import type { RawEvent } from '../model.js';
import { waitFor } from '../test-support.js';
import { AuditLogSource } from './audit-log.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = tempDir('dw-mon-audit-');
  dirs.push(d);
  return d;
}

function seqs(events: RawEvent[]): number[] {
  return events.map((e) => (e.source === 'gateway' ? e.record.seq : -1));
}

const warnings: string[] = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });

describe('the audit-log source', () => {
  it('starts at the end of the file and emits only records appended afterwards', async () => {
    const path = join(folder(), 'audit.log');
    const writer = await AuditLogWriter.open(path, { fsync: 'never' });
    for (let i = 0; i < 3; i++) writer.append(sampleRecord(i));
    await writer.flush();
    const events: RawEvent[] = [];
    const source = new AuditLogSource({ path, pollIntervalMs: 50 });
    await source.start((e) => events.push(e));
    for (let i = 3; i < 6; i++) writer.append(sampleRecord(i));
    await writer.flush();
    await waitFor(() => events.length >= 3, 'three records');
    assert.deepEqual(seqs(events), [4, 5, 6]);
    assert.equal(events[0]!.source === 'gateway' && events[0]!.origin, path);
    await source.stop();
    await writer.close();
  });

  it('reads the whole file with fromStart and follows it across several rotations in order', async () => {
    const path = join(folder(), 'audit.log');
    const writer = await AuditLogWriter.open(path, { fsync: 'never', maxBytes: 1500, keep: 5 });
    writer.append(sampleRecord(0));
    await writer.flush();
    const events: RawEvent[] = [];
    const source = new AuditLogSource({ path, fromStart: true, pollIntervalMs: 50 });
    await source.start((e) => events.push(e));
    for (let i = 1; i < 40; i++) {
      writer.append(sampleRecord(i));
      if (i % 5 === 0) await writer.flush();
    }
    await writer.flush();
    await waitFor(() => events.length >= 40, 'forty records');
    assert.deepEqual(
      seqs(events),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    await source.stop();
    await writer.close();
  });

  it('buffers a partial last line until its newline arrives', async () => {
    const path = join(folder(), 'audit.log');
    const writer = await AuditLogWriter.open(path, { fsync: 'never' });
    writer.append(sampleRecord(0));
    writer.append(sampleRecord(1));
    await writer.close();
    const [first, second] = (await import('node:fs')).readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, '');
    const events: RawEvent[] = [];
    const source = new AuditLogSource({ path, pollIntervalMs: 30 });
    await source.start((e) => events.push(e));
    appendFileSync(path, `${first}\n${second!.slice(0, 40)}`);
    await waitFor(() => events.length >= 1, 'the first record');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(events.length, 1, 'the half line is not emitted');
    appendFileSync(path, `${second!.slice(40)}\n`);
    await waitFor(() => events.length >= 2, 'the completed record');
    assert.deepEqual(seqs(events), [1, 2]);
    await source.stop();
  });

  it('logs and skips lines that are not audit records', async () => {
    const path = join(folder(), 'audit.log');
    writeFileSync(path, '');
    const events: RawEvent[] = [];
    warnings.length = 0;
    const source = new AuditLogSource({ path, pollIntervalMs: 30, logger });
    await source.start((e) => events.push(e));
    const writerDir = folder();
    const other = join(writerDir, 'a.log');
    const writer = await AuditLogWriter.open(other, { fsync: 'never' });
    writer.append(sampleRecord(0));
    await writer.close();
    const good = (await import('node:fs')).readFileSync(other, 'utf8');
    appendFileSync(path, `not json\n{"type":"request"}\n${good}`);
    await waitFor(() => events.length >= 1, 'the good record');
    assert.equal(warnings.filter((w) => w.includes('not an audit record')).length, 2);
    await source.stop();
  });

  it('starts over from the beginning when the file is truncated', async () => {
    const path = join(folder(), 'audit.log');
    const writer = await AuditLogWriter.open(path, { fsync: 'never' });
    const events: RawEvent[] = [];
    const source = new AuditLogSource({ path, pollIntervalMs: 30 });
    await source.start((e) => events.push(e));
    for (let i = 0; i < 4; i++) writer.append(sampleRecord(i));
    await writer.close();
    await waitFor(() => events.length >= 4, 'four records');
    const text = (await import('node:fs')).readFileSync(path, 'utf8');
    truncateSync(path, 0);
    // Wait until the source has seen the empty file, then write a shorter content.
    await new Promise((r) => setTimeout(r, 120));
    appendFileSync(path, text.split('\n')[0]!.concat('\n'));
    await waitFor(() => events.length >= 5, 'the record after truncation');
    assert.deepEqual(seqs(events), [1, 2, 3, 4, 1]);
    await source.stop();
  });

  it('waits for a file that does not exist yet and reads it whole once it appears', async () => {
    const path = join(folder(), 'later.log');
    const events: RawEvent[] = [];
    const source = new AuditLogSource({ path, pollIntervalMs: 30 });
    await source.start((e) => events.push(e));
    const writer = await AuditLogWriter.open(path, { fsync: 'never' });
    writer.append(sampleRecord(0));
    writer.append(sampleRecord(1));
    await writer.close();
    await waitFor(() => events.length >= 2, 'two records');
    assert.deepEqual(seqs(events), [1, 2]);
    await source.stop();
  });
});

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { auditSinkFor } from '../audit-file-sink.js';
import { boundRecord, truncateField } from './bound.js';
import { readLines, tempDir } from './test-support.js';
import { verifyAuditLog } from './verify.js';
import { AuditLogWriter } from './writer.js';

const dir = tempDir('dw-audit-bound-');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('bounding audit record fields', () => {
  it('keeps a short field as it is and cuts a long one on a character boundary with a marker', () => {
    assert.equal(truncateField('short', 16), 'short');
    const cut = truncateField('é'.repeat(10), 5); // 20 bytes; 5 falls inside the third é
    assert.equal(cut, 'éé…[truncated 16 bytes]');
  });

  it('cuts nested strings too and leaves a record without long fields untouched', () => {
    const rec = {
      type: 'connection' as const,
      connId: 'c1',
      event: 'accepted' as const,
      client: { address: 'x'.repeat(10_000), port: 1 },
    };
    const b = boundRecord(rec);
    assert.match(b.client.address, /…\[truncated 5904 bytes\]$/);
    const small = { ...rec, client: { address: '::1', port: 1 } };
    assert.equal(boundRecord(small), small);
  });

  it('records a denial whose reason is 5 MiB: the request record is written, its reason cut', async () => {
    const path = join(dir, 'gateway.log');
    const writer = await AuditLogWriter.open(path);
    const sink = auditSinkFor(writer);
    const reason = 'r'.repeat(5 * 1024 * 1024);
    await sink.decision({
      requestId: 'r1',
      connId: 1,
      client: { address: '127.0.0.1', port: 5000 },
      identity: null,
      method: 'GET',
      rawPath: `/${'p'.repeat(16 * 1024)}`,
      canonicalPath: `/${'p'.repeat(16 * 1024)}`,
      endpoint: null,
      decision: 'deny',
      rule: 'DW_E_UNKNOWN_ENDPOINT',
      reason,
    });
    await writer.close();
    const lines = readLines(path);
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!) as { type: string; decision: string; reason: string; rawPath: string };
    assert.deepEqual([rec.type, rec.decision], ['request', 'deny']);
    assert.equal(rec.reason, `${'r'.repeat(16 * 1024)}…[truncated ${5 * 1024 * 1024 - 16 * 1024} bytes]`);
    assert.match(rec.rawPath, /…\[truncated 8193 bytes\]$/);
    assert.ok(lines[0]!.length < 64 * 1024, 'the line is small');
    const v = await verifyAuditLog(path);
    assert.equal(v.ok, true);
  });
});

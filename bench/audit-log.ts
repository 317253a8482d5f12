import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestRecordInput } from '../src/gateway/audit-log/record.js';
import { verifyAuditLog } from '../src/gateway/audit-log/verify.js';
import { AuditLogWriter } from '../src/gateway/audit-log/writer.js';
import type { BenchFigure } from './pki.js';
import { summarize } from './stats.js';

/** A decision record the size the gateway writes for `docker ps`. */
function decision(i: number): RequestRecordInput {
  return {
    type: 'request',
    requestId: `req-${i}`,
    connId: 'conn-1',
    client: { address: '127.0.0.1', port: 51234 },
    identity: { cn: 'alice', ou: ['operator'], serial: '5f3a9c0e12', fingerprint: 'ab'.repeat(32) },
    method: 'GET',
    rawPath: '/v1.41/containers/json?all=1',
    canonicalPath: '/containers/json',
    apiVersion: '1.41',
    endpoint: 'container.list',
    decision: 'allow',
    rule: 'operator/read',
    userAgent: 'Docker-Client/28.0.0 (linux)',
  };
}

/** Microseconds per call of `fn`, one sample per batch of `batch` calls. */
async function usPerRecord(samples: number, batch: number, fn: (i: number) => unknown): Promise<number[]> {
  const out: number[] = [];
  let i = 0;
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < batch; b++) await fn(i++);
    out.push(Number(process.hrtime.bigint() - t0) / 1e3 / batch);
  }
  return out;
}

/**
 * Cost per record of the audit log: `append` (seal + queue, the hot-path part), `appendDurable`
 * awaited one at a time (until write(2) returned), the same with fsync `always`, and verify.
 */
export async function benchAuditLog(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-audit-'));
  try {
    const log = await AuditLogWriter.open(join(dir, 'audit.log'), { fsync: 'interval' });
    // append() alone: the write happens after the batch, outside the measured synchronous part.
    const append: number[] = [];
    for (let s = 0; s < 200; s++) {
      const t0 = process.hrtime.bigint();
      for (let b = 0; b < 50; b++) log.append(decision(s * 50 + b));
      append.push(Number(process.hrtime.bigint() - t0) / 1e3 / 50);
      await log.flush();
    }
    const durable = await usPerRecord(500, 1, (i) => log.appendDurable(decision(i)));
    await log.close();

    const always = await AuditLogWriter.open(join(dir, 'always.log'), { fsync: 'always' });
    const durableAlways = await usPerRecord(100, 1, (i) => always.appendDurable(decision(i)));
    await always.close();

    const verify: number[] = [];
    for (let s = 0; s < 5; s++) {
      const t0 = process.hrtime.bigint();
      const res = await verifyAuditLog(join(dir, 'audit.log'));
      verify.push(Number(process.hrtime.bigint() - t0) / 1e3 / res.records);
    }
    return [
      {
        id: 'audit-log.append',
        label: 'audit log: append() a decision record (validate, seal, queue)',
        unit: 'us',
        summary: summarize(append),
        target: { op: '<', value: 20 },
      },
      {
        id: 'audit-log.append-durable',
        label: 'audit log: appendDurable() one at a time, until write(2) returned',
        unit: 'us',
        summary: summarize(durable),
        target: { op: '<', value: 500 },
      },
      {
        id: 'audit-log.append-durable.fsync-always',
        label: "audit log: appendDurable() with fsync 'always' (fdatasync per record)",
        unit: 'us',
        summary: summarize(durableAlways),
      },
      {
        id: 'audit-log.verify',
        label: 'audit log: verify, per record',
        unit: 'us',
        summary: summarize(verify),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

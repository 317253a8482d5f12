/** Records and file helpers shared by the audit-log tests (not part of the library). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecordInput } from './record.js';

/** A fresh temp folder. */
export function tempDir(prefix = 'dw-audit-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The i-th record of a plausible gateway conversation: decision, completion, connection events. */
export function sampleRecord(i: number): AuditRecordInput {
  const requestId = `req-${Math.floor(i / 2)}`;
  if (i % 7 === 6) {
    return {
      type: 'connection',
      connId: `conn-${i}`,
      event: 'handshake-failed',
      client: { address: '::1', port: 40000 + i },
      reason: 'certificate revoked',
      tlsVersion: 'TLSv1.3',
    };
  }
  if (i % 2 === 0) {
    return {
      type: 'request',
      requestId,
      connId: 'conn-1',
      client: { address: '127.0.0.1', port: 51234 },
      identity: { cn: 'alice', ou: ['operator'], serial: '5f3a9c0e12' },
      method: i % 4 === 0 ? 'GET' : 'POST',
      rawPath: i % 4 === 0 ? '/v1.41/containers/json?all=1' : '/v1.41/containers/create?name=web',
      canonicalPath: i % 4 === 0 ? '/containers/json' : '/containers/create',
      apiVersion: '1.41',
      endpoint: i % 4 === 0 ? 'container.list' : 'container.create',
      decision: i % 4 === 0 ? 'allow' : 'deny',
      ...(i % 4 === 0 ? {} : { rule: 'operator/no-privileged', reason: 'HostConfig.Privileged is true' }),
      userAgent: 'Docker-Client/28.0.0 (linux)',
    };
  }
  return {
    type: 'response',
    requestId,
    connId: 'conn-1',
    status: i % 4 === 1 ? 200 : 403,
    bytesIn: 0,
    bytesOut: 100 + i,
    durationMs: 1.25,
  };
}

/** The lines of a file, without the empty string after the last newline. */
export function readLines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Writes lines back, each ended by a newline. */
export function writeLines(path: string, lines: readonly string[]): void {
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
}

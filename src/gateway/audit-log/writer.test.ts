import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DockwardError } from '../../errors.js';
import { canonicalJson, sha256Hex } from './chain.js';
import { type AuditRecord, AuditRecordSchema, type RequestRecordInput, ZERO_HASH } from './record.js';
import { readLines, sampleRecord, tempDir } from './test-support.js';
import { verifyAuditLog } from './verify.js';
import { AuditLogWriter } from './writer.js';

const base = tempDir('dw-audit-writer-');
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
/** A log path in a folder of its own that does not exist yet. */
const freshLog = () => join(base, `case-${++n}`, 'audit', 'gateway.log');

async function writeRecords(path: string, count: number, from = 0): Promise<AuditLogWriter> {
  const log = await AuditLogWriter.open(path);
  for (let i = from; i < from + count; i++) log.append(sampleRecord(i));
  await log.close();
  return log;
}

describe('AuditLogWriter', () => {
  it('creates the log 0600 in a folder it creates 0700', async () => {
    const path = freshLog();
    await writeRecords(path, 3);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
    assert.equal(existsSync(`${path}.lock`), false, 'close releases the lock');
  });

  it('chains the records: seq from 1, prev is the hash before, hash covers the canonical form', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path);
    const returned = [0, 1, 2, 3].map((i) => log.append(sampleRecord(i)));
    await log.close();
    const lines = readLines(path);
    assert.equal(lines.length, 4);
    let prev = ZERO_HASH;
    lines.forEach((line, i) => {
      const rec = AuditRecordSchema.parse(JSON.parse(line));
      assert.equal(rec.v, 1);
      assert.equal(rec.seq, i + 1);
      assert.equal(rec.prev, prev);
      assert.equal(rec.hash, sha256Hex(canonicalJson(JSON.parse(line), 'hash')));
      assert.ok(line.endsWith(`,"hash":"${rec.hash}"}`), 'hash is the last member');
      assert.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(returned[i], rec);
      prev = rec.hash;
    });
    assert.equal(log.lastHash, prev);
  });

  it('resolves appendDurable only once the line is in the file', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path, { fsync: 'never' });
    for (let i = 0; i < 20; i++) {
      const rec = await log.appendDurable(sampleRecord(i));
      const text = readFileSync(path, 'utf8');
      assert.ok(text.endsWith(`"hash":"${rec.hash}"}\n`), `record ${rec.seq} is the last line`);
    }
    await log.close();
  });

  it('writes every appended record by the time flush resolves', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path);
    for (let i = 0; i < 200; i++) log.append(sampleRecord(i));
    await log.flush();
    assert.equal(readLines(path).length, 200);
    await log.close();
  });

  it('refuses a record that does not match the schema, without spending a seq', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path);
    const bad = { ...sampleRecord(0), decision: 'maybe' } as unknown as RequestRecordInput;
    assert.throws(
      () => log.append(bad),
      (err: unknown) => {
        assert.ok(err instanceof DockwardError);
        assert.equal(err.code, 'DW_E_INTERNAL');
        assert.match(err.message, /decision/);
        return true;
      },
    );
    assert.equal(log.append(sampleRecord(0)).seq, 1);
    await log.close();
    assert.equal((await verifyAuditLog(path)).records, 1);
  });

  it('writes only the fields the schema knows', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path);
    log.append({ ...sampleRecord(0), password: 'hunter2' } as unknown as RequestRecordInput);
    await log.close();
    assert.doesNotMatch(readFileSync(path, 'utf8'), /hunter2|password/);
  });

  it('continues the chain when a log is reopened', async () => {
    const path = freshLog();
    const first = await writeRecords(path, 5);
    const log = await AuditLogWriter.open(path);
    assert.equal(log.opened.seq, 5);
    assert.equal(log.opened.head, first.lastHash);
    const rec = log.append(sampleRecord(5));
    assert.equal(rec.seq, 6);
    assert.equal(rec.prev, first.lastHash);
    await log.close();
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true);
    assert.deepEqual([res.records, res.firstSeq, res.lastSeq], [6, 1, 6]);
  });

  it('ends a torn last line at reopen and keeps it out of the chain', async () => {
    const path = freshLog();
    const first = await writeRecords(path, 3);
    const torn = '{"apiVersion":"1.41","canonicalPath":"/contai';
    appendFileSync(path, torn);
    const log = await AuditLogWriter.open(path);
    assert.equal(log.opened.tornBytes, Buffer.byteLength(torn));
    assert.equal(log.opened.seq, 3);
    const rec = log.append(sampleRecord(3));
    await log.close();
    assert.equal(rec.prev, first.lastHash);
    const lines = readLines(path);
    assert.equal(lines[3], torn, 'the torn text stays, as a line of its own');
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true);
    assert.equal(res.records, 4);
    assert.deepEqual(res.torn, [{ file: path, line: 4, bytes: torn.length, recovered: true }]);
  });

  it('reopens a log whose last record and torn tail are longer than one backward read', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path);
    log.append(sampleRecord(0));
    const long = log.append({
      ...(sampleRecord(0) as RequestRecordInput),
      rawPath: `/${'a'.repeat(150_000)}`,
    });
    await log.close();
    appendFileSync(path, `{"apiVersion":"1.41","rawPath":"/${'b'.repeat(100_000)}`);
    const again = await AuditLogWriter.open(path);
    assert.equal(again.opened.seq, 2);
    assert.equal(again.opened.head, long.hash);
    assert.equal(again.opened.tornBytes, 100_033);
    await again.close();
    assert.equal((await verifyAuditLog(path)).ok, true);
  });

  it('keeps no rotated file with keep 0, and the new file still chains on', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path, { maxBytes: 1024, keep: 0 });
    for (let i = 0; i < 20; i++) log.append(sampleRecord(i));
    await log.close();
    assert.equal(existsSync(`${path}.1`), false);
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true);
    assert.equal(res.lastSeq, 20);
    assert.equal(res.fromStart, false);
  });

  it('rotates at maxBytes, keeps `keep` files, and chains each new file to the one before', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path, { maxBytes: 4096, keep: 2 });
    for (let i = 0; i < 120; i++) log.append(sampleRecord(i));
    await log.close();
    assert.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`));
    assert.equal(existsSync(`${path}.3`), false, 'older files are dropped');
    for (const p of [path, `${path}.1`, `${path}.2`]) {
      assert.ok(statSync(p).size <= 4096, `${p} is within maxBytes`);
      assert.equal(statSync(p).mode & 0o777, 0o600);
    }
    const older = readLines(`${path}.1`);
    const newer = readLines(path);
    const lastOfOlder = JSON.parse(older[older.length - 1]!) as AuditRecord;
    const firstOfNewer = JSON.parse(newer[0]!) as AuditRecord;
    assert.equal(firstOfNewer.prev, lastOfOlder.hash);
    assert.equal(firstOfNewer.seq, lastOfOlder.seq + 1);
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true, JSON.stringify(res.problem));
    assert.equal(res.lastSeq, 120);
    assert.equal(res.files.length, 3);
    assert.equal(res.fromStart, false, 'the oldest records were rotated away');
  });

  it('continues from the newest rotated file when the log itself is missing', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path, { maxBytes: 2048, keep: 3 });
    for (let i = 0; i < 30; i++) log.append(sampleRecord(i));
    await log.close();
    rmSync(path); // as after a crash between the rename and the new file
    const again = await AuditLogWriter.open(path, { maxBytes: 2048, keep: 3 });
    assert.equal(again.opened.continuedFrom, `${path}.1`);
    const rec = again.append(sampleRecord(30));
    await again.close();
    const lastOfRotated = readLines(`${path}.1`)
      .map((l) => JSON.parse(l) as AuditRecord)
      .pop()!;
    assert.equal(rec.prev, lastOfRotated.hash);
    assert.equal(rec.seq, lastOfRotated.seq + 1);
    assert.equal((await verifyAuditLog(path)).ok, true);
  });

  it('keeps a second writer out, and takes over the lock of a writer that is gone', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path);
    await assert.rejects(AuditLogWriter.open(path), (err: unknown) => {
      assert.ok(err instanceof DockwardError);
      assert.equal(err.code, 'DW_E_LOCKED');
      return true;
    });
    await log.close();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(`${path}.lock`, String(dead));
    const again = await AuditLogWriter.open(path);
    assert.equal(readFileSync(`${path}.lock`, 'utf8'), String(process.pid));
    await again.close();
  });

  it('feeds every record to subscribers in chain order until they unsubscribe', async () => {
    const path = freshLog();
    const log = await AuditLogWriter.open(path);
    const seen: number[] = [];
    const stop = log.subscribe((r) => seen.push(r.seq));
    log.subscribe(() => {
      throw new Error('a broken subscriber');
    });
    for (let i = 0; i < 5; i++) log.append(sampleRecord(i));
    stop();
    log.append(sampleRecord(5));
    await log.close();
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(readLines(path).length, 6, 'a throwing subscriber does not stop recording');
  });

  it('refuses appends after close, and a late flush does not put the log in a failed state', async () => {
    const errors: unknown[] = [];
    const log = await AuditLogWriter.open(freshLog(), { onError: (e) => errors.push(e) });
    log.append(sampleRecord(0));
    await log.close();
    await log.flush();
    assert.throws(() => log.append(sampleRecord(0)), DockwardError);
    assert.deepEqual(errors, []);
  });
});

/** A module script for a child node: the writer and the sample records imported, then `body`. */
function childScript(body: string): string {
  const writerUrl = pathToFileURL(join(import.meta.dirname, 'writer.ts')).href;
  const supportUrl = pathToFileURL(join(import.meta.dirname, 'test-support.ts')).href;
  return `const { AuditLogWriter } = await import(${JSON.stringify(writerUrl)});
const { sampleRecord } = await import(${JSON.stringify(supportUrl)});
${body}`;
}

/** Runs a script in a child node through tsx. */
function child(body: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript(body)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
}

/** Resolves with the child's stdout once it contains `marker`. */
function waitFor(proc: ChildProcess, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(marker)) resolve(out);
    });
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    proc.on('exit', (code, signal) => {
      if (!out.includes(marker))
        reject(new Error(`child exited (${code ?? signal}) before "${marker}": ${err}`));
    });
  });
}

describe('AuditLogWriter under failure', () => {
  it('leaves a log whose complete records all verify when killed -9 while appending', async () => {
    const path = freshLog();
    const proc = child(
      `const log = await AuditLogWriter.open(process.env.LOG);
let i = 0;
for (;;) {
  for (let b = 0; b < 20; b++) log.append(sampleRecord(i++));
  await log.appendDurable(sampleRecord(i++));
  if (i > 2000) process.stdout.write('busy\\n');
}`,
      { LOG: path },
    );
    const exited = new Promise((r) => proc.on('exit', r));
    await waitFor(proc, 'busy');
    proc.kill('SIGKILL');
    await exited;
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true, JSON.stringify(res.problem));
    assert.ok(res.records > 2000, `${res.records} records survived`);
    assert.equal(res.fromStart, true);
    // The dead writer's lock is taken over and the chain goes on from the last complete record.
    const log = await AuditLogWriter.open(path);
    assert.equal(log.opened.seq, res.lastSeq);
    const rec = log.append(sampleRecord(0));
    await log.close();
    assert.equal(rec.prev, res.lastHash);
    const again = await verifyAuditLog(path);
    assert.equal(again.ok, true, JSON.stringify(again.problem));
    assert.equal(again.lastSeq, res.lastSeq! + 1);
  });

  it('fails closed when the disk refuses a write: appendDurable rejects, later appends throw', async () => {
    const path = freshLog();
    // RLIMIT_FSIZE makes write(2) fail with EFBIG once the file reaches 16 KiB: a real failing write.
    const script = `const errors = [];
const log = await AuditLogWriter.open(process.env.LOG, { onError: (e) => errors.push(e.code) });
let written = 0;
let failure = '';
try {
  for (let i = 0; i < 10000; i++) { await log.appendDurable(sampleRecord(i)); written++; }
} catch (err) { failure = err.code + ' ' + err.message; }
let thrown = '';
try { log.append(sampleRecord(0)); } catch (err) { thrown = err.code; }
await log.close();
process.stdout.write(JSON.stringify({ written, failure, thrown, errors }) + '\\n');`;
    const run = spawnSync(
      'bash',
      [
        '-c',
        'ulimit -f 16 && exec "$0" --import tsx --input-type=module -e "$1"',
        process.execPath,
        childScript(script),
      ],
      { env: { ...process.env, LOG: path }, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      written: number;
      failure: string;
      thrown: string;
      errors: string[];
    };
    assert.ok(out.written > 10, `${out.written} records were written before the limit`);
    assert.match(out.failure, /^DW_E_FILE .*EFBIG/);
    assert.equal(out.thrown, 'DW_E_FILE');
    assert.deepEqual(out.errors, ['DW_E_FILE']);
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true, JSON.stringify(res.problem));
    assert.ok(res.records >= out.written, 'every acknowledged record is in the log');
  });
});

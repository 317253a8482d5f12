import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockwardError } from '../../errors.js';
import { sealRecord } from './chain.js';
import type { AuditRecord } from './record.js';
import { readLines, sampleRecord, tempDir, writeLines } from './test-support.js';
import { describeProblem, verifyAuditLog } from './verify.js';
import { AuditLogWriter } from './writer.js';

const base = tempDir('dw-audit-verify-');
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(base, `case-${++n}`, 'audit.log');

/** A pristine log of `count` records, written once; each test works on its own copy. */
let pristine: string[] = [];
let pristineHead = '';
before(async () => {
  const path = freshPath();
  const log = await AuditLogWriter.open(path);
  for (let i = 0; i < 10; i++) log.append(sampleRecord(i));
  await log.close();
  pristine = readLines(path);
  pristineHead = log.lastHash;
});

/** A copy of the pristine log, changed by `edit`; returns its path. */
function tampered(edit: (lines: string[]) => string[] = (l) => l): string {
  const path = freshPath();
  mkdirSync(join(path, '..'), { recursive: true });
  writeLines(path, edit([...pristine]));
  return path;
}

const rec = (line: string) => JSON.parse(line) as AuditRecord;

describe('verifyAuditLog', () => {
  it('passes an untouched log and reports its range and head', async () => {
    const path = tampered();
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true);
    assert.equal(res.problem, null);
    assert.deepEqual([res.records, res.firstSeq, res.lastSeq], [10, 1, 10]);
    assert.equal(res.lastHash, pristineHead);
    assert.equal(res.fromStart, true);
    assert.deepEqual(res.torn, []);
  });

  it('names a record with one edited field as edited', async () => {
    const path = tampered((lines) => {
      const edited = lines[2]!.replace('"decision":"deny"', '"decision":"allow"');
      assert.notEqual(edited, lines[2]);
      lines[2] = edited;
      return lines;
    });
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, false);
    assert.deepEqual(res.problem, {
      kind: 'edited',
      file: path,
      line: 3,
      seq: 3,
      message: 'record seq 3 was edited (hash mismatch)',
    });
    assert.equal(res.records, 2, 'the records before it verified');
    assert.equal(describeProblem(res.problem!), `${path}:3: record seq 3 was edited (hash mismatch)`);
  });

  it('catches an edit whose hash was recomputed at the link to the next record', async () => {
    const path = tampered((lines) => {
      const { hash: _h, ...body } = rec(lines[3]!);
      const { v, seq, time, prev, ...rest } = { ...body, decision: 'allow' as const };
      lines[3] = sealRecord(rest, { v, seq, time, prev }).line;
      return lines;
    });
    const res = await verifyAuditLog(path);
    assert.equal(res.problem?.kind, 'deleted');
    assert.equal(res.problem?.line, 5);
    assert.match(res.problem!.message, /record seq 5 does not chain to seq 4 .*prev mismatch/);
  });

  it('treats other bytes with the same content as an edit (a duplicate key, CRLF line ends)', async () => {
    const dup = await verifyAuditLog(
      tampered((lines) => {
        assert.match(lines[2]!, /"decision":"deny"/);
        lines[2] = `{"decision":"allow",${lines[2]!.slice(1)}`; // some JSON readers keep the first
        return lines;
      }),
    );
    assert.equal(dup.problem?.kind, 'edited');
    assert.equal(dup.problem?.seq, 3);
    assert.match(dup.problem!.message, /not the canonical form/);
    const crlf = await verifyAuditLog(tampered((lines) => lines.map((l) => `${l}\r`)));
    assert.equal(crlf.problem?.kind, 'edited');
    assert.equal(crlf.problem?.line, 1);
  });

  it('names the record after a deleted one, and the seq that is missing', async () => {
    const path = tampered((lines) => lines.filter((_, i) => i !== 4));
    const res = await verifyAuditLog(path);
    assert.equal(res.problem?.kind, 'deleted');
    assert.equal(res.problem?.line, 5);
    assert.equal(res.problem?.seq, 6);
    assert.match(res.problem!.message, /record seq 6 follows seq 4 at .*:4: seq 5 is missing/);
  });

  it('reports a run of deleted records as one gap', async () => {
    const res = await verifyAuditLog(tampered((lines) => [...lines.slice(0, 2), ...lines.slice(6)]));
    assert.equal(res.problem?.kind, 'deleted');
    assert.match(res.problem!.message, /seq 3\.\.6 are missing/);
  });

  it('names two swapped records as reordered', async () => {
    const path = tampered((lines) => {
      [lines[4], lines[5]] = [lines[5]!, lines[4]!];
      return lines;
    });
    const res = await verifyAuditLog(path);
    assert.equal(res.problem?.kind, 'reordered');
    assert.equal(res.problem?.line, 5);
    assert.equal(res.problem?.seq, 6);
    assert.match(res.problem!.message, /expected seq 5, which comes later at .*:6/);
  });

  it('names a record moved far ahead, or repeated, as reordered', async () => {
    const moved = await verifyAuditLog(
      tampered((lines) => [lines[0]!, lines[1]!, lines[7]!, ...lines.slice(2, 7), ...lines.slice(8)]),
    );
    assert.equal(moved.problem?.kind, 'reordered');
    assert.equal(moved.problem?.seq, 8);
    const repeated = await verifyAuditLog(
      tampered((lines) => [...lines.slice(0, 5), lines[3]!, ...lines.slice(5)]),
    );
    assert.equal(repeated.problem?.kind, 'reordered');
    assert.match(repeated.problem!.message, /record seq 4 is out of order: it follows seq 5/);
  });

  it('reports a torn last line as torn, not as tampering; --strict makes it a failure', async () => {
    const path = tampered();
    appendFileSync(path, pristine[0]!.slice(0, 40));
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true);
    assert.equal(res.records, 10);
    assert.deepEqual(res.torn, [{ file: path, line: 11, bytes: 40, recovered: false }]);
    const strict = await verifyAuditLog(path, { strict: true });
    assert.equal(strict.ok, false);
    assert.equal(strict.problem?.kind, 'torn-tail');
    assert.equal(strict.problem?.line, 11);
  });

  it('reports text that replaced a record as malformed', async () => {
    const res = await verifyAuditLog(
      tampered((lines) => {
        lines[2] = 'nothing to see here';
        return lines;
      }),
    );
    assert.equal(res.problem?.kind, 'malformed');
    assert.equal(res.problem?.line, 3);
    assert.match(res.problem!.message, /chain does not continue across it/);
  });

  it('reports JSON that is not a record as malformed', async () => {
    const notObject = await verifyAuditLog(
      tampered((lines) => {
        lines[2] = '[1,2,3]';
        return lines;
      }),
    );
    assert.equal(notObject.problem?.kind, 'malformed');
    // A record the schema refuses, sealed so its hash holds: only the schema check can catch it.
    const { hash: _h, ...body } = rec(pristine[0]!);
    const { v, seq, time, prev, ...rest } = { ...body, decision: 'perhaps' };
    const forged = sealRecord(rest, { v, seq, time, prev }).line;
    const schema = await verifyAuditLog(tampered((lines) => [forged, ...lines.slice(1)]));
    assert.equal(schema.problem?.kind, 'malformed');
    assert.match(schema.problem!.message, /does not match the record schema \(decision/);
  });

  it('checks the first record against an anchor when given one', async () => {
    const path = tampered((lines) => lines.slice(5));
    const free = await verifyAuditLog(path);
    assert.equal(free.ok, true);
    assert.equal(free.fromStart, false);
    const anchor = rec(pristine[4]!).hash;
    assert.equal(free.firstPrev, anchor);
    assert.equal((await verifyAuditLog(path, { anchor })).ok, true);
    const wrong = await verifyAuditLog(path, { anchor: rec(pristine[3]!).hash });
    assert.equal(wrong.problem?.kind, 'deleted');
  });

  it('passes an empty log, and refuses a path that does not exist', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    writeLines(path, []);
    const res = await verifyAuditLog(path);
    assert.deepEqual([res.ok, res.records, res.lastSeq], [true, 0, null]);
    await assert.rejects(verifyAuditLog(join(base, 'nope.log')), (err: unknown) => {
      assert.ok(err instanceof DockwardError);
      assert.equal(err.code, 'DW_E_INPUT');
      return true;
    });
  });

  it('reads a log much larger than its read buffer, lines split across reads', async () => {
    const path = freshPath();
    const log = await AuditLogWriter.open(path);
    for (let i = 0; i < 3000; i++) log.append(sampleRecord(i));
    await log.close();
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true, JSON.stringify(res.problem));
    assert.equal(res.records, 3000);
    const lines = readLines(path);
    const edited = lines[2500]!.replace('"connId":"conn-1"', '"connId":"conn-2"');
    assert.notEqual(edited, lines[2500]);
    lines[2500] = edited;
    writeLines(path, lines);
    const bad = await verifyAuditLog(path);
    assert.equal(bad.problem?.kind, 'edited');
    assert.equal(bad.problem?.line, 2501);
  });
});

describe('verifyAuditLog on rotated files', () => {
  let path = '';
  before(async () => {
    path = freshPath();
    const log = await AuditLogWriter.open(path, { maxBytes: 2048 });
    for (let i = 0; i < 40; i++) log.append(sampleRecord(i));
    await log.close();
  });

  it('finds the rotated files of a path and verifies the chain across them, oldest first', async () => {
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true, JSON.stringify(res.problem));
    assert.ok(res.files.length >= 4);
    assert.deepEqual(
      res.files.map((f) => f.path),
      [...res.files.slice(0, -1).map((_, i) => `${path}.${res.files.length - 1 - i}`), path],
    );
    assert.deepEqual([res.records, res.firstSeq, res.lastSeq], [40, 1, 40]);
    const explicit = await verifyAuditLog(res.files.map((f) => f.path));
    assert.equal(explicit.lastHash, res.lastHash);
  });

  it('verifies one file alone when asked not to look for rotated ones', async () => {
    const res = await verifyAuditLog(path, { discover: false });
    assert.equal(res.ok, true);
    assert.equal(res.files.length, 1);
    assert.equal(res.fromStart, false);
  });

  it('detects a deleted middle file, and files given out of order', async () => {
    const all = (await verifyAuditLog(path)).files.map((f) => f.path);
    const withoutMiddle = all.filter((_, i) => i !== 1);
    const gap = await verifyAuditLog(withoutMiddle);
    assert.equal(gap.problem?.kind, 'deleted');
    assert.equal(gap.problem?.file, all[2]);
    assert.equal(gap.problem?.line, 1);
    const swapped = [all[1]!, all[0]!, ...all.slice(2)];
    assert.equal((await verifyAuditLog(swapped)).problem?.kind, 'reordered');
  });

  it('detects a middle file deleted from the rotation numbering', async () => {
    const copy = freshPath();
    const log = await AuditLogWriter.open(copy, { maxBytes: 2048 });
    for (let i = 0; i < 40; i++) log.append(sampleRecord(i));
    await log.close();
    // Remove FILE.2 and renumber the older ones, as someone hiding a file would.
    rmSync(`${copy}.2`);
    for (let k = 3; ; k++) {
      try {
        renameSync(`${copy}.${k}`, `${copy}.${k - 1}`);
      } catch {
        break;
      }
    }
    const res = await verifyAuditLog(copy);
    assert.equal(res.problem?.kind, 'deleted');
    assert.equal(res.problem?.file, `${copy}.1`);
  });
});

describe('verifyAuditLog with torn lines inside the chain', () => {
  it('accepts a torn line the writer ended at restart, listing it as recovered', async () => {
    const path = freshPath();
    const first = await AuditLogWriter.open(path);
    for (let i = 0; i < 3; i++) first.append(sampleRecord(i));
    await first.close();
    appendFileSync(path, '\0\0\0\0\0\0'); // power loss can leave zeros where data was due
    const second = await AuditLogWriter.open(path);
    second.append(sampleRecord(3));
    await second.close();
    const res = await verifyAuditLog(path);
    assert.equal(res.ok, true, JSON.stringify(res.problem));
    assert.deepEqual(res.torn, [{ file: path, line: 4, bytes: 6, recovered: true }]);
    writeFileSync(
      path,
      readLines(path)
        .filter((_, i) => i !== 2)
        .map((l) => `${l}\n`)
        .join(''),
    );
    const res2 = await verifyAuditLog(path);
    assert.equal(res2.problem?.kind, 'malformed', 'a torn line does not excuse a missing record');
  });
});

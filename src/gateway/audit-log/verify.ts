/**
 * Verifies an audit log, or a rotated set of them, line by line: every line is a record that
 * matches the schema, its hash recomputes, its `prev` is the hash of the record before it and its
 * `seq` is one more. Names the first record that is not, and what is wrong with it.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DockwardError, describeError } from '../../errors.js';
import { canonicalJson, sha256Hex } from './chain.js';
import { AuditRecordSchema, ZERO_HASH } from './record.js';
import { MAX_LINE_BYTES } from './tail.js';

/** What is wrong with the first bad record. */
export type VerifyProblemKind = 'edited' | 'deleted' | 'reordered' | 'malformed' | 'torn-tail';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  file: string;
  /** 1-based line number within `file`. */
  line: number;
  /** The record's seq when the line holds one. */
  seq: number | null;
  /** What is wrong, without the location (see `describeProblem`). */
  message: string;
}

/** A line that is not JSON: the remnant of a write interrupted by a crash or power loss. */
export interface TornLine {
  file: string;
  line: number;
  bytes: number;
  /** True when the chain continues after it (the writer ended the line when it reopened the log). */
  recovered: boolean;
}

export interface VerifiedFile {
  path: string;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

export interface VerifyResult {
  /** True when no problem was found (torn lines are listed in `torn`; they fail only with `strict`). */
  ok: boolean;
  files: VerifiedFile[];
  /** Records that verified before the first problem (all of them when ok). */
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** `prev` of the first record: 64 zeros when these files start the chain. */
  firstPrev: string | null;
  /** The chain head: keep it elsewhere (or ship the log) to detect a later rewrite of the files. */
  lastHash: string | null;
  /** True when the first record is seq 1, so no older file is missing from the set. */
  fromStart: boolean;
  torn: TornLine[];
  problem: VerifyProblem | null;
  /** The hashes of the records at the `checkpoints` asked for that the files hold. */
  checkpoints?: { seq: number; hash: string }[];
}

export interface VerifyOptions {
  /** With one path, also verify its rotated files `PATH.N` … `PATH.1`, oldest first (default true). */
  discover?: boolean;
  /** Treat torn lines as a failure (kind `torn-tail`). */
  strict?: boolean;
  /** The hash the first record's `prev` must equal (a head recorded earlier, from an older file). */
  anchor?: string;
  /** Seqs whose record hashes to report (the seqs of signed heads). */
  checkpoints?: ReadonlySet<number>;
}

/** The files a verify reads, oldest first: `PATH.N` … `PATH.1`, `PATH` when discovering. */
export async function resolveLogFiles(paths: string[] | string, discover = true): Promise<string[]> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) throw new DockwardError('DW_E_USAGE', 'no audit log file given');
  const out: string[] = [];
  if (list.length === 1 && discover) {
    const base = list[0]!;
    // Every FILE.N in the folder, not only those up to a gap: a deleted FILE.2 must show as the
    // records it held missing between FILE.3 and FILE.1, not hide FILE.3 and older.
    const name = basename(base);
    const numbers = (await fs.readdir(dirname(base)).catch(() => [] as string[]))
      .map((f) => (f.startsWith(`${name}.`) ? /^\d+$/.exec(f.slice(name.length + 1))?.[0] : undefined))
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((x, y) => y - x);
    for (const n of numbers) if (await isFile(`${base}.${n}`)) out.push(`${base}.${n}`);
    if (await isFile(base)) out.push(base);
    else if (out.length === 0) throw missing(base);
    return out;
  }
  for (const p of list) {
    if (!(await isFile(p))) throw missing(p);
    out.push(p);
  }
  return out;
}

/** Verifies one log file, or a rotated set given oldest first (one path: rotated files found too). */
export async function verifyAuditLog(
  paths: string[] | string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const files = await resolveLogFiles(paths, options.discover ?? true);
  const v = new ChainCheck(options);
  for (const file of files) {
    const done = await v.readFile(file);
    if (done) break;
  }
  return v.finish();
}

/** `FILE:LINE: message`, the way the CLI prints a problem. */
export function describeProblem(p: VerifyProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

interface Good {
  seq: number;
  hash: string;
  file: string;
  line: number;
}

class ChainCheck {
  private readonly options: VerifyOptions;
  private readonly files: VerifiedFile[] = [];
  private readonly torn: TornLine[] = [];
  /** Non-JSON lines since the last good record; the chain must continue across them. */
  private pendingTorn: TornLine[] = [];
  private last: Good | undefined;
  private first: { seq: number; prev: string } | undefined;
  private records = 0;
  private readonly checkpoints: { seq: number; hash: string }[] = [];
  private problem: VerifyProblem | null = null;
  /** After a seq gap: the missing seq, searched for in the rest of the files (reordered vs deleted). */
  private lookingFor: { seq: number; after: number } | undefined;

  constructor(options: VerifyOptions) {
    this.options = options;
  }

  /** Reads one file; returns true when nothing more needs reading. */
  async readFile(file: string): Promise<boolean> {
    const stats: VerifiedFile = { path: file, records: 0, firstSeq: null, lastSeq: null };
    this.files.push(stats);
    let lineNo = 0;
    try {
      for await (const line of readLines(file)) {
        lineNo++;
        if (this.lookingFor) {
          if (this.search(line.bytes, file, lineNo)) return true;
          continue;
        }
        this.problem = this.check(line, file, lineNo, stats);
        if (this.problem && !this.lookingFor) return true;
      }
    } catch (err) {
      if (err instanceof DockwardError) throw err;
      throw new DockwardError('DW_E_FILE', `cannot read ${file}: ${describeError(err)}`, { cause: err });
    }
    return false;
  }

  finish(): VerifyResult {
    if (!this.problem) {
      for (const t of this.pendingTorn) this.torn.push({ ...t, recovered: false });
      this.pendingTorn = [];
      const firstTorn = this.torn[0];
      if (this.options.strict && firstTorn) {
        this.problem = {
          kind: 'torn-tail',
          file: firstTorn.file,
          line: firstTorn.line,
          seq: null,
          message: `torn line (${firstTorn.bytes} bytes): a write interrupted by a crash; it holds no record`,
        };
      }
    }
    return {
      ok: this.problem === null,
      files: this.files,
      records: this.records,
      firstSeq: this.first?.seq ?? null,
      lastSeq: this.last?.seq ?? null,
      firstPrev: this.first?.prev ?? null,
      lastHash: this.last?.hash ?? null,
      fromStart: this.first?.seq === 1,
      torn: this.torn,
      problem: this.problem,
      ...(this.options.checkpoints ? { checkpoints: this.checkpoints } : {}),
    };
  }

  /** Checks one line; returns the problem with it, or null when it is a good record or torn. */
  private check(line: Line, file: string, lineNo: number, stats: VerifiedFile): VerifyProblem | null {
    const fail = (kind: VerifyProblemKind, seq: number | null, message: string): VerifyProblem => ({
      kind,
      file,
      line: lineNo,
      seq,
      message,
    });
    if (line.bytes === null) {
      this.pendingTorn.push({ file, line: lineNo, bytes: line.length, recovered: true });
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(line.bytes.toString('utf8'));
    } catch {
      // Not JSON: a torn write, accepted only if the chain continues across it.
      this.pendingTorn.push({ file, line: lineNo, bytes: line.length, recovered: true });
      return null;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail('malformed', null, 'line is not an audit record (not a JSON object)');
    }
    const obj = value as { [key: string]: unknown };
    const seq = typeof obj['seq'] === 'number' ? obj['seq'] : null;
    const label = seq === null ? 'record' : `record seq ${seq}`;
    if (typeof obj['hash'] !== 'string') return fail('malformed', seq, `${label} has no hash`);
    const stated = obj['hash'];
    let canonical: string;
    try {
      canonical = canonicalJson(obj, 'hash');
    } catch (err) {
      return fail('malformed', seq, `${label} cannot be put in canonical form (${describeError(err)})`);
    }
    if (sha256Hex(canonical) !== stated) return fail('edited', seq, `${label} was edited (hash mismatch)`);
    const expected = Buffer.from(`${canonical.slice(0, -1)},"hash":"${stated}"}`, 'utf8');
    if (!expected.equals(line.bytes)) {
      // Same content, other bytes: duplicate keys, re-spacing or re-encoding, which other readers
      // of the line may not see the way this check does.
      return fail('edited', seq, `${label} was edited (its bytes are not the canonical form; hash matches)`);
    }
    const parsed = AuditRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return fail(
        'malformed',
        seq,
        `${label} does not match the record schema (${issue?.path.join('.') || 'record'}: ${issue?.message})`,
      );
    }
    const rec = parsed.data;
    const broken = this.chainProblem(rec.seq, rec.prev);
    if (broken) {
      const torn = this.pendingTorn[0];
      if (torn) {
        // The chain does not continue across the non-JSON line(s): they replaced records.
        this.lookingFor = undefined;
        return {
          kind: 'malformed',
          file: torn.file,
          line: torn.line,
          seq: null,
          message: `line is not an audit record (not JSON), and the chain does not continue across it (${broken.message})`,
        };
      }
      return fail(broken.kind, rec.seq, broken.message);
    }
    for (const t of this.pendingTorn) this.torn.push(t);
    this.pendingTorn = [];
    this.first ??= { seq: rec.seq, prev: rec.prev };
    this.last = { seq: rec.seq, hash: rec.hash, file, line: lineNo };
    if (this.options.checkpoints?.has(rec.seq)) this.checkpoints.push({ seq: rec.seq, hash: rec.hash });
    this.records++;
    stats.records++;
    stats.firstSeq ??= rec.seq;
    stats.lastSeq = rec.seq;
    return null;
  }

  /** Why `seq`/`prev` do not continue the chain, or undefined when they do. */
  private chainProblem(seq: number, prev: string): { kind: VerifyProblemKind; message: string } | undefined {
    const last = this.last;
    if (!last) {
      if (seq === 1 && prev !== ZERO_HASH) {
        return {
          kind: 'malformed',
          message: 'record seq 1 does not start a chain (its prev is not 64 zeros)',
        };
      }
      if (this.options.anchor !== undefined && prev !== this.options.anchor) {
        return {
          kind: 'deleted',
          message: `record seq ${seq} does not chain to the anchor ${this.options.anchor} (records before it were deleted)`,
        };
      }
      return undefined;
    }
    const at = `seq ${last.seq} at ${last.file}:${last.line}`;
    if (seq === last.seq + 1) {
      if (prev === last.hash) return undefined;
      return {
        kind: 'deleted',
        message: `record seq ${seq} does not chain to ${at} (prev mismatch): a record was deleted or replaced`,
      };
    }
    if (seq <= last.seq) {
      return { kind: 'reordered', message: `record seq ${seq} is out of order: it follows ${at}` };
    }
    // A gap: the missing record may come later (reordered) or nowhere (deleted); read on to tell.
    const missingFrom = last.seq + 1;
    const missingTo = seq - 1;
    this.lookingFor = { seq: missingFrom, after: seq };
    const which =
      missingFrom === missingTo ? `seq ${missingFrom} is` : `seq ${missingFrom}..${missingTo} are`;
    return { kind: 'deleted', message: `record seq ${seq} follows ${at}: ${which} missing (deleted)` };
  }

  /** Looks for the missing seq after a gap; returns true when found (the problem is a reorder). */
  private search(bytes: Buffer | null, file: string, lineNo: number): boolean {
    const want = this.lookingFor;
    if (!want || !bytes || !this.problem) return false;
    let seq: unknown;
    try {
      seq = (JSON.parse(bytes.toString('utf8')) as { seq?: unknown }).seq;
    } catch {
      return false;
    }
    if (seq !== want.seq) return false;
    this.problem = {
      ...this.problem,
      kind: 'reordered',
      message: `record seq ${want.after} is out of order: expected seq ${want.seq}, which comes later at ${file}:${lineNo}`,
    };
    this.lookingFor = undefined;
    return true;
  }
}

interface Line {
  /** The line without its newline; null when longer than any record (never parsed). */
  bytes: Buffer | null;
  length: number;
}

/** Splits a file into lines on `\n` only (a `\r` is data: it makes a line non-canonical). */
async function* readLines(path: string): AsyncGenerator<Line> {
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  let pieces: Buffer[] = [];
  let length = 0;
  const take = (seg: Buffer): Line => {
    const total = length + seg.length;
    const bytes = total > MAX_LINE_BYTES ? null : pieces.length === 0 ? seg : Buffer.concat([...pieces, seg]);
    pieces = [];
    length = 0;
    return { bytes, length: total };
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      yield take(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (length + rest.length <= MAX_LINE_BYTES) pieces.push(rest);
      length += rest.length;
    }
  }
  if (length > 0) yield take(Buffer.alloc(0)); // a last line with no newline: torn
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

function missing(path: string): DockwardError {
  return new DockwardError('DW_E_INPUT', `no audit log at ${path}`, {
    hint: 'Pass the log file the gateway writes (--audit-log), e.g. ~/.dockward/audit/gateway.log.',
  });
}

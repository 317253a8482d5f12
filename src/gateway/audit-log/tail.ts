/**
 * Finds the last record of a log file by reading backwards from its end, so reopening a 100 MiB
 * log costs a few kilobytes of reads, not the whole file.
 */
import { promises as fs } from 'node:fs';
import { DockwardError } from '../../errors.js';
import { type AuditRecord, AuditRecordSchema } from './record.js';

const CHUNK = 64 * 1024;
/** A longer "line" is not one the writer produced; it is skipped as a remnant. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export interface LogTail {
  /** File size in bytes (0 when the file does not exist). */
  size: number;
  exists: boolean;
  /** The last complete record, or undefined when the file holds none. */
  last: AuditRecord | undefined;
  /** Bytes after the last newline: a line torn by a crash mid-write (0 when the file ends cleanly). */
  tornBytes: number;
}

/**
 * Reads the tail of a log: the torn fragment (if the file does not end with a newline) and the
 * last complete record. Lines that are not JSON are remnants of earlier torn writes and are
 * skipped; a JSON line that is not a record means the file is not an audit log, or was damaged.
 */
export async function readLogTail(path: string): Promise<LogTail> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { size: 0, exists: false, last: undefined, tornBytes: 0 };
    }
    throw fileError(path, err);
  }
  try {
    const size = (await handle.stat()).size;
    let pos = size;
    // Bytes of the line being assembled, in reverse chunk order; `lineEnd` is its end offset.
    let pieces: Buffer[] = [];
    let pieceBytes = 0;
    let lineEnd = size;
    let tornBytes = -1; // unknown until the last newline is found
    const buf = Buffer.allocUnsafe(CHUNK);
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const len = pos - start;
      const { bytesRead } = await handle.read(buf, 0, len, start);
      if (bytesRead !== len) throw fileError(path, new Error('the file shrank while being read'));
      let cut = len; // end (exclusive, within buf) of the part not yet assigned to a line
      for (let i = len - 1; i >= -1; i--) {
        const atFileStart = i === -1 && start === 0;
        if (i >= 0 && buf[i] !== 0x0a) continue;
        if (i === -1 && !atFileStart) break;
        // buf[i] is a newline (or the file starts here): the line is (i, cut) plus the pieces.
        const segment = buf.subarray(i + 1, cut);
        if (tornBytes === -1) {
          tornBytes = lineEnd - (start + i + 1);
          if (tornBytes !== 0 || atFileStart) {
            // The fragment after the last newline is not a complete line; it is never a record.
            pieces = [];
            pieceBytes = 0;
            lineEnd = start + i;
            cut = i;
            continue;
          }
        } else {
          const record = parseTailLine(path, [Buffer.from(segment), ...pieces], pieceBytes + segment.length);
          if (record) return { size, exists: true, last: record, tornBytes };
        }
        pieces = [];
        pieceBytes = 0;
        lineEnd = start + i;
        cut = i;
      }
      if (cut > 0 && pieceBytes <= MAX_LINE_BYTES) {
        pieces.unshift(Buffer.from(buf.subarray(0, cut)));
        pieceBytes += cut;
      } else if (cut > 0) {
        pieceBytes += cut; // too long to be a record: count it, keep nothing
      }
      pos = start;
    }
    return {
      size,
      exists: true,
      last: undefined,
      tornBytes: Math.max(0, tornBytes === -1 ? size : tornBytes),
    };
  } finally {
    await handle.close();
  }
}

/** A record, undefined for a torn remnant (not JSON); throws for JSON that is not a record. */
function parseTailLine(path: string, pieces: Buffer[], bytes: number): AuditRecord | undefined {
  if (bytes === 0 || bytes > MAX_LINE_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(pieces).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = AuditRecordSchema.safeParse(value);
  if (!parsed.success) {
    throw new DockwardError(
      'DW_E_STORE_CORRUPT',
      `${path} does not end with an audit record (its last line does not match the record schema)`,
      {
        hint: `Check it with \`dockward audit-log verify ${path}\`, then move it aside so a new log starts.`,
      },
    );
  }
  return parsed.data;
}

function fileError(path: string, err: unknown): DockwardError {
  return new DockwardError('DW_E_FILE', `cannot read the audit log ${path}: ${(err as Error).message}`, {
    cause: err,
  });
}

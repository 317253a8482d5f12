/**
 * Bounds a record's strings so every record fits a line: a field over its limit keeps its first
 * bytes and ends with a marker saying how much was cut. A denial whose reason is 5 MiB is still
 * recorded (cut), never dropped: losing the record would hide the request.
 */
import type { AuditRecordInput } from './record.js';

/** Byte limits per field; any other string gets `DEFAULT_LIMIT`. */
const LIMITS: Readonly<Record<string, number>> = {
  rawPath: 8 * 1024,
  canonicalPath: 8 * 1024,
  reason: 16 * 1024,
  error: 8 * 1024,
  userAgent: 1024,
  rule: 1024,
  method: 64,
};
const DEFAULT_LIMIT = 4 * 1024;

/** `…[truncated N bytes]`: what a cut field ends with (N = the UTF-8 bytes left out). */
export function truncationMarker(cut: number): string {
  return `…[truncated ${cut} bytes]`;
}

/**
 * `s` cut to at most `limit` UTF-8 bytes of its own (on a character boundary) plus the marker,
 * or `s` itself when it fits.
 */
export function truncateField(s: string, limit: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: a short string needs no byte count.
  if (s.length * 3 <= limit) return s;
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= limit) return s;
  let end = limit;
  // Back off to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return `${buf.subarray(0, end).toString('utf8')}${truncationMarker(buf.length - end)}`;
}

function boundValue(value: unknown, limit: number): unknown {
  if (typeof value === 'string') return truncateField(value, limit);
  if (Array.isArray(value)) return value.map((v) => boundValue(v, DEFAULT_LIMIT));
  if (value !== null && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const b = boundValue(v, LIMITS[k] ?? DEFAULT_LIMIT);
      if (b !== v) {
        out ??= { ...(value as Record<string, unknown>) };
        out[k] = b;
      }
    }
    return out ?? value;
  }
  return value;
}

/** The record with every over-long string cut (the same object when nothing was). */
export function boundRecord<T extends AuditRecordInput>(record: T): T {
  return boundValue(record, DEFAULT_LIMIT) as T;
}

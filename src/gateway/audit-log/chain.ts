/**
 * The hash chain: the canonical form of a record, its hash, and the line written to the file.
 * Pure functions; the writer and the verifier both use them so they cannot drift apart.
 */
import { createHash } from 'node:crypto';

/**
 * The canonical JSON form (RFC 8785, JCS, for the values records hold): no whitespace, object
 * keys sorted by UTF-16 code units, `undefined` members left out, strings and numbers written the
 * way `JSON.stringify` writes them. Built by concatenation, never by assigning keys to a fresh
 * object, so a key such as `__proto__` cannot change what is serialized. `skipKey` leaves one
 * top-level member out (the verifier skips `hash` without copying the record).
 */
export function canonicalJson(value: unknown, skipKey?: string): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return numberJson(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += `${i === 0 ? '' : ','}${v === undefined ? 'null' : canonicalJson(v)}`;
        }
        return `[${out}]`;
      }
      const obj = value as { readonly [key: string]: unknown };
      const keys = Object.keys(obj).sort();
      let out = '';
      for (const key of keys) {
        const v = obj[key];
        if (v === undefined || key === skipKey) continue;
        out += `${out.length === 0 ? '' : ','}${member(key)}${canonicalJson(v)}`;
      }
      return `{${out}}`;
    }
    default:
      throw new TypeError(`cannot serialize a ${typeof value} in an audit record`);
  }
}

/** Printable ASCII but `"` and `\`: needs no escaping, so JSON.stringify is not called for it. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function quote(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

function numberJson(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`cannot serialize ${n} in an audit record`);
  return JSON.stringify(n);
}

// Quoted member names, cached: records use a few dozen names over and over.
const members = new Map<string, string>();
function member(key: string): string {
  let m = members.get(key);
  if (m === undefined) {
    m = `${quote(key)}:`;
    if (members.size < 256) members.set(key, m);
  }
  return m;
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A record's canonical form (without `hash`), its hash, and the line that goes into the file. */
export interface SealedLine {
  canonical: string;
  hash: string;
  /** The canonical form with `"hash":"…"` as its last member, and no newline. */
  line: string;
}

/** The fields the writer adds to a caller's record, `hash` aside. */
export interface ChainFields {
  v: 1;
  seq: number;
  time: string;
  prev: string;
}

const CHAIN_KEYS: ReadonlySet<string> = new Set(['v', 'seq', 'time', 'prev', 'hash']);

/**
 * Seals a record: hash = sha256(canonical form of `body` with `fields`), and the file line is that
 * canonical form with `,"hash":"<hex>"` inserted before its closing brace. The two are merged
 * while serializing: walking a spread copy is several times slower (this is the hot path).
 */
export function sealRecord(body: { readonly [key: string]: unknown }, fields: ChainFields): SealedLine {
  const keys = Object.keys(body).filter((k) => !CHAIN_KEYS.has(k));
  keys.push('prev', 'seq', 'time', 'v');
  keys.sort();
  let canonical = '';
  for (const key of keys) {
    const v = CHAIN_KEYS.has(key) ? fields[key as keyof ChainFields] : body[key];
    if (v === undefined) continue;
    canonical += `${canonical.length === 0 ? '{' : ','}${member(key)}${canonicalJson(v)}`;
  }
  canonical += '}';
  const hash = sha256Hex(canonical);
  return { canonical, hash, line: `${canonical.slice(0, -1)},"hash":"${hash}"}` };
}

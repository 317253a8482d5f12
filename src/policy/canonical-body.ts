/**
 * Request-body canonicalization: what the policy checks is exactly what dockerd executes.
 *
 * dockerd decodes JSON bodies with Go's encoding/json, which matches keys to struct fields
 * case-insensitively (`{"hostconfig":{"privileged":true}}` is honoured; so is `"HoſtConfig"`,
 * because Go folds U+017F onto "s"), lets a later duplicate win or merge into the earlier one,
 * accepts a plain string where Docker declares a `StrSlice` (`"CapAdd":"SYS_ADMIN"`), ignores
 * whatever follows the first JSON value, and on 20.10 applies top-level host settings when
 * "HostConfig" is absent. This module reads the raw bytes once, refuses every ambiguous form
 * (duplicates at any depth, case variants, non-ASCII keys where Go would fold, wrong types for
 * fields a policy reads, trailing data, a BOM, a missing or foreign content type, a body over
 * the limit) and produces the re-serialized canonical body — known fields under their canonical
 * names, unknown fields as they were — which the gateway forwards in place of the original.
 */
import type { Endpoint } from '../docker/endpoints/index.js';
import { ANY, BODY_SCHEMAS, type FieldSpec, type StructSpec } from './body-schema.js';
import { DEFAULT_JSON_COST, type JsonCostLimits, jsonCostExceeded } from '../text/json-cost.js';
import { type JsonNode, JsonSyntaxError, parseStrictJson } from '../text/strict-json.js';

/** Bodies above this many bytes are refused with 413 (CVE-2026-34040: bodies over 1 MiB went unchecked). */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

export interface CanonicalBodyOptions {
  /** Largest body accepted, in bytes (default 4 MiB). */
  limit?: number;
  /** Keys and depth a JSON body may have, checked by a pre-scan before parsing (413 above). */
  cost?: JsonCostLimits;
}

export type BodyRefusal = {
  ok: false;
  status: 400 | 413;
  code: 'DW_E_BAD_REQUEST' | 'DW_E_BODY_TOO_LARGE' | 'DW_E_JSON_TOO_COMPLEX';
  reason: string;
};

export type CanonicalBodyResult =
  | {
      ok: true;
      /** The bytes to forward (send with this Content-Length, never the client's). */
      bytes: Buffer;
      /** The canonical body as plain data for the policy; undefined when there is no body. */
      value: unknown;
      /** False when the canonical bytes equal the bytes received. */
      changed: boolean;
    }
  | BodyRefusal;

class Refusal extends Error {}

/**
 * Marks the objects of a canonical body (non-enumerable, so JSON ignores it): the policy reads
 * their fields by canonical name directly, and falls back to a case-insensitive search only for
 * objects that did not come from here.
 */
export const CANONICAL = Symbol('dockward.canonical');

function canonicalObject(): Record<string, unknown> {
  const o = Object.create(null) as Record<string, unknown>;
  Object.defineProperty(o, CANONICAL, { value: true });
  return o;
}

function refuse(reason: string): BodyRefusal {
  return { ok: false, status: 400, code: 'DW_E_BAD_REQUEST', reason };
}

/** True when dockward knows the field names of this endpoint's JSON body. */
export function hasBodySchema(endpoint: Endpoint): boolean {
  return BODY_SCHEMAS.has(endpoint.name);
}

/**
 * Canonicalizes a request body that was read in full (Content-Length or chunked) for an
 * endpoint, or says why it is refused (400, or 413 over the limit).
 */
export function canonicalBody(
  endpoint: Endpoint,
  raw: Uint8Array,
  contentType: string | undefined,
  options: CanonicalBodyOptions = {},
): CanonicalBodyResult {
  const limit = options.limit ?? DEFAULT_BODY_LIMIT;
  if (raw.length > limit) {
    return {
      ok: false,
      status: 413,
      code: 'DW_E_BODY_TOO_LARGE',
      reason: `the request body (${raw.length} bytes) is over the ${limit}-byte limit`,
    };
  }
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (endpoint.body === 'tar' || endpoint.body === 'binary') {
    return { ok: true, bytes: buf, value: undefined, changed: false };
  }
  // Before any parse: what the strict parser and the walk would spend is bounded by the limits.
  const costly = jsonCostExceeded(buf, options.cost ?? DEFAULT_JSON_COST);
  if (costly) return { ok: false, status: 413, code: 'DW_E_JSON_TOO_COMPLEX', reason: costly };
  if (endpoint.body === 'none') return noBody(endpoint, buf);

  const schema = BODY_SCHEMAS.get(endpoint.name);
  if (buf.length === 0) {
    // dockerd accepts a missing Content-Type only with an empty body (httputils.CheckForJSON).
    if (schema?.requireObject) return refuse(`${endpoint.name} needs a JSON object body`);
    return { ok: true, bytes: buf, value: undefined, changed: false };
  }
  const ct = checkContentType(contentType);
  if (ct) return refuse(ct);
  const text = decodeUtf8(buf);
  if (typeof text !== 'string') return text;
  let node: JsonNode;
  try {
    node = parseStrictJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError)
      return refuse(`the request body is not valid JSON: ${err.message} at offset ${err.offset}`);
    throw err;
  }
  if (schema?.requireObject && node.kind !== 'object') {
    return refuse(`${endpoint.name} needs a JSON object body, got ${describeKind(node)}`);
  }
  try {
    const out = walk(node, schema?.root ?? ANY, '');
    const bytes = Buffer.from(out.json, 'utf8');
    return { ok: true, bytes, value: out.value, changed: !bytes.equals(buf) };
  } catch (err) {
    if (err instanceof Refusal) return refuse(err.message);
    throw err;
  }
}

/**
 * Endpoints that take no body. dockerd ignores one, except `POST /containers/{id}/start`,
 * which applies a body as host configuration for API versions below 1.24 (still accepted by
 * 20.10: `/v1.23/containers/x/start` with `{"Privileged":true}` works). An empty object or
 * null (as some clients send) becomes no body; anything else is refused.
 */
function noBody(endpoint: Endpoint, buf: Buffer): CanonicalBodyResult {
  const empty = Buffer.alloc(0);
  if (buf.length === 0) return { ok: true, bytes: buf, value: undefined, changed: false };
  const text = decodeUtf8(buf);
  if (typeof text === 'string') {
    try {
      const node = parseStrictJson(text);
      if ((node.kind === 'object' && node.entries.length === 0) || node.kind === 'null') {
        return { ok: true, bytes: empty, value: undefined, changed: true };
      }
    } catch {
      // refused below
    }
  }
  const why =
    endpoint.name === 'container.start'
      ? ' (dockerd applies a start body as host configuration for API versions below 1.24)'
      : '';
  return refuse(`${endpoint.name} takes no request body${why}`);
}

/** A reason when the Content-Type is not JSON in UTF-8, else undefined. */
export function checkContentType(contentType: string | undefined): string | undefined {
  const value = (contentType ?? '').trim();
  if (value === '') {
    return 'the request has a body but no Content-Type: send "Content-Type: application/json"';
  }
  const parts = value.split(';');
  const type = parts[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return `Content-Type "${truncate(value)}" must be application/json`;
  }
  for (const param of parts.slice(1)) {
    const p = param.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return `Content-Type "${truncate(value)}" has a malformed parameter`;
    const name = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    // dockerd reads the bytes as UTF-8 whatever the charset says; another charset would make
    // dockward and dockerd read different text.
    if (name === 'charset' && !/^utf-?8$/i.test(v)) {
      return `Content-Type charset "${truncate(v)}" is not supported: send UTF-8`;
    }
  }
  return undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(buf: Buffer): string | BodyRefusal {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    return refuse(
      "the request body starts with a UTF-8 byte-order mark, which dockerd's JSON decoder rejects",
    );
  }
  try {
    return UTF8.decode(buf);
  } catch {
    return refuse('the request body is not valid UTF-8');
  }
}

/**
 * Go's case folding of a key, widened so that every pair of keys Go could treat as the same
 * field folds alike here (ASCII case, and non-ASCII letters such as U+017F "ſ" -> "S",
 * U+212A Kelvin -> "K", U+0131 "ı" -> "I"). Used to refuse duplicates in objects whose
 * fields dockward does not know.
 */
export function foldKey(key: string): string {
  let out = '';
  for (const ch of key) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out += cp >= 0x61 && cp <= 0x7a ? String.fromCharCode(cp - 32) : ch;
      continue;
    }
    if (ch === '\u0130') {
      out += 'I'; // simple lower-case mapping is "i"; JavaScript's full mapping is two code points
      continue;
    }
    const lower = single(ch.toLowerCase()) ?? ch;
    out += single(lower.toUpperCase()) ?? lower;
  }
  return out;
}

function single(s: string): string | undefined {
  return s.length === 1 || (s.length === 2 && s.codePointAt(0)! > 0xffff) ? s : undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
const ASCII = /^[\u0000-\u007f]*$/;

interface Walked {
  json: string;
  value: unknown;
}

function at(path: string): string {
  return path === '' ? 'the body' : path;
}
function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function walk(node: JsonNode, spec: FieldSpec, path: string): Walked {
  if (node.kind === 'null') return { json: 'null', value: null };
  switch (spec.t) {
    case 'struct':
      return walkStruct(node, spec.spec, path);
    case 'map':
      return walkMap(node, spec.values, path);
    case 'array': {
      if (node.kind !== 'array') throw new Refusal(`${at(path)} must be an array, got ${describeKind(node)}`);
      return walkItems(node.items, spec.items, path);
    }
    case 'bool':
      if (node.kind !== 'boolean') {
        throw new Refusal(`${at(path)} must be true or false, got ${describeKind(node)}`);
      }
      return { json: node.value ? 'true' : 'false', value: node.value };
    case 'string':
      if (node.kind !== 'string')
        throw new Refusal(`${at(path)} must be a string, got ${describeKind(node)}`);
      return { json: JSON.stringify(node.value), value: node.value };
    case 'number':
      if (node.kind !== 'number')
        throw new Refusal(`${at(path)} must be a number, got ${describeKind(node)}`);
      return { json: node.raw, value: Number(node.raw) };
    case 'strings':
      if (node.kind !== 'array' || node.items.some((i) => i.kind !== 'string')) {
        throw new Refusal(`${at(path)} must be an array of strings, got ${describeKind(node)}`);
      }
      return walkItems(node.items, spec, path);
    case 'strslice':
      // Docker's StrSlice also takes a single string; the array is the one canonical form.
      if (node.kind === 'string') {
        return { json: `[${JSON.stringify(node.value)}]`, value: [node.value] };
      }
      if (node.kind !== 'array' || node.items.some((i) => i.kind !== 'string')) {
        throw new Refusal(`${at(path)} must be a string or an array of strings, got ${describeKind(node)}`);
      }
      return walkItems(node.items, spec, path);
    case 'any':
      return walkAny(node, path);
  }
}

function walkItems(items: readonly JsonNode[], spec: FieldSpec, path: string): Walked {
  const itemSpec = spec.t === 'strings' || spec.t === 'strslice' ? ANY : spec;
  const json: string[] = [];
  const value: unknown[] = [];
  items.forEach((item, i) => {
    const w = walk(item, itemSpec, `${path}[${i}]`);
    json.push(w.json);
    value.push(w.value);
  });
  return { json: `[${json.join(',')}]`, value };
}

function walkStruct(node: JsonNode, spec: StructSpec, path: string): Walked {
  if (node.kind !== 'object')
    throw new Refusal(`${at(path)} must be a JSON object, got ${describeKind(node)}`);
  const seen = new Map<string, string>();
  const json: string[] = [];
  const value = canonicalObject();
  for (const { key, value: child } of node.entries) {
    if (!ASCII.test(key)) {
      throw new Refusal(
        `${at(path)} has the key ${JSON.stringify(key)} with non-ASCII characters: Docker's field names are ASCII and Go's decoder folds some such keys onto them`,
      );
    }
    const folded = key.toUpperCase();
    const earlier = seen.get(folded);
    if (earlier !== undefined) throw new Refusal(duplicate(path, key, earlier));
    seen.set(folded, key);
    const refused = spec.refused?.get(folded);
    if (refused) throw new Refusal(refused);
    const field = spec.fields.get(folded);
    const name = field ? field.name : key;
    const w = walk(child, field ? field.spec : ANY, join(path, name));
    json.push(`${field ? field.quoted : JSON.stringify(key)}:${w.json}`);
    value[name] = w.value;
  }
  return { json: `{${json.join(',')}}`, value };
}

function walkMap(node: JsonNode, values: FieldSpec, path: string): Walked {
  if (node.kind !== 'object')
    throw new Refusal(`${at(path)} must be a JSON object, got ${describeKind(node)}`);
  // A Go map keeps keys exactly: "a" and "A" are two labels, but the same key twice is refused.
  const seen = new Set<string>();
  const json: string[] = [];
  const value = canonicalObject();
  for (const { key, value: child } of node.entries) {
    if (seen.has(key)) throw new Refusal(duplicate(path, key, key));
    seen.add(key);
    const w = walk(child, values, `${path}[${JSON.stringify(key)}]`);
    json.push(`${JSON.stringify(key)}:${w.json}`);
    value[key] = w.value;
  }
  return { json: `{${json.join(',')}}`, value };
}

/** A value dockward does not interpret: kept as sent, but objects in it are checked for duplicates. */
function walkAny(node: JsonNode, path: string): Walked {
  switch (node.kind) {
    case 'object': {
      const seen = new Map<string, string>();
      const json: string[] = [];
      const value = canonicalObject();
      for (const { key, value: child } of node.entries) {
        const folded = foldKey(key);
        const earlier = seen.get(folded);
        if (earlier !== undefined) throw new Refusal(duplicate(path, key, earlier));
        seen.set(folded, key);
        const w = walkAny(child, join(path, key));
        json.push(`${JSON.stringify(key)}:${w.json}`);
        value[key] = w.value;
      }
      return { json: `{${json.join(',')}}`, value };
    }
    case 'array':
      return walkItems(node.items, ANY, path);
    case 'string':
      return { json: JSON.stringify(node.value), value: node.value };
    case 'number':
      return { json: node.raw, value: Number(node.raw) };
    case 'boolean':
      return { json: node.value ? 'true' : 'false', value: node.value };
    case 'null':
      return { json: 'null', value: null };
  }
}

function duplicate(path: string, key: string, earlier: string): string {
  const same = key === earlier ? '' : ` (same field as ${JSON.stringify(earlier)})`;
  return `${at(path)} has the key ${JSON.stringify(key)} twice${same}: dockerd's decoder would let one override or merge into the other`;
}

function describeKind(node: JsonNode): string {
  switch (node.kind) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return `the string ${truncate(JSON.stringify(node.value))}`;
    case 'number':
      return `the number ${truncate(node.raw)}`;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
  }
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

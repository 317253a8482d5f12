/**
 * dockward's one strict JSON parser (RFC 8259, what Go's encoding/json accepts: no comments, no
 * trailing commas, one value). It keeps what `JSON.parse` throws away: every object member in
 * order with its duplicates (dockerd's decoder lets the last win; the gateway refuses ambiguity),
 * every number's exact text (re-serializing never rounds `9007199254740993`) and the offset of
 * every value and key, so daemon.json and policy errors can point at line and column. Used for
 * request bodies on the gateway's hot path: one pass, no per-value slicing, positions as offsets.
 */

export interface JsonEntry {
  readonly key: string;
  /** Offset of the key's opening quote. */
  readonly keyOffset: number;
  readonly value: JsonNode;
}

export type JsonNode =
  | { readonly kind: 'object'; readonly offset: number; readonly entries: readonly JsonEntry[] }
  | { readonly kind: 'array'; readonly offset: number; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly offset: number; readonly value: string }
  | { readonly kind: 'number'; readonly offset: number; readonly raw: string }
  | { readonly kind: 'boolean'; readonly offset: number; readonly value: boolean }
  | { readonly kind: 'null'; readonly offset: number };

/** A position in the text: 1-based line and column (columns count UTF-16 code units). */
export interface TextPosition {
  offset: number;
  line: number;
  column: number;
}

/** The line and column of an offset. */
export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset, line, column: offset - lineStart + 1 };
}

/** A syntax error: what is wrong (the message) and where (offset, line, column). */
export class JsonSyntaxError extends Error {
  readonly pos: TextPosition;
  constructor(message: string, pos: TextPosition) {
    super(message);
    this.name = 'JsonSyntaxError';
    this.pos = pos;
  }
  get offset(): number {
    return this.pos.offset;
  }
}

/** Deepest nesting accepted: Docker bodies are a handful of levels deep; this bounds recursion. */
export const MAX_JSON_DEPTH = 100;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD_CHAR = /[A-Za-z0-9_.]/;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Parses one JSON document; throws JsonSyntaxError (with its position) on anything RFC 8259 does not allow. */
export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonNode {
  let i = 0;

  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, positionAt(text, at));
  };
  const here = (): string => {
    if (i >= text.length) return 'end of input';
    const ch = text[i]!;
    return ch === '\n' ? 'line break' : `character ${JSON.stringify(ch)}`;
  };
  const skipWs = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };

  const parseString = (): string => {
    const open = i;
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string', open);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) {
        fail(
          c === 0x0a
            ? 'line break inside a string (a closing quote may be missing)'
            : 'control character in string',
        );
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        i += 2;
      } else if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape in string');
        // Surrogate pairs come out right by concatenating code units; a lone one stays lone.
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        fail(`invalid escape "\\${e ?? ''}" in string`);
      }
      start = i;
    }
  };

  const word = (w: string, node: JsonNode): JsonNode => {
    const at = i;
    i += w.length;
    if (i < text.length && WORD_CHAR.test(text[i]!)) fail(`unexpected ${here()}`, at);
    return node;
  };

  const parseValue = (depth: number): JsonNode => {
    const offset = i;
    const c = text[i];
    if (c === '{') {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      const entries: JsonEntry[] = [];
      skipWs();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', offset, entries };
      }
      for (;;) {
        skipWs();
        const keyOffset = i;
        if (text[i] === '}') fail('trailing comma before "}"');
        if (text[i] !== '"') fail(`unexpected ${here()}; expected a key in double quotes`);
        const key = parseString();
        skipWs();
        if (text[i] !== ':') fail(`unexpected ${here()}; expected ":" after key "${key}"`);
        i++;
        skipWs();
        entries.push({ key, keyOffset, value: parseValue(depth + 1) });
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', offset, entries };
        }
        fail(`unexpected ${here()}; expected "," or "}" (a comma may be missing)`);
      }
    }
    if (c === '[') {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      const items: JsonNode[] = [];
      skipWs();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', offset, items };
      }
      for (;;) {
        skipWs();
        if (text[i] === ']') fail('trailing comma before "]"');
        items.push(parseValue(depth + 1));
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', offset, items };
        }
        fail(`unexpected ${here()}; expected "," or "]" (a comma may be missing)`);
      }
    }
    if (c === '"') return { kind: 'string', offset, value: parseString() };
    if (text.startsWith('true', i)) return word('true', { kind: 'boolean', offset, value: true });
    if (text.startsWith('false', i)) return word('false', { kind: 'boolean', offset, value: false });
    if (text.startsWith('null', i)) return word('null', { kind: 'null', offset });
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m || m[0] === '-') fail('invalid number');
      const raw = m![0];
      i += raw.length;
      if (i < text.length && WORD_CHAR.test(text[i]!)) fail(`invalid number "${raw}${text[i]}"`, offset);
      return { kind: 'number', offset, raw };
    }
    if (c === "'") fail('strings must use double quotes (")');
    return fail(`unexpected ${here()}; expected a value`);
  };

  skipWs();
  const value = parseValue(0);
  skipWs();
  // Go's json.Decoder stops after the first value and dockerd never looks further; a second
  // document after it is refused rather than silently dropped.
  if (i < text.length) fail(`unexpected data after the end of the JSON document (${here()})`);
  return value;
}

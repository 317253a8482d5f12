/**
 * A strict JSON parser that keeps what `JSON.parse` throws away: every object member in order
 * (so duplicate keys can be refused) and every number's exact text (so re-serializing never
 * rounds `9007199254740993`). It accepts exactly RFC 8259 JSON, one value, nothing after it.
 */

export type JsonNode =
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, JsonNode])[] }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly raw: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' };

/** A syntax error with the character offset where parsing stopped. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Deepest nesting accepted: Docker bodies are a handful of levels deep; this bounds recursion. */
export const MAX_JSON_DEPTH = 100;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const NULL_NODE: JsonNode = Object.freeze({ kind: 'null' });
const TRUE_NODE: JsonNode = Object.freeze({ kind: 'boolean', value: true });
const FALSE_NODE: JsonNode = Object.freeze({ kind: 'boolean', value: false });

/** Parses one JSON document; throws JsonSyntaxError on anything RFC 8259 does not allow. */
export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonNode {
  let i = 0;

  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, i);
  };
  const skipWs = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };

  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in a string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('malformed \\u escape');
          // Surrogate pairs come out right by concatenating code units; a lone one stays lone.
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          i -= 1;
          fail('invalid escape in a string');
      }
      start = i;
    }
  };

  const parseValue = (depth: number): JsonNode => {
    skipWs();
    const c = text[i];
    if (c === '{') {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      const entries: [string, JsonNode][] = [];
      skipWs();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', entries };
      }
      for (;;) {
        skipWs();
        if (text[i] !== '"') fail('expected a string key');
        const key = parseString();
        skipWs();
        if (text[i] !== ':') fail('expected ":" after a key');
        i++;
        entries.push([key, parseValue(depth + 1)]);
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', entries };
        }
        fail('expected "," or "}" in an object');
      }
    }
    if (c === '[') {
      if (depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
      i++;
      const items: JsonNode[] = [];
      skipWs();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(parseValue(depth + 1));
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', items };
        }
        fail('expected "," or "]" in an array');
      }
    }
    if (c === '"') return { kind: 'string', value: parseString() };
    if (text.startsWith('true', i)) {
      i += 4;
      return TRUE_NODE;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return FALSE_NODE;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return NULL_NODE;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0].length > 0) {
      i += m[0].length;
      return { kind: 'number', raw: m[0] };
    }
    return fail(i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
  };

  const value = parseValue(0);
  skipWs();
  // Go's json.Decoder stops after the first value and dockerd never looks further; a second
  // document after it is refused rather than silently dropped.
  if (i < text.length) fail('unexpected data after the JSON document');
  return value;
}

/**
 * A strict JSON reader (RFC 8259, what Go's encoding/json accepts: no comments, no trailing commas)
 * that keeps the line and column of every value and the order and duplicates of object keys, so
 * daemon.json errors can point at the exact spot. JSON.parse gives neither.
 */

/** A position in the text: 1-based line and column (columns count UTF-16 code units). */
export interface TextPosition {
  offset: number;
  line: number;
  column: number;
}

export type JsonNode =
  | { kind: 'object'; pos: TextPosition; entries: JsonEntry[] }
  | { kind: 'array'; pos: TextPosition; items: JsonNode[] }
  | { kind: 'string'; pos: TextPosition; value: string }
  | { kind: 'number'; pos: TextPosition; value: number; raw: string }
  | { kind: 'bool'; pos: TextPosition; value: boolean }
  | { kind: 'null'; pos: TextPosition };

export interface JsonEntry {
  key: string;
  keyPos: TextPosition;
  value: JsonNode;
}

/** A syntax error with its position. */
export class JsonSyntaxError extends Error {
  readonly pos: TextPosition;
  constructor(message: string, pos: TextPosition) {
    super(message);
    this.name = 'JsonSyntaxError';
    this.pos = pos;
  }
}

/** Parses `text` as one JSON value; throws JsonSyntaxError with the position of the problem. */
export function parseJsonTree(text: string): JsonNode {
  const reader = new Reader(text);
  reader.skipSpace();
  const value = reader.value();
  reader.skipSpace();
  if (!reader.atEnd())
    throw reader.error(`unexpected ${reader.describeHere()} after the end of the JSON value`);
  return value;
}

/** The plain JS value of a node; for duplicate keys the last one wins, as in Go. */
export function toPlainValue(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const entry of node.entries) {
        // Re-inserting moves nothing: a duplicate keeps the first one's place, the last one's value.
        out[entry.key] = toPlainValue(entry.value);
      }
      return out;
    }
    case 'array':
      return node.items.map(toPlainValue);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

/** The JSON type name of a node, as used in messages ("found number"). */
export function jsonTypeName(node: JsonNode): string {
  return node.kind === 'bool' ? 'boolean' : node.kind;
}

const WS = new Set([' ', '\t', '\n', '\r']);

class Reader {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  here(): TextPosition {
    return { offset: this.i, line: this.line, column: this.i - this.lineStart + 1 };
  }

  error(message: string, pos: TextPosition = this.here()): JsonSyntaxError {
    return new JsonSyntaxError(message, pos);
  }

  describeHere(): string {
    if (this.atEnd()) return 'end of input';
    const ch = this.s[this.i]!;
    return ch === '\n' ? 'line break' : `character ${JSON.stringify(ch)}`;
  }

  skipSpace(): void {
    while (this.i < this.s.length && WS.has(this.s[this.i]!)) {
      if (this.s[this.i] === '\n') {
        this.line++;
        this.lineStart = this.i + 1;
      }
      this.i++;
    }
  }

  value(): JsonNode {
    const pos = this.here();
    const ch = this.s[this.i];
    if (ch === '{') return this.object(pos);
    if (ch === '[') return this.array(pos);
    if (ch === '"') return { kind: 'string', pos, value: this.string() };
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number(pos);
    if (this.s.startsWith('true', this.i)) return this.word(pos, 'true', { kind: 'bool', pos, value: true });
    if (this.s.startsWith('false', this.i))
      return this.word(pos, 'false', { kind: 'bool', pos, value: false });
    if (this.s.startsWith('null', this.i)) return this.word(pos, 'null', { kind: 'null', pos });
    if (ch === "'") throw this.error('strings must use double quotes (")');
    throw this.error(`unexpected ${this.describeHere()}; expected a value`);
  }

  private word(pos: TextPosition, word: string, node: JsonNode): JsonNode {
    this.i += word.length;
    const next = this.s[this.i];
    if (next !== undefined && /[A-Za-z0-9_]/.test(next))
      throw this.error(`unexpected ${this.describeHere()}`, pos);
    return node;
  }

  private object(pos: TextPosition): JsonNode {
    this.i++; // {
    const entries: JsonEntry[] = [];
    this.skipSpace();
    if (this.s[this.i] === '}') {
      this.i++;
      return { kind: 'object', pos, entries };
    }
    for (;;) {
      this.skipSpace();
      const keyPos = this.here();
      if (this.s[this.i] === '}') throw this.error('trailing comma before "}"');
      if (this.s[this.i] !== '"') {
        throw this.error(`unexpected ${this.describeHere()}; expected a key in double quotes`);
      }
      const key = this.string();
      this.skipSpace();
      if (this.s[this.i] !== ':')
        throw this.error(`unexpected ${this.describeHere()}; expected ":" after key "${key}"`);
      this.i++;
      this.skipSpace();
      const value = this.value();
      entries.push({ key, keyPos, value });
      this.skipSpace();
      const sep = this.s[this.i];
      if (sep === ',') {
        this.i++;
        continue;
      }
      if (sep === '}') {
        this.i++;
        return { kind: 'object', pos, entries };
      }
      throw this.error(`unexpected ${this.describeHere()}; expected "," or "}" (a comma may be missing)`);
    }
  }

  private array(pos: TextPosition): JsonNode {
    this.i++; // [
    const items: JsonNode[] = [];
    this.skipSpace();
    if (this.s[this.i] === ']') {
      this.i++;
      return { kind: 'array', pos, items };
    }
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] === ']') throw this.error('trailing comma before "]"');
      items.push(this.value());
      this.skipSpace();
      const sep = this.s[this.i];
      if (sep === ',') {
        this.i++;
        continue;
      }
      if (sep === ']') {
        this.i++;
        return { kind: 'array', pos, items };
      }
      throw this.error(`unexpected ${this.describeHere()}; expected "," or "]" (a comma may be missing)`);
    }
  }

  private string(): string {
    const start = this.here();
    this.i++; // opening quote
    let out = '';
    for (;;) {
      if (this.atEnd()) throw this.error('unterminated string', start);
      const ch = this.s[this.i]!;
      if (ch === '"') {
        this.i++;
        return out;
      }
      if (ch === '\\') {
        const esc = this.s[this.i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (esc !== undefined && simple[esc] !== undefined) {
          out += simple[esc];
          this.i += 2;
          continue;
        }
        if (esc === 'u') {
          const hex = this.s.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error('invalid \\u escape in string');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.i += 6;
          continue;
        }
        throw this.error(`invalid escape "\\${esc ?? ''}" in string`);
      }
      if (ch < ' ') {
        throw this.error(
          ch === '\n'
            ? 'line break inside a string (a closing quote may be missing)'
            : 'control character in string',
        );
      }
      out += ch;
      this.i++;
    }
  }

  private number(pos: TextPosition): JsonNode {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i));
    if (!m || m[0] === '-') throw this.error('invalid number');
    const raw = m[0];
    this.i += raw.length;
    const next = this.s[this.i];
    if (next !== undefined && /[0-9A-Za-z_.]/.test(next))
      throw this.error(`invalid number "${raw}${next}"`, pos);
    return { kind: 'number', pos, value: Number(raw), raw };
  }
}

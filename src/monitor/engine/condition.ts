/**
 * The rule condition language: a tokenizer, a recursive-descent parser and a compiler to
 * closures over `EventFields`. Grammar (docs/monitor-rules.md explains it with examples):
 *
 *   expr    := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | '(' expr ')' | test | macro | boolean-field
 *   test    := field op value | field ('in' | 'pmatch') '(' value (',' value)* ')' | field 'exists'
 *   op      := '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'icontains' | 'startswith'
 *            | 'endswith' | 'glob'
 *   value   := "string" | 'string' | number | true | false | bare-word
 *
 * Errors carry the offset into the condition text so the rule parser can point at the file's
 * line and column.
 */
import { nameGlob } from '../../policy/glob.js';
import { closestName as suggest } from '../../text/closest-name.js';
import type { EventFields, FieldType, FieldValue } from './fields.js';

/** A condition compiled to a test of one event. */
export type Predicate = (fields: EventFields) => boolean;

/** A problem in a condition, at an offset of its text. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ConditionError';
  }
}

/** What a condition may refer to besides literals. */
export interface ConditionScope {
  fields: Readonly<Record<string, FieldType>>;
  lists: ReadonlyMap<string, readonly string[]>;
  /** Compiles a macro by name (recursively), or undefined when there is no such macro. */
  macro(name: string): Predicate | undefined;
  macroNames(): readonly string[];
}

type TokenKind = 'word' | 'string' | 'op' | 'lparen' | 'rparen' | 'comma' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  offset: number;
}

const KEYWORDS = new Set(['and', 'or', 'not']);
const WORD_OPS = new Set([
  'in',
  'pmatch',
  'contains',
  'icontains',
  'startswith',
  'endswith',
  'glob',
  'exists',
]);
/** Words of the condition language itself, which no list or macro may take as its name. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([...KEYWORDS, ...WORD_OPS, 'true', 'false']);
const SYMBOL_OPS = ['!=', '<=', '>=', '==', '=', '<', '>'];
const STOP = /[\s()=,!<>"']/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(') tokens.push({ kind: 'lparen', text: ch, offset: i++ });
    else if (ch === ')') tokens.push({ kind: 'rparen', text: ch, offset: i++ });
    else if (ch === ',') tokens.push({ kind: 'comma', text: ch, offset: i++ });
    else if (ch === '"' || ch === "'") {
      const start = i++;
      let value = '';
      while (i < text.length && text[i] !== ch) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      if (i >= text.length) throw new ConditionError('unterminated string', start, `close it with ${ch}`);
      i++;
      tokens.push({ kind: 'string', text: value, offset: start });
    } else {
      const op = SYMBOL_OPS.find((o) => text.startsWith(o, i));
      if (op) {
        tokens.push({ kind: 'op', text: op === '==' ? '=' : op, offset: i });
        i += op.length;
        continue;
      }
      if (ch === '!')
        throw new ConditionError('unexpected "!"', i, 'write "!=" to compare, or "not" to negate');
      const start = i;
      while (i < text.length && !STOP.test(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), offset: start });
    }
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

/** A literal as written: quoted strings stay strings, bare words may be numbers or booleans. */
interface Literal {
  text: string;
  quoted: boolean;
  offset: number;
}

const NUMBER = /^-?\d+(?:\.\d+)?$/;

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the condition' : `"${t.text}"`;
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(
    text: string,
    private readonly scope: ConditionScope,
  ) {
    this.tokens = tokenize(text);
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private isWord(t: Token, word: string): boolean {
    return t.kind === 'word' && t.text === word;
  }

  parse(): Predicate {
    if (this.peek().kind === 'end') throw new ConditionError('the condition is empty', 0);
    const p = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'end') {
      throw new ConditionError(
        `unexpected ${describe(t)}`,
        t.offset,
        t.kind === 'rparen' ? 'remove the extra ")"' : 'join tests with "and" or "or"',
      );
    }
    return p;
  }

  private parseOr(): Predicate {
    const parts = [this.parseAnd()];
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      parts.push(this.parseAnd());
    }
    return parts.length === 1 ? parts[0]! : (f) => parts.some((p) => p(f));
  }

  private parseAnd(): Predicate {
    const parts = [this.parseUnary()];
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      parts.push(this.parseUnary());
    }
    return parts.length === 1 ? parts[0]! : (f) => parts.every((p) => p(f));
  }

  private parseUnary(): Predicate {
    const t = this.peek();
    if (this.isWord(t, 'not')) {
      this.next();
      const inner = this.parseUnary();
      return (f) => !inner(f);
    }
    if (t.kind === 'lparen') {
      this.next();
      const inner = this.parseOr();
      const close = this.next();
      if (close.kind !== 'rparen')
        throw new ConditionError(`expected ")" but found ${describe(close)}`, close.offset, 'close the "("');
      return inner;
    }
    if (t.kind !== 'word' || KEYWORDS.has(t.text) || WORD_OPS.has(t.text)) {
      throw new ConditionError(
        `expected a field, a macro, "not" or "(" but found ${describe(t)}`,
        t.offset,
        'a test reads like: container.privileged = true',
      );
    }
    this.next();
    const op = this.peek();
    const hasOp = op.kind === 'op' || (op.kind === 'word' && WORD_OPS.has(op.text));
    const type = this.scope.fields[t.text];
    if (!hasOp) {
      const macro = type === undefined ? this.scope.macro(t.text) : undefined;
      if (macro) return macro;
      if (type === 'boolean') return (f) => f[t.text] === true;
      if (type !== undefined)
        throw new ConditionError(
          `field "${t.text}" needs an operator`,
          op.offset,
          `write e.g. ${t.text} exists, ${t.text} = "value" or ${t.text} in (a, b)`,
        );
      throw this.unknownName(t, true);
    }
    if (type === undefined) throw this.unknownName(t, false);
    return this.parseTest(t.text, type);
  }

  private unknownName(t: Token, macroAllowed: boolean): ConditionError {
    const candidates = [...Object.keys(this.scope.fields), ...(macroAllowed ? this.scope.macroNames() : [])];
    const close = suggest(t.text, candidates);
    return new ConditionError(
      `unknown ${macroAllowed ? 'field or macro' : 'field'} "${t.text}"${close ? ` (did you mean "${close}"?)` : ''}`,
      t.offset,
      'docs/monitor-rules.md lists every field',
    );
  }

  private literal(): Literal {
    const t = this.next();
    if (t.kind === 'string') return { text: t.text, quoted: true, offset: t.offset };
    if (t.kind === 'word' && !KEYWORDS.has(t.text) && !WORD_OPS.has(t.text))
      return { text: t.text, quoted: false, offset: t.offset };
    throw new ConditionError(
      `expected a value but found ${describe(t)}`,
      t.offset,
      'quote values that hold spaces or ( ) , = ! < >',
    );
  }

  /** The values of `( a, b, list_name )`; a bare name of a `list` expands to its items. */
  private literalList(): Literal[] {
    const open = this.next();
    if (open.kind !== 'lparen')
      throw new ConditionError(`expected "(" but found ${describe(open)}`, open.offset, 'write: in (a, b)');
    const out: Literal[] = [];
    if (this.peek().kind === 'rparen') {
      this.next();
      return out;
    }
    for (;;) {
      const lit = this.literal();
      const list = lit.quoted ? undefined : this.scope.lists.get(lit.text);
      if (list) for (const item of list) out.push({ text: item, quoted: true, offset: lit.offset });
      else out.push(lit);
      const sep = this.next();
      if (sep.kind === 'rparen') return out;
      if (sep.kind !== 'comma')
        throw new ConditionError(
          `expected "," or ")" but found ${describe(sep)}`,
          sep.offset,
          'separate values with ","',
        );
    }
  }

  private typed(field: string, type: FieldType, lit: Literal): FieldValue {
    if (type === 'number') {
      if (lit.quoted || !NUMBER.test(lit.text))
        throw new ConditionError(
          `${field} is a number: "${lit.text}" is not`,
          lit.offset,
          'write a number, unquoted',
        );
      return Number(lit.text);
    }
    if (type === 'boolean') {
      if (lit.quoted || (lit.text !== 'true' && lit.text !== 'false'))
        throw new ConditionError(
          `${field} is true or false: "${lit.text}" is neither`,
          lit.offset,
          'write true or false',
        );
      return lit.text === 'true';
    }
    return lit.text;
  }

  private parseTest(field: string, type: FieldType): Predicate {
    const opTok = this.next();
    const op = opTok.text;
    const get = (f: EventFields): FieldValue | undefined => f[field];
    if (op === 'exists') {
      return (f) => {
        const v = get(f);
        return v !== undefined && (!Array.isArray(v) || v.length > 0);
      };
    }
    const textual = type === 'string' || type === 'list';
    if (!textual && !['=', '!=', '<', '<=', '>', '>=', 'in'].includes(op)) {
      throw new ConditionError(
        `"${op}" needs a text field; ${field} is a ${type}`,
        opTok.offset,
        type === 'boolean' ? `write ${field} = true` : 'compare numbers with = != < <= > >= or in',
      );
    }
    if (op === 'in' || op === 'pmatch') {
      if (op === 'pmatch' && !textual)
        throw new ConditionError(`"pmatch" needs a path field; ${field} is a ${type}`, opTok.offset);
      const values = this.literalList().map((l) => this.typed(field, type, l));
      if (op === 'in') {
        const set = new Set(values);
        return anyElement(get, (v) => set.has(v));
      }
      const prefixes = values.map(String);
      return anyElement(get, (v) => typeof v === 'string' && prefixes.some((p) => underPath(v, p)));
    }
    if (op === 'glob' && this.peek().kind === 'lparen') {
      const globs = this.literalList().map((l) => nameGlob(l.text));
      return anyElement(get, (v) => typeof v === 'string' && globs.some((g) => g.test(v)));
    }
    const lit = this.literal();
    const value = this.typed(field, type, lit);
    switch (op) {
      case '=':
        return anyElement(get, (v) => v === value);
      case '!=': {
        const eq = anyElement(get, (v) => v === value);
        return (f) => get(f) !== undefined && !eq(f);
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (type === 'boolean' || type === 'list')
          throw new ConditionError(`"${op}" compares numbers or text; ${field} is a ${type}`, opTok.offset);
        return anyElement(get, (v) => typeof v === typeof value && compare(op, v, value));
      }
      case 'contains':
        return anyElement(get, (v) => typeof v === 'string' && v.includes(String(value)));
      case 'icontains': {
        const needle = String(value).toLowerCase();
        return anyElement(get, (v) => typeof v === 'string' && v.toLowerCase().includes(needle));
      }
      case 'startswith':
        return anyElement(get, (v) => typeof v === 'string' && v.startsWith(String(value)));
      case 'endswith':
        return anyElement(get, (v) => typeof v === 'string' && v.endsWith(String(value)));
      case 'glob': {
        const re = nameGlob(String(value));
        return anyElement(get, (v) => typeof v === 'string' && re.test(v));
      }
      default:
        throw new ConditionError(`unknown operator "${op}"`, opTok.offset);
    }
  }
}

function compare(op: string, a: FieldValue, b: FieldValue): boolean {
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}

/** A path equal to the prefix or below it (`/etc/x` is under `/etc`; `/etcx` is not). */
function underPath(path: string, prefix: string): boolean {
  if (prefix === '/') return path.startsWith('/');
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === p || path.startsWith(`${p}/`);
}

/** A list field satisfies a test when any element does; a missing field never does. */
function anyElement(
  get: (f: EventFields) => FieldValue | undefined,
  test: (v: string | number | boolean) => boolean,
): Predicate {
  return (f) => {
    const v = get(f);
    if (v === undefined) return false;
    return Array.isArray(v) ? v.some(test) : test(v);
  };
}

/** Compiles a condition; throws ConditionError (with an offset into `text`) when it is invalid. */
export function compileCondition(text: string, scope: ConditionScope): Predicate {
  return new Parser(text, scope).parse();
}

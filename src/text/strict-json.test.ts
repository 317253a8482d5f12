import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonSyntaxError, type JsonNode, parseStrictJson } from './strict-json.js';

/** Back to plain data, numbers as their text, so tests can compare. */
function plain(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object':
      return node.entries.map((e) => [e.key, plain(e.value)]);
    case 'array':
      return node.items.map(plain);
    case 'number':
      return `#${node.raw}`;
    case 'null':
      return null;
    default:
      return node.value;
  }
}

describe('parseStrictJson', () => {
  it('keeps every member of an object in order, duplicates included', () => {
    assert.deepEqual(plain(parseStrictJson('{"a":1,"a":2,"b":[true,false,null]}')), [
      ['a', '#1'],
      ['a', '#2'],
      ['b', [true, false, null]],
    ]);
  });

  it('keeps number text exactly', () => {
    assert.deepEqual(plain(parseStrictJson('[9007199254740993,-0,1.5e+10,0.000]')), [
      '#9007199254740993',
      '#-0',
      '#1.5e+10',
      '#0.000',
    ]);
  });

  it('decodes string escapes, surrogate pairs included', () => {
    assert.equal(
      plain(parseStrictJson('"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"')),
      'a"\\/\b\f\n\r\té😀',
    );
  });

  const bad: [string, string, RegExp][] = [
    ['a trailing comma', '{"a":1,}', /trailing comma before "}"/],
    ['single quotes', "{'a':1}", /expected a key in double quotes/],
    ['a leading zero', '[01]', /invalid number "01"/],
    ['a bare control character in a string', '"a\u0001"', /control character/],
    ['an invalid escape', '"\\x41"', /invalid escape/],
    ['a short unicode escape', '"\\u12"', /invalid \\u escape/],
    ['NaN', '[NaN]', /unexpected character/],
    ['a second value', '{} {}', /unexpected data after the end of the JSON document/],
    ['an unterminated string', '"abc', /unterminated string/],
    ['nothing', '', /unexpected end of input/],
    ['a comment', '{"a":1 /* x */}', /expected "," or "}"/],
  ];
  for (const [title, text, message] of bad) {
    it(`refuses ${title}`, () => {
      assert.throws(
        () => parseStrictJson(text),
        (err: unknown) => err instanceof JsonSyntaxError && message.test(err.message),
      );
    });
  }

  it('refuses nesting beyond the depth limit and accepts it at the limit', () => {
    assert.doesNotThrow(() => parseStrictJson(`${'['.repeat(5)}${']'.repeat(5)}`, 5));
    assert.throws(() => parseStrictJson(`${'['.repeat(6)}${']'.repeat(6)}`, 5), /nested deeper than 5/);
  });

  it('gives every value and key its offset, and an error its line and column', () => {
    const node = parseStrictJson('{\n  "a": [1, "x"]\n}');
    assert.equal(node.kind === 'object' && node.entries[0]?.keyOffset, 4);
    assert.equal(node.kind === 'object' && node.entries[0]?.value.offset, 9);
    assert.throws(
      () => parseStrictJson('{\n  "a": 1\n  "b": 2\n}'),
      (err: unknown) =>
        err instanceof JsonSyntaxError &&
        /a comma may be missing/.test(err.message) &&
        err.pos.line === 3 &&
        err.pos.column === 3 &&
        err.offset === 13,
    );
  });
});

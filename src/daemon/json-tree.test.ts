import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonSyntaxError, parseJsonTree, toPlainValue } from './json-tree.js';

function syntaxError(text: string): JsonSyntaxError {
  try {
    parseJsonTree(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return err;
    throw err;
  }
  assert.fail('expected a syntax error');
}

describe('parseJsonTree', () => {
  it('keeps the position of every key and value', () => {
    const tree = parseJsonTree('{\n  "a": [1, true],\n  "b": {"c": null}\n}');
    assert.equal(tree.kind, 'object');
    if (tree.kind !== 'object') return;
    assert.deepEqual(
      tree.entries.map((e) => [e.key, e.keyPos.line, e.keyPos.column, e.value.pos.column]),
      [
        ['a', 2, 3, 8],
        ['b', 3, 3, 8],
      ],
    );
    assert.deepEqual(toPlainValue(tree), { a: [1, true], b: { c: null } });
  });

  it('keeps duplicate keys, the last value winning in the plain value', () => {
    const tree = parseJsonTree('{"a": 1, "b": 2, "a": 3}');
    assert.equal(tree.kind === 'object' && tree.entries.length, 3);
    assert.deepEqual(Object.entries(toPlainValue(tree) as object), [
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('reads escapes and keeps the raw text of numbers', () => {
    const tree = parseJsonTree('["a\\"b\\u00e9\\n", 1.50, -0, 2e3]');
    assert.deepEqual(toPlainValue(tree), ['a"bé\n', 1.5, -0, 2000]);
    assert.deepEqual(tree.kind === 'array' && tree.items.slice(1).map((n) => n.kind === 'number' && n.raw), [
      '1.50',
      '-0',
      '2e3',
    ]);
  });

  const bad: Array<[string, string, number, number]> = [
    ['{"a": 1,}', 'trailing comma', 1, 9],
    ['{"a": 1\n "b": 2}', 'comma may be missing', 2, 2],
    ['{"a": tru}', 'expected a value', 1, 7],
    ['{"a": "x\n"}', 'line break inside a string', 1, 9],
    ['{"a": 01}', 'invalid number', 1, 7],
    ['{"a": 1} x', 'after the end', 1, 10],
    ['{a: 1}', 'expected a key in double quotes', 1, 2],
    ['', 'expected a value', 1, 1],
  ];
  for (const [text, message, line, column] of bad) {
    it(`reports ${JSON.stringify(text)} at line ${line}, column ${column}`, () => {
      const err = syntaxError(text);
      assert.match(err.message, new RegExp(message));
      assert.deepEqual([err.pos.line, err.pos.column], [line, column]);
    });
  }
});

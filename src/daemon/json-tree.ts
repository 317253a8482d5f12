/**
 * daemon.json as a tree whose every value and key carries its line and column, so errors point at
 * the exact spot. The parsing is the one strict JSON parser's (src/text/strict-json.ts, what Go's
 * encoding/json accepts); this adds the line and column and the daemon checks' node shapes.
 */
import {
  JsonSyntaxError,
  parseStrictJson,
  type JsonNode as StrictNode,
  type TextPosition,
} from '../text/strict-json.js';

export { JsonSyntaxError, type TextPosition };

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

/** Parses `text` as one JSON value; throws JsonSyntaxError with the position of the problem. */
export function parseJsonTree(text: string): JsonNode {
  const root = parseStrictJson(text);
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const at = (offset: number): TextPosition => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { offset, line: lo + 1, column: offset - starts[lo]! + 1 };
  };
  const convert = (node: StrictNode): JsonNode => {
    const pos = at(node.offset);
    switch (node.kind) {
      case 'object':
        return {
          kind: 'object',
          pos,
          entries: node.entries.map((e) => ({
            key: e.key,
            keyPos: at(e.keyOffset),
            value: convert(e.value),
          })),
        };
      case 'array':
        return { kind: 'array', pos, items: node.items.map(convert) };
      case 'number':
        return { kind: 'number', pos, value: Number(node.raw), raw: node.raw };
      case 'boolean':
        return { kind: 'bool', pos, value: node.value };
      case 'string':
        return { kind: 'string', pos, value: node.value };
      case 'null':
        return { kind: 'null', pos };
    }
  };
  return convert(root);
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

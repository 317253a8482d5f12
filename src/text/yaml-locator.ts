/**
 * Points a problem found in a parsed YAML document back at its line and column: the policy file
 * and the monitor's rule files both report `file:line:col` from the `yaml` package's node ranges.
 */
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import { closestName } from './closest-name.js';

/** Keys and indexes from the document's root (`['rules', 2, 'condition']`). */
export type YamlPath = (string | number)[];

export class YamlLocator {
  constructor(
    protected readonly doc: Document,
    protected readonly lines: LineCounter,
    readonly file: string,
  ) {}

  /** The node at a path, or the deepest existing ancestor; `key` points at a map key instead. */
  protected find(path: YamlPath, key?: string): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        node = node.items[seg];
      } else break;
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair && isScalar(pair.key)) return pair.key;
    }
    return (node as Node | null | undefined) ?? undefined;
  }

  /** True when the path exists in the document. */
  has(path: YamlPath): boolean {
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return false;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (!node) return false;
      } else return false;
    }
    return true;
  }

  /** 1-based line and column of a character offset. */
  protected position(offset: number): { line: number; col: number } {
    return this.lines.linePos(offset);
  }
}

/**
 * One issue for each unknown key a schema refused at a path, pointing at the key itself, with the
 * closest allowed key as a "did you mean" and the allowed keys as the hint.
 */
export function unknownKeyIssues<I>(
  loc: { at(path: YamlPath, message: string, hint?: string, key?: string): I },
  path: YamlPath,
  keys: readonly string[],
  allowed: readonly string[],
): I[] {
  const hint = allowed.length > 0 ? `allowed here: ${allowed.join(', ')}` : undefined;
  return keys.map((key) => {
    const close = closestName(key, allowed);
    return loc.at(path, `unknown key "${key}"${close ? ` (did you mean "${close}"?)` : ''}`, hint, key);
  });
}

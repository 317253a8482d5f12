/**
 * A unified diff of two texts (`--- a/daemon.json` / `+++ b/daemon.json`, `@@` hunks with three
 * lines of context), from a longest-common-subsequence of lines. Config files are small, so the
 * quadratic table is fine; past a size limit the diff falls back to "replace everything", which
 * is still a correct patch.
 */

export interface DiffOptions {
  fromFile?: string;
  toFile?: string;
  /** Lines of context around each change (default 3). */
  context?: number;
}

interface Line {
  text: string;
  /** Comparison key: the last line of a file without a final newline differs from one with. */
  key: string;
  noEol: boolean;
}

type Op = { type: ' ' | '-' | '+'; line: Line; a: number; b: number };

const MAX_CELLS = 4_000_000;

function splitLines(text: string): Line[] {
  if (text === '') return [];
  const endsWithNewline = text.endsWith('\n');
  const parts = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  return parts.map((t, i) => {
    const noEol = !endsWithNewline && i === parts.length - 1;
    return { text: t, key: noEol ? `${t}\u0000` : t, noEol };
  });
}

function diffOps(a: Line[], b: Line[]): Op[] {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    return [
      ...a.map((line, i): Op => ({ type: '-', line, a: i, b: 0 })),
      ...b.map((line, j): Op => ({ type: '+', line, a: n, b: j })),
    ];
  }
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] =
        a[i]!.key === b[j]!.key
          ? lcs[(i + 1) * w + j + 1]! + 1
          : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i]!.key === b[j]!.key) {
      ops.push({ type: ' ', line: a[i]!, a: i, b: j });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) {
      ops.push({ type: '-', line: a[i]!, a: i, b: j });
      i++;
    } else {
      ops.push({ type: '+', line: b[j]!, a: i, b: j });
      j++;
    }
  }
  for (; i < n; i++) ops.push({ type: '-', line: a[i]!, a: i, b: j });
  for (; j < m; j++) ops.push({ type: '+', line: b[j]!, a: i, b: j });
  return ops;
}

function range(start: number, length: number): string {
  // GNU style: an empty range names the line before it; a length of 1 is not written.
  if (length === 0) return `${start},0`;
  return length === 1 ? `${start + 1}` : `${start + 1},${length}`;
}

/** The unified diff from `before` to `after`, or '' when they are equal. */
export function unifiedDiff(before: string, after: string, options: DiffOptions = {}): string {
  const context = options.context ?? 3;
  const ops = diffOps(splitLines(before), splitLines(after));
  const changed = ops.map((op, k) => (op.type === ' ' ? -1 : k)).filter((k) => k >= 0);
  if (changed.length === 0) return '';

  const out = [`--- ${options.fromFile ?? 'a/daemon.json'}`, `+++ ${options.toFile ?? 'b/daemon.json'}`];
  let k = 0;
  while (k < changed.length) {
    const first = changed[k]!;
    let last = first;
    // Extend the hunk while the next change is close enough to share context.
    while (k + 1 < changed.length && changed[k + 1]! - last <= 2 * context + 1) {
      k++;
      last = changed[k]!;
    }
    k++;
    const start = Math.max(0, first - context);
    const end = Math.min(ops.length - 1, last + context);
    const slice = ops.slice(start, end + 1);
    const aStart = slice[0]!.a;
    const bStart = slice[0]!.b;
    const aLen = slice.filter((op) => op.type !== '+').length;
    const bLen = slice.filter((op) => op.type !== '-').length;
    out.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@`);
    for (const op of slice) {
      out.push(`${op.type}${op.line.text}`);
      if (op.line.noEol) out.push('\\ No newline at end of file');
    }
  }
  return `${out.join('\n')}\n`;
}

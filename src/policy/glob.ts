/**
 * Globs used by policy files, compiled once to anchored regular expressions.
 * - names (`container.*`, CN `ci-*`): `*` matches any text, `?` one character;
 * - paths and image repositories (`/containers/*\/json`, `registry.example.com/team/**`):
 *   `*` matches within one `/`-separated segment, `**` across segments.
 */

function escapeChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** A glob over flat names: `*` any text, `?` one character. */
export function nameGlob(glob: string, flags = ''): RegExp {
  let src = '^';
  for (const ch of glob) src += ch === '*' ? '[^]*' : ch === '?' ? '[^]' : escapeChar(ch);
  return new RegExp(`${src}$`, flags);
}

/** A glob over `/`-separated text: `*` within a segment, `**` across segments. */
export function segmentGlob(glob: string): RegExp {
  let src = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*' && glob[i + 1] === '*') {
      src += '[^]*';
      i++;
    } else if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else src += escapeChar(ch);
  }
  return new RegExp(`${src}$`);
}

/** True when the text holds a glob wildcard. */
export function isGlob(text: string): boolean {
  return /[*?]/.test(text);
}

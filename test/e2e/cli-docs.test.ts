// README/docs ↔ `--help`: every command and option the docs name exists in the binary's --help,
// and every command and option in --help is documented. Drives the built binary (`--help` of
// every command, walked from `dockward --help`) and parses the docs' `dockward ...` lines.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO_ROOT, runDockward } from './harness/index.js';

/** One command as its --help shows it. */
interface HelpNode {
  path: string[];
  /** Option names (long and short), each mapped to whether it takes a value. */
  options: Map<string, boolean>;
  subcommands: string[];
}

/** One `dockward ...` command line of the docs. */
interface DocLine {
  file: string;
  line: number;
  text: string;
  tokens: string[];
  /** Options named in the line's trailing comment (`# ... (--json, --all)`). */
  commentOptions: string[];
}

const DOC_FILES = [
  'README.md',
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];
// Always present, documented by commander itself.
const IMPLICIT_OPTIONS = new Set(['-h', '--help']);

/** The entries (first column) of one section ("Options:", "Commands:") of commander's help. */
function sectionTerms(help: string, section: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trim() === section);
  if (start < 0) return [];
  const terms: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.trim() === '' || !l.startsWith(' ')) break;
    // An entry starts at column 2; deeper lines continue a description.
    const m = /^ {2}(\S.*?)(?: {2,}|$)/.exec(l);
    if (m && !l.startsWith('   ')) terms.push(m[1]!);
  }
  return terms;
}

function parseHelp(path: string[], help: string): HelpNode {
  const options = new Map<string, boolean>();
  for (const term of sectionTerms(help, 'Options:')) {
    const takesValue = /[<[]/.test(term);
    for (const m of term.matchAll(/(?:^|[\s,])(--?[A-Za-z0-9][\w-]*)/g)) options.set(m[1]!, takesValue);
  }
  const subcommands = sectionTerms(help, 'Commands:')
    .map((t) => t.split(/\s+/)[0]!)
    .filter((name) => name !== 'help');
  return { path, options, subcommands };
}

async function walkHelp(): Promise<Map<string, HelpNode>> {
  const nodes = new Map<string, HelpNode>();
  let level: string[][] = [[]];
  while (level.length > 0) {
    const next: string[][] = [];
    // Two at a time: the machine is shared.
    for (let i = 0; i < level.length; i += 2) {
      const batch = level.slice(i, i + 2);
      const results = await Promise.all(
        batch.map((path) => runDockward([...path, '--help'], { env: process.env, timeoutMs: 30_000 })),
      );
      results.forEach((res, j) => {
        const path = batch[j]!;
        assert.equal(
          res.code,
          0,
          `dockward ${[...path, '--help'].join(' ')} exited ${res.code}: ${res.stderr}`,
        );
        const node = parseHelp(path, res.stdout);
        nodes.set(path.join(' '), node);
        for (const sub of node.subcommands) next.push([...path, sub]);
      });
    }
    level = next;
  }
  return nodes;
}

/** Splits a shell-ish line into words, keeping quoted strings whole. */
function shellWords(text: string): string[] {
  return [...text.matchAll(/'[^']*'|"[^"]*"|\S+/g)].map((m) => m[0]);
}

/** Cuts a line at the end of the dockward command: a pipe, `;`, `&&`, `)` or `"` outside brackets. */
function commandPart(rest: string): { command: string; comment: string } {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (c === '#' && (i === 0 || /\s/.test(rest[i - 1]!)))
      return { command: rest.slice(0, i), comment: rest.slice(i + 1) };
    else if (depth === 0 && (c === ';' || c === ')' || c === '"' || c === '`'))
      return { command: rest.slice(0, i), comment: '' };
    else if (depth === 0 && (rest.startsWith('&&', i) || rest.startsWith(' | ', i - 1)))
      return { command: rest.slice(0, i), comment: '' };
  }
  return { command: rest, comment: '' };
}

function optionsIn(text: string): string[] {
  return [...text.matchAll(/(?:^|[\s(,[`|])(--[a-z0-9][\w-]*)/g)].map((m) => m[1]!);
}

function docLinesOf(
  file: string,
  source: string,
  commands: ReadonlyMap<string, HelpNode>,
): { lines: DocLine[]; inlineOptions: Set<string> } {
  const topLevel = commands.get('')!.subcommands;
  // `pki inspect NAME` in a table names a command without the program: a group and its subcommand.
  const namesSubcommand = (code: string) => {
    const [group, sub] = code.split(/\s+/);
    return sub !== undefined && (commands.get(group!)?.subcommands.includes(sub) ?? false);
  };
  const lines: DocLine[] = [];
  const inlineOptions = new Set<string>();
  const add = (lineNo: number, text: string) => {
    // `dockward` where a command starts: the line's start (after `$ `, env assignments or sudo),
    // or after `$(`, a pipe, `;` or `&&`; not an argument (`docker --context dockward ps`).
    for (const m of text.matchAll(/(?:^\s*(?:[A-Z_]+=\S*\s+)*(?:sudo\s+)?|[;|&(]\s*)dockward\s+(\S.*)$/g)) {
      const { command, comment } = commandPart(m[1]!);
      lines.push({
        file,
        line: lineNo,
        text: `dockward ${command.trim().replace(/\s+/g, ' ')}`,
        tokens: shellWords(command),
        commentOptions: optionsIn(comment),
      });
    }
  };
  const raw = source.split('\n');
  let inFence = false;
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i]!;
    if (/^\s*```/.test(l)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      // A `\` at the end joins the next line (shell continuation).
      let joined = l;
      const first = i;
      while (/\\\s*$/.test(joined) && i + 1 < raw.length)
        joined = `${joined.replace(/\\\s*$/, ' ')}${raw[++i]!.trim()}`;
      add(first + 1, joined.replace(/^\s*\$\s+/, ''));
      continue;
    }
    const heading = /^#+\s/.test(l);
    for (const m of l.matchAll(/`([^`]+)`/g)) {
      const code = m[1]!;
      if (/^dockward\s/.test(code)) add(i + 1, code);
      // A section heading names its command without the program: ## `daemon harden [--write]`.
      else if ((heading && topLevel.includes(code.split(/\s/)[0]!)) || namesSubcommand(code))
        add(i + 1, `dockward ${code}`);
      for (const o of optionsIn(code)) inlineOptions.add(o);
    }
  }
  return { lines, inlineOptions };
}

/** A docs token that names an option: `--x`, `--x=v`, `[--x`, `-x`; its name, or undefined. */
function optionName(token: string): string | undefined {
  const m = /^[[(]*(--?[A-Za-z0-9][\w-]*)/.exec(token);
  return m ? m[1] : undefined;
}

interface Resolved {
  /** The command path(s) the line names (an alternation `a|b` names several). */
  paths: string[][];
  problems: string[];
  options: string[];
}

/** Resolves a doc line against the help tree: which command it names, which options it uses. */
function resolve(line: DocLine, nodes: Map<string, HelpNode>): Resolved {
  const problems: string[] = [];
  const options: string[] = [];
  let paths: string[][] = [[]];
  let leaf = false;
  const where = `${line.file}:${line.line}: \`${line.text}\``;
  const known = (path: string[]) => {
    const opts = new Map<string, boolean>();
    for (let n = 0; n <= path.length; n++) {
      for (const [k, v] of nodes.get(path.slice(0, n).join(' '))?.options ?? []) opts.set(k, v);
    }
    return opts;
  };
  let lastWord: string | undefined;
  for (let i = 0; i < line.tokens.length; i++) {
    const token = line.tokens[i]!;
    // `service install gateway -- FLAGS`: the flags after `--` are passed through to
    // `dockward gateway`, so they are checked against that command's --help.
    if (token === '--' && leaf && lastWord !== undefined && nodes.has(lastWord)) {
      const inner = resolve({ ...line, tokens: [lastWord, ...line.tokens.slice(i + 1)] }, nodes);
      problems.push(...inner.problems);
      break;
    }
    const opt = optionName(token);
    if (opt !== undefined) {
      options.push(opt);
      const takesValue = paths.some((p) => known(p).get(opt) === true);
      // `--x VALUE` (not `--x=VALUE`, not `--x]`): the value is the next word.
      if (takesValue && !token.includes('=') && !/[\])]$/.test(token)) i++;
      continue;
    }
    const word = token.replace(/^[[(]+|[\])]+$/g, '');
    if (leaf) {
      lastWord = word;
      continue;
    }
    // `dockward ...` in prose stands for any command.
    if (word === '...' || word === '…') {
      leaf = true;
      continue;
    }
    const node = nodes.get(paths[0]!.join(' '))!;
    if (node.subcommands.length === 0) {
      leaf = true; // arguments from here on
      lastWord = word;
      continue;
    }
    const names = word.split('|');
    if (names.every((n) => node.subcommands.includes(n))) {
      paths = names.map((n) => [...paths[0]!, n]);
      if (names.length > 1) leaf = true;
      continue;
    }
    problems.push(
      `${where} names command "dockward ${[...paths[0]!, word].join(' ')}", which --help does not list (${paths[0]!.length === 0 ? 'dockward' : `dockward ${paths[0]!.join(' ')}`} has: ${node.subcommands.join(', ')})`,
    );
    return { paths, problems, options };
  }
  for (const opt of options) {
    for (const path of paths) {
      if (!known(path).has(opt)) {
        problems.push(`${where} uses ${opt}, which \`dockward ${path.join(' ')} --help\` does not list`);
      }
    }
  }
  return { paths, problems, options };
}

describe('README and docs agree with --help', () => {
  let nodes: Map<string, HelpNode>;
  let docs: { file: string; lines: DocLine[]; inlineOptions: Set<string> }[];
  let allLines: DocLine[];

  before(async () => {
    nodes = await walkHelp();
    docs = DOC_FILES.map((file) => ({
      file,
      ...docLinesOf(file, readFileSync(join(REPO_ROOT, file), 'utf8'), nodes),
    }));
    allLines = docs.flatMap((d) => d.lines);
  });

  it('walks a help tree with commands and options, and finds dockward lines in the docs', () => {
    assert.ok(nodes.size > 20, `only ${nodes.size} commands in the help tree`);
    assert.ok(nodes.get('gateway')!.options.has('--listen'), 'gateway --help lists --listen');
    assert.ok(nodes.get('pki issue client')!.options.has('--ou'), 'pki issue client --help lists --ou');
    assert.ok(allLines.length > 50, `only ${allLines.length} dockward lines found in the docs`);
    // The parser joins `\` continuations: the gateway example in the README spans lines.
    assert.ok(
      allLines.some(
        (l) => l.file === 'README.md' && l.tokens.includes('--listen') && l.tokens.includes('--policy'),
      ),
      'the README gateway example is read with its continuation lines',
    );
  });

  it('every command and option the docs name exists in --help', () => {
    const problems = allLines.flatMap((l) => resolve(l, nodes).problems);
    assert.deepEqual(problems, [], `docs name what --help does not have:\n${problems.join('\n')}`);
  });

  it('every command and option in --help is documented in README.md or docs/', () => {
    const problems: string[] = [];
    const resolved = allLines.map((l) => ({ line: l, ...resolve(l, nodes) }));
    for (const node of nodes.values()) {
      if (node.path.length === 0) continue;
      const name = `dockward ${node.path.join(' ')}`;
      const key = node.path.join(' ');
      // Lines naming this command or one below it.
      const about = resolved.filter((r) =>
        r.paths.some((p) => p.length >= node.path.length && p.slice(0, node.path.length).join(' ') === key),
      );
      const exact = about.filter((r) => r.paths.some((p) => p.join(' ') === key));
      if (about.length === 0) {
        problems.push(`${name} is in --help but no README/docs line shows \`${name} ...\``);
        continue;
      }
      const documented = new Set<string>();
      for (const r of exact) {
        for (const o of r.options) documented.add(o);
        for (const o of r.line.commentOptions) documented.add(o);
      }
      // A flag table or inline `--flag` on the page of this command, or of its group
      // (`daemon.md` shows `dockward daemon` and the options its subcommands share), documents it too.
      const pages = new Set(
        resolved
          .filter((r) =>
            r.paths.some((p) => p.length >= 1 && p.join(' ') === key.split(' ').slice(0, p.length).join(' ')),
          )
          .map((r) => r.line.file),
      );
      for (const d of docs) if (pages.has(d.file)) for (const o of d.inlineOptions) documented.add(o);
      for (const opt of node.options.keys()) {
        if (!opt.startsWith('--') || IMPLICIT_OPTIONS.has(opt)) continue;
        if (!documented.has(opt))
          problems.push(`${name} ${opt} is in --help but not documented in README.md or docs/`);
      }
    }
    const root = nodes.get('')!;
    const everywhere = new Set(
      docs.flatMap((d) => [
        ...d.inlineOptions,
        ...d.lines.flatMap((l) => [...l.tokens.map(optionName), ...l.commentOptions]),
      ]),
    );
    for (const opt of root.options.keys()) {
      if (opt.startsWith('--') && !IMPLICIT_OPTIONS.has(opt) && !everywhere.has(opt)) {
        problems.push(`dockward ${opt} (global) is in --help but not documented in README.md or docs/`);
      }
    }
    assert.deepEqual(problems, [], `--help has what the docs do not:\n${problems.join('\n')}`);
  });
});

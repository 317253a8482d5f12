/**
 * The pure part of reading docker.service: unit file + drop-ins → the effective `ExecStart`, and
 * the drop-in that resolves a flag-vs-file conflict (the documented fix for `hosts`).
 *
 * systemd semantics followed (systemd.unit(5), systemd.service(5), systemd.syntax(7)):
 * - drop-ins (`docker.service.d/*.conf`) apply after the unit, in lexical order of file name;
 *   a drop-in name given twice (e.g. in /etc and /usr/lib) counts once, the first one listed;
 * - a line ending in `\` continues on the next line (comment lines inside are skipped);
 * - an empty `ExecStart=` clears the list; a service that is not Type=oneshot may have only one
 *   ExecStart, and systemd refuses to load it otherwise (the classic broken drop-in);
 * - command words: double/single quotes, C escapes, `$VAR` (split on whitespace) and `${VAR}`,
 *   `$$` for a literal `$`, `%%` for `%`; prefixes `-@:+!` on the program.
 * Variables come from `Environment=` lines and from what the caller read out of
 * `EnvironmentFile=` files; a variable with no known value is left as written, with a note.
 */
import { basename } from 'node:path';
import type { DaemonConfig, DaemonKey } from './keys.js';
import { type ParsedCmdline, parseDockerdArgs, removeFlagsForKeys } from './cmdline.js';

/** A unit file or drop-in and its text. */
export interface UnitSource {
  path: string;
  text: string;
}

/** One `Key=value` line. */
export interface UnitAssignment {
  section: string;
  key: string;
  value: string;
  path: string;
  line: number;
}

export interface SystemdNote {
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
  path?: string;
  line?: number;
}

/** A word of an ExecStart line: its text as written and what it expands to. */
export interface CommandWord {
  raw: string;
  /** Usually one value; `$VAR` may give none or several. */
  values: string[];
  /** Set when the word could not be fully expanded (unknown variable or specifier). */
  unresolved?: boolean;
}

/** One command of ExecStart. */
export interface ExecCommand {
  /** `-`, `@`, `+`, `:`, `!`, `!!` as written before the program. */
  prefixes: string;
  /** The executable (without prefixes). */
  program: string;
  /** argv as the process sees it: argv[0] (the program, or the `@` override) then the arguments. */
  argv: string[];
  /** For each argv entry, the word it came from as written (undefined when a variable split it). */
  argvRaw: Array<string | undefined>;
  /** For each argv entry: a lone `$VAR` with no known value, kept literally. */
  argvUnresolved: boolean[];
  /** The program word as written, with its prefixes. */
  programRaw: string;
  path: string;
  line: number;
}

/** docker.service as systemd would load it. */
export interface EffectiveService {
  /** The effective ExecStart commands (normally exactly one). */
  execStart: ExecCommand[];
  /** Where each ExecStart came from, in order, including resets (`value` empty). */
  execStartHistory: UnitAssignment[];
  /** Variables from Environment= lines, merged over the caller's (EnvironmentFile) values. */
  environment: Record<string, string>;
  /** EnvironmentFile= entries, for the caller to read (`optional` for a leading `-`). */
  environmentFiles: Array<{ path: string; optional: boolean }>;
  /** Service Type= (default simple). */
  type: string;
  /** Files applied, in order: the unit, then the drop-ins. */
  applied: string[];
  notes: SystemdNote[];
}

/** Splits unit-file text into assignments, following continuation lines and sections. */
export function parseUnitFile(text: string, path: string): UnitAssignment[] {
  const out: UnitAssignment[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    if (trimmed.startsWith('[') && trimmed.endsWith(']')) {
      section = trimmed.slice(1, -1);
      continue;
    }
    // Continuations: the backslash becomes a space; comment lines in between are dropped.
    while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      line = `${line.trimEnd().slice(0, -1)} `;
      i++;
      while (i < lines.length && /^\s*[#;]/.test(lines[i]!)) i++;
      if (i < lines.length) line += lines[i]!;
    }
    if (line.trimEnd().endsWith('\\')) line = line.trimEnd().slice(0, -1);
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.push({
      section,
      key: line.slice(0, eq).trim(),
      value: line.slice(eq + 1).trim(),
      path,
      line: startLine,
    });
  }
  return out;
}

/** Parses an EnvironmentFile= file (`KEY=value` lines, `#` comments, optional quotes). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) {
      value = value.slice(1, -1);
    }
    env[m[1]!] = value;
  }
  return env;
}

export interface EffectiveServiceOptions {
  /** Values of variables read from EnvironmentFile= files (Environment= lines win over them). */
  env?: Record<string, string>;
}

/** Applies the unit and its drop-ins the way systemd does and returns the effective service. */
export function effectiveService(
  unit: UnitSource,
  dropIns: readonly UnitSource[] = [],
  options: EffectiveServiceOptions = {},
): EffectiveService {
  const notes: SystemdNote[] = [];
  const ordered = orderDropIns(dropIns, notes);
  const files = [unit, ...ordered];
  const assignments = files
    .flatMap((f) => parseUnitFile(f.text, f.path))
    .filter((a) => a.section === 'Service');

  const environment: Record<string, string> = { ...(options.env ?? {}) };
  const environmentFiles: Array<{ path: string; optional: boolean }> = [];
  let type = 'simple';
  for (const a of assignments) {
    if (a.key === 'Environment') {
      for (const word of splitWords(a.value)) {
        const eq = word.indexOf('=');
        if (eq > 0) environment[word.slice(0, eq)] = word.slice(eq + 1);
      }
    } else if (a.key === 'EnvironmentFile') {
      if (a.value === '') environmentFiles.length = 0;
      else environmentFiles.push({ path: a.value.replace(/^-/, ''), optional: a.value.startsWith('-') });
    } else if (a.key === 'Type') {
      type = a.value === '' ? 'simple' : a.value;
    }
  }

  const history = assignments.filter((a) => a.key === 'ExecStart');
  let execStart: ExecCommand[] = [];
  for (const a of history) {
    if (a.value === '') {
      execStart = [];
      continue;
    }
    execStart.push(...parseExecLine(a, environment, notes));
  }
  if (execStart.length > 1 && type !== 'oneshot') {
    const last = history.at(-1)!;
    notes.push({
      severity: 'error',
      code: 'execstart-not-reset',
      message: `docker.service has ${execStart.length} ExecStart= commands; systemd refuses to load a Type=${type} service with more than one. A drop-in that replaces ExecStart must first clear it with an empty "ExecStart=" line.`,
      path: last.path,
      line: last.line,
    });
  }
  if (execStart.length === 0) {
    notes.push({
      severity: 'error',
      code: 'execstart-missing',
      message: 'docker.service has no ExecStart= after its drop-ins',
    });
  }
  return {
    execStart,
    execStartHistory: history,
    environment,
    environmentFiles,
    type,
    applied: files.map((f) => f.path),
    notes,
  };
}

function orderDropIns(dropIns: readonly UnitSource[], notes: SystemdNote[]): UnitSource[] {
  const byName = new Map<string, UnitSource>();
  for (const d of dropIns) {
    const name = basename(d.path);
    if (!name.endsWith('.conf')) {
      notes.push({
        severity: 'info',
        code: 'dropin-ignored',
        message: `${d.path} is not a .conf file; systemd ignores it`,
        path: d.path,
      });
      continue;
    }
    const existing = byName.get(name);
    if (existing) {
      notes.push({
        severity: 'info',
        code: 'dropin-masked',
        message: `${d.path} is masked by ${existing.path} (same name, higher priority)`,
        path: d.path,
      });
      continue;
    }
    byName.set(name, d);
  }
  return [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

const PREFIX = /^(?:[-@:+]|!!?)+/;

function parseExecLine(a: UnitAssignment, env: Record<string, string>, notes: SystemdNote[]): ExecCommand[] {
  const words = splitCommandWords(a.value, env);
  const commands: ExecCommand[] = [];
  let current: CommandWord[] = [];
  const flush = (): void => {
    if (current.length > 0) commands.push(toCommand(current, a, notes));
    current = [];
  };
  for (const w of words) {
    if (w.raw === ';') flush();
    else current.push(w);
  }
  flush();
  for (const w of words) {
    if (w.unresolved) {
      notes.push({
        severity: 'warning',
        code: 'unresolved-variable',
        message: `ExecStart uses ${w.raw}, whose value is not known here; it is kept as written (if it holds flags such as -H they are not seen)`,
        path: a.path,
        line: a.line,
      });
    }
  }
  return commands;
}

function toCommand(words: CommandWord[], a: UnitAssignment, _notes: SystemdNote[]): ExecCommand {
  const first = words[0]!;
  const prefixes = PREFIX.exec(first.raw)?.[0] ?? '';
  const program = (first.values[0] ?? '').slice(prefixes.length);
  const rest = words.slice(1);
  const argv: string[] = [];
  const argvRaw: Array<string | undefined> = [];
  const argvUnresolved: boolean[] = [];
  if (prefixes.includes('@') && rest.length > 0) {
    // `@/usr/bin/dockerd name ...`: the second word is argv[0].
    const argv0 = rest.shift()!;
    argv.push(argv0.values[0] ?? '');
    argvRaw.push(argv0.raw);
  } else {
    argv.push(program);
    argvRaw.push(undefined);
  }
  argvUnresolved.push(false);
  for (const w of rest) {
    for (const v of w.values) {
      argv.push(v);
      // A word that gave one value can be written back as it was (variables and all).
      argvRaw.push(w.values.length === 1 ? w.raw : undefined);
      argvUnresolved.push(w.unresolved === true && /^\$(\{\w+\}|\w+)$/.test(w.raw));
    }
  }
  return {
    prefixes,
    program,
    argv,
    argvRaw,
    argvUnresolved,
    programRaw: first.raw,
    path: a.path,
    line: a.line,
  };
}

/** Splits an Environment= value into words (quotes removed, no variable expansion). */
function splitWords(value: string): string[] {
  return splitCommandWords(value, undefined).flatMap((w) => w.values);
}

const C_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  s: ' ',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/**
 * Splits a command line into words with systemd's quoting and escapes. With `env`, `$VAR` and
 * `${VAR}` are expanded; without it (Environment= values) `$` is literal.
 */
export function splitCommandWords(line: string, env: Record<string, string> | undefined): CommandWord[] {
  const words: CommandWord[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) break;
    const start = i;
    // A lone `$VAR` word expands to zero or more words (split on whitespace).
    if (env) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/.exec(line.slice(i));
      if (m) {
        i += m[0].length;
        const value = env[m[1]!];
        if (value === undefined) words.push({ raw: m[0], values: [m[0]], unresolved: true });
        else words.push({ raw: m[0], values: value.split(/\s+/).filter((v) => v !== '') });
        continue;
      }
    }
    let value = '';
    let unresolved = false;
    let quote: '"' | "'" | undefined;
    while (i < n) {
      const ch = line[i]!;
      if (!quote && /\s/.test(ch)) break;
      if (!quote && (ch === '"' || ch === "'")) {
        quote = ch;
        i++;
        continue;
      }
      if (quote && ch === quote) {
        quote = undefined;
        i++;
        continue;
      }
      if (ch === '\\' && i + 1 < n) {
        const next = line[i + 1]!;
        if (C_ESCAPES[next] !== undefined) {
          value += C_ESCAPES[next];
          i += 2;
          continue;
        }
        const hex = /^x([0-9a-fA-F]{2})/.exec(line.slice(i + 1));
        if (hex) {
          value += String.fromCharCode(Number.parseInt(hex[1]!, 16));
          i += 4;
          continue;
        }
        const oct = /^([0-7]{3})/.exec(line.slice(i + 1));
        if (oct) {
          value += String.fromCharCode(Number.parseInt(oct[1]!, 8));
          i += 4;
          continue;
        }
        value += next;
        i += 2;
        continue;
      }
      if (env && ch === '$') {
        if (line[i + 1] === '$') {
          value += '$';
          i += 2;
          continue;
        }
        const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(line.slice(i));
        if (braced) {
          const v = env[braced[1]!];
          if (v === undefined) unresolved = true;
          value += v ?? braced[0];
          i += braced[0].length;
          continue;
        }
      }
      if (ch === '%' && line[i + 1] === '%') {
        value += '%';
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    words.push({ raw: line.slice(start, i), values: [value], ...(unresolved ? { unresolved: true } : {}) });
  }
  return words;
}

/**
 * The dockerd argv of a command, without lone `$VAR` words whose value is unknown (they would
 * read as stray arguments), and for each entry its index in `cmd.argv`.
 */
export function dockerdArgv(cmd: ExecCommand): { argv: string[]; origin: number[] } {
  const argv: string[] = [];
  const origin: number[] = [];
  cmd.argv.forEach((word, k) => {
    if (cmd.argvUnresolved[k]) return;
    argv.push(word);
    origin.push(k);
  });
  return { argv, origin };
}

/** Parses the effective ExecStart of docker.service as a dockerd command line. */
export function dockerdCommandLine(
  service: EffectiveService,
  engineMajor?: number,
): ParsedCmdline | undefined {
  const cmd = service.execStart.at(-1);
  if (!cmd) return undefined;
  return parseDockerdArgs(dockerdArgv(cmd).argv, engineMajor === undefined ? {} : { engineMajor });
}

/** Quotes a word for an ExecStart line when it needs it. */
export function quoteExecWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@+=:,./-]+$/.test(word)) return word;
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%');
  return `"${escaped}"`;
}

/** The drop-in that moves conflicting flags out of ExecStart. */
export interface FlagRemovalDropIn {
  /** False when the command line sets none of the keys: nothing to write. */
  needed: boolean;
  /** Drop-in file name (`90-dockward-hosts.conf`), to go in `docker.service.d/`. */
  fileName: string;
  /** Full text of the drop-in. */
  content: string;
  /** The new ExecStart line (without `ExecStart=`). */
  execStart: string;
  /** The flags taken out, as written (`-H fd://`). */
  removedFlags: string[];
  /** True when re-reading the unit with the drop-in shows the keys no longer set by flags. */
  verified: boolean;
  notes: string[];
}

export interface FlagRemovalOptions {
  /** Keys whose flags must leave the command line (default: `hosts`). */
  keys?: readonly DaemonKey[];
  /** The candidate daemon.json, for notes (e.g. socket activation). */
  config?: DaemonConfig;
  /** Drop-in file name (default 90-dockward-hosts.conf; moved later when needed). */
  fileName?: string;
  engineMajor?: number;
}

/**
 * The documented fix when daemon.json sets `hosts` and ExecStart passes `-H`: a drop-in with an
 * empty `ExecStart=` then the same command without `-H/--host` (every other flag kept, e.g.
 * `--containerd=...`). Works on any keys, e.g. to move `--tlsverify` out when the file sets it.
 */
export function planFlagRemovalDropIn(
  unit: UnitSource,
  dropIns: readonly UnitSource[],
  options: FlagRemovalOptions & EffectiveServiceOptions = {},
): FlagRemovalDropIn {
  const keys = options.keys ?? ['hosts'];
  const service = effectiveService(unit, dropIns, options);
  const cmd = service.execStart.at(-1);
  const notes: string[] = [];
  const empty: FlagRemovalDropIn = {
    needed: false,
    fileName: '',
    content: '',
    execStart: '',
    removedFlags: [],
    verified: true,
    notes,
  };
  if (!cmd) {
    notes.push('docker.service has no ExecStart; nothing to rewrite');
    return empty;
  }
  const { argv, origin } = dockerdArgv(cmd);
  const parsed = parseDockerdArgs(
    argv,
    options.engineMajor === undefined ? {} : { engineMajor: options.engineMajor },
  );
  const removed = parsed.occurrences.filter((o) => o.key !== undefined && keys.includes(o.key));
  if (removed.length === 0) return empty;
  if (service.execStart.length > 1) {
    notes.push(
      `docker.service has ${service.execStart.length} ExecStart commands (systemd refuses that); the drop-in keeps only the last one, from ${cmd.path}`,
    );
  }

  const kept = removeFlagsForKeys(parsed, keys);
  // Reuse each kept word exactly as written; put unknown `$VAR` words back where they were.
  const words = [cmd.programRaw];
  if (cmd.prefixes.includes('@')) words.push(cmd.argvRaw[0] ?? quoteExecWord(cmd.argv[0] ?? ''));
  let nextOriginal = 1;
  const flushUnresolvedBefore = (limit: number): void => {
    for (; nextOriginal < limit; nextOriginal++) {
      if (cmd.argvUnresolved[nextOriginal]) words.push(cmd.argvRaw[nextOriginal]!);
    }
  };
  for (const w of kept) {
    const original = w.index === undefined ? undefined : origin[w.index + 1];
    if (original !== undefined) {
      flushUnresolvedBefore(original);
      nextOriginal = original + 1;
    }
    words.push((original === undefined ? undefined : cmd.argvRaw[original]) ?? quoteExecWord(w.word));
  }
  flushUnresolvedBefore(cmd.argv.length);
  const execStart = words.join(' ');
  const removedFlags = removed.map((o) =>
    typeof o.value === 'boolean' ? o.spelled : `${o.spelled} ${o.value}`,
  );

  let fileName = options.fileName ?? `90-dockward-${keys.join('-')}.conf`;
  const later = dropIns.filter((d) => basename(d.path) > fileName && /^\s*ExecStart\s*=/m.test(d.text));
  if (later.length > 0 && options.fileName === undefined) {
    // A drop-in sorting after ours would set ExecStart again: name ours to sort after all of them.
    fileName = `zz-dockward-${keys.join('-')}.conf`;
    notes.push(`named ${fileName} so it applies after ${later.map((d) => basename(d.path)).join(', ')}`);
  }
  const content = `[Service]\nExecStart=\nExecStart=${execStart}\n`;

  const after = effectiveService(
    unit,
    [...dropIns, { path: `docker.service.d/${fileName}`, text: content }],
    options,
  );
  const check = dockerdCommandLine(after, options.engineMajor);
  const verified =
    check !== undefined && !check.keys.some((k) => keys.includes(k)) && after.execStart.length === 1;

  if (keys.includes('hosts') && removed.some((o) => String(o.value).startsWith('fd://'))) {
    const hosts = options.config?.hosts ?? [];
    if (!hosts.some((h) => h.startsWith('fd://'))) {
      notes.push(
        'ExecStart used socket activation (-H fd://); with it gone, docker.socket no longer hands its socket to dockerd. Add "fd://" to hosts to keep it, or disable docker.socket.',
      );
    }
  }
  return { needed: true, fileName, content, execStart, removedFlags, verified, notes };
}

/**
 * A dockerd command line (systemd `ExecStart=`, `/proc/<pid>/cmdline`) parsed into the daemon.json
 * key space, following spf13/pflag's rules as dockerd uses them:
 * - `--name=value` and `--name value` (the next word is taken even if it starts with `-`);
 * - boolean flags take no separate word: `--icc`, `--icc=false`;
 * - one-letter flags: `-H fd://`, `-Hfd://`, `-H=fd://`, and grouped booleans `-Dl debug`;
 * - `--` ends the flags.
 * Unknown flags are reported (dockerd itself would refuse to start) and parsing goes on; an
 * unknown flag never takes the next word, since its arity is unknown.
 */
import { closestName } from '../text/closest-name.js';
import {
  DAEMON_KEYS,
  DEFAULT_ENGINE_MAJOR,
  type DaemonConfig,
  type DaemonKey,
  type FlagSpec,
  type KeySpec,
  allFlagNames,
  findFlag,
} from './keys.js';

/** One flag as it appeared on the command line. */
export interface FlagOccurrence {
  /** Long flag name (`host`). */
  flag: string;
  /** As written (`-H`, `--host`). */
  spelled: string;
  /** The daemon.json key it sets (absent for `--config-file` and other flag-only flags). */
  key?: DaemonKey;
  /** For `--http-proxy` & co: the field under `proxies`. */
  subKey?: string;
  /** The value given (`true`/`false` for boolean flags). */
  value: string | boolean;
  /** Index in argv of the word where the flag starts. */
  index: number;
  /** How many words the flag used (1, or 2 for `--flag value`). */
  words: number;
  /** Set when the flag shared its word with other one-letter flags (`-DH fd://`). */
  grouped?: boolean;
}

export type CmdlineIssueCode =
  | 'unknown-flag'
  | 'missing-value'
  | 'invalid-value'
  | 'positional-argument'
  | 'flag-too-new'
  | 'flag-removed'
  | 'flag-repeated';

export interface CmdlineIssue {
  code: CmdlineIssueCode;
  severity: 'error' | 'warning';
  /** The word concerned. */
  arg: string;
  index: number;
  message: string;
  suggestion?: string;
}

/** A parsed dockerd command line. */
export interface ParsedCmdline {
  /** argv[0] (empty when the caller passed flags only). */
  program: string;
  /** The words parsed (argv without argv[0]). */
  args: string[];
  occurrences: FlagOccurrence[];
  /** The values the flags set, in daemon.json shape (`-H` → hosts, `--log-opt` → log-opts). */
  config: DaemonConfig;
  /** Keys set by flags, in first-seen order. */
  keys: DaemonKey[];
  /** `--config-file`, when given. */
  configFile?: string;
  issues: CmdlineIssue[];
}

export interface CmdlineOptions {
  /** argv[0] is the program (default true, as in ExecStart and /proc/<pid>/cmdline). */
  withProgram?: boolean;
  /** dockerd major version (default 28): flags it lacks are errors. */
  engineMajor?: number;
}

/** Splits `/proc/<pid>/cmdline` content (NUL-separated, trailing NUL) into argv. */
export function splitProcCmdline(data: string | Uint8Array): string[] {
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Go's strconv.ParseBool, which pflag uses for `--flag=value`. */
export function parseGoBool(value: string): boolean | undefined {
  if (TRUE_WORDS.has(value)) return true;
  if (FALSE_WORDS.has(value)) return false;
  return undefined;
}

/** Parses a dockerd argv into the key space; never throws. */
export function parseDockerdArgs(argv: readonly string[], options: CmdlineOptions = {}): ParsedCmdline {
  const withProgram = options.withProgram ?? true;
  const engine = options.engineMajor ?? DEFAULT_ENGINE_MAJOR;
  const program = withProgram ? (argv[0] ?? '') : '';
  const args = withProgram ? argv.slice(1) : [...argv];
  const result: ParsedCmdline = { program, args, occurrences: [], config: {}, keys: [], issues: [] };
  const config = result.config as Record<string, unknown>;
  const seenFlags = new Map<string, FlagOccurrence>();

  const record = (
    spec: FlagSpec,
    spelled: string,
    value: string | boolean,
    index: number,
    words: number,
    grouped: boolean,
  ): void => {
    const key = resolveKey(spec, engine);
    const occ: FlagOccurrence = {
      flag: spec.name,
      spelled,
      ...(key ? { key } : {}),
      ...(spec.subKey ? { subKey: spec.subKey } : {}),
      value,
      index,
      words,
      ...(grouped ? { grouped: true } : {}),
    };
    const arg = args[index] ?? spelled;
    if (spec.since !== undefined && engine < spec.since) {
      result.issues.push({
        code: 'flag-too-new',
        severity: 'error',
        arg,
        index,
        message: `${spelled} needs dockerd ${spec.since} or newer (this is dockerd ${engine})`,
      });
    }
    if (spec.removedIn !== undefined && engine >= spec.removedIn) {
      result.issues.push({
        code: 'flag-removed',
        severity: 'error',
        arg,
        index,
        message: `${spelled} was removed in dockerd ${spec.removedIn}${key ? `; use --${(DAEMON_KEYS[key] as KeySpec).flag ?? key}` : ''}`,
      });
    }
    if (!spec.repeatable && seenFlags.has(spec.name)) {
      result.issues.push({
        code: 'flag-repeated',
        severity: 'warning',
        arg,
        index,
        message: `${spelled} is given more than once; dockerd keeps the last value`,
      });
    }
    seenFlags.set(spec.name, occ);
    result.occurrences.push(occ);
    if (spec.name === 'config-file' && typeof value === 'string') result.configFile = value;
    if (!key) return;
    const problem = applyFlagValue(config, key, spec, value);
    if (problem) {
      result.issues.push({
        code: 'invalid-value',
        severity: 'error',
        arg,
        index,
        message: `${spelled}: ${problem}`,
      });
      return;
    }
    if (!result.keys.includes(key)) result.keys.push(key);
  };

  const unknown = (name: string, spelled: string, index: number): void => {
    const suggestion = closestName(name, allFlagNames());
    result.issues.push({
      code: 'unknown-flag',
      severity: 'error',
      arg: args[index] ?? spelled,
      index,
      message: `unknown flag ${spelled}${suggestion ? ` (did you mean --${suggestion}?)` : ''}; dockerd refuses to start with it`,
      ...(suggestion ? { suggestion } : {}),
    });
  };

  let i = 0;
  while (i < args.length) {
    const word = args[i]!;
    if (word === '--') {
      for (let j = i + 1; j < args.length; j++) positional(result, args[j]!, j);
      break;
    }
    if (word.startsWith('--')) {
      const body = word.slice(2);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const inline = eq < 0 ? undefined : body.slice(eq + 1);
      const spec = name.length > 1 ? findFlag(name) : undefined;
      if (!spec) {
        unknown(name, `--${name}`, i);
        i++;
        continue;
      }
      if (spec.bool) {
        const value = inline === undefined ? true : parseGoBool(inline);
        if (value === undefined) {
          result.issues.push({
            code: 'invalid-value',
            severity: 'error',
            arg: word,
            index: i,
            message: `--${name} takes true or false, found "${inline}"`,
          });
        } else {
          record(spec, `--${name}`, value, i, 1, false);
        }
        i++;
        continue;
      }
      if (inline !== undefined) {
        record(spec, `--${name}`, inline, i, 1, false);
        i++;
        continue;
      }
      if (i + 1 >= args.length) {
        result.issues.push({
          code: 'missing-value',
          severity: 'error',
          arg: word,
          index: i,
          message: `--${name} needs a value`,
        });
        i++;
        continue;
      }
      record(spec, `--${name}`, args[i + 1]!, i, 2, false);
      i += 2;
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      i += parseShortGroup(word, i);
      continue;
    }
    positional(result, word, i);
    i++;
  }
  return result;

  /** Parses `-abc` starting at argv index `index`; returns how many words it used. */
  function parseShortGroup(word: string, index: number): number {
    const letters = word.slice(1);
    const grouped = letters.length > 1;
    for (let k = 0; k < letters.length; k++) {
      const letter = letters[k]!;
      const spec = findFlag(letter);
      if (!spec) {
        unknown(letter, `-${letter}`, index);
        return 1;
      }
      const restOfWord = letters.slice(k + 1);
      if (spec.bool) {
        if (restOfWord.startsWith('=')) {
          const value = parseGoBool(restOfWord.slice(1));
          if (value === undefined) {
            result.issues.push({
              code: 'invalid-value',
              severity: 'error',
              arg: word,
              index,
              message: `-${letter} takes true or false, found "${restOfWord.slice(1)}"`,
            });
          } else {
            record(spec, `-${letter}`, value, index, 1, grouped);
          }
          return 1;
        }
        record(spec, `-${letter}`, true, index, 1, grouped);
        continue;
      }
      if (restOfWord !== '') {
        record(spec, `-${letter}`, restOfWord.replace(/^=/, ''), index, 1, grouped);
        return 1;
      }
      if (index + 1 >= args.length) {
        result.issues.push({
          code: 'missing-value',
          severity: 'error',
          arg: word,
          index,
          message: `-${letter} needs a value`,
        });
        return 1;
      }
      record(spec, `-${letter}`, args[index + 1]!, index, 2, grouped);
      return 2;
    }
    return 1;
  }
}

function positional(result: ParsedCmdline, word: string, index: number): void {
  result.issues.push({
    code: 'positional-argument',
    severity: 'error',
    arg: word,
    index,
    message: `unexpected argument "${word}": dockerd takes flags only`,
  });
}

/** `--host-gateway-ip` feeds the list key from dockerd 28 on, the single legacy key before. */
function resolveKey(spec: FlagSpec, engine: number): DaemonKey | undefined {
  if (spec.key === 'host-gateway-ips' && engine < 28) return 'host-gateway-ip';
  return spec.key;
}

/** Adds one flag value to the config; returns a problem description or undefined. */
function applyFlagValue(
  config: Record<string, unknown>,
  key: DaemonKey,
  spec: FlagSpec,
  value: string | boolean,
): string | undefined {
  const keySpec: KeySpec = DAEMON_KEYS[key];
  if (spec.subKey) {
    const proxies = (config[key] ?? {}) as Record<string, string>;
    proxies[spec.subKey] = String(value);
    config[key] = proxies;
    return undefined;
  }
  const type = keySpec.type;
  switch (type.kind) {
    case 'bool':
      config[key] = value === true;
      return undefined;
    case 'int': {
      const text = String(value).trim();
      if (!/^-?\d+$/.test(text)) return `expected an integer, found "${value}"`;
      config[key] = Number(text);
      return undefined;
    }
    case 'string':
    case 'bytes':
      config[key] = String(value);
      return undefined;
    case 'list':
    case 'map':
    case 'object':
      return addRepeatable(config, key, keySpec, String(value));
  }
}

function addRepeatable(
  config: Record<string, unknown>,
  key: DaemonKey,
  spec: KeySpec,
  value: string,
): string | undefined {
  const [left, right] = splitOnce(value, '=');
  switch (spec.flagFormat) {
    case 'key-value': {
      if (right === undefined) return `expected key=value, found "${value}"`;
      const map = (config[key] ?? {}) as Record<string, string>;
      map[left] = right;
      config[key] = map;
      return undefined;
    }
    case 'driver-key-value': {
      const [optKey, optValue] = right === undefined ? ['', undefined] : splitOnce(right, '=');
      if (right === undefined || optValue === undefined || optKey === '')
        return `expected driver=key=value, found "${value}"`;
      const map = (config[key] ?? {}) as Record<string, Record<string, string>>;
      map[left] = { ...(map[left] ?? {}), [optKey]: optValue };
      config[key] = map;
      return undefined;
    }
    case 'ulimit': {
      const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(value);
      if (!m) return `expected name=soft[:hard], found "${value}"`;
      const soft = Number(m[2]);
      const hard = m[3] === undefined ? soft : Number(m[3]);
      const map = (config[key] ?? {}) as Record<string, unknown>;
      map[m[1]!] = { Name: m[1], Hard: hard, Soft: soft };
      config[key] = map;
      return undefined;
    }
    case 'runtime': {
      if (right === undefined || left === '' || right === '') return `expected name=path, found "${value}"`;
      const map = (config[key] ?? {}) as Record<string, unknown>;
      map[left] = { path: right };
      config[key] = map;
      return undefined;
    }
    case 'feature': {
      const enabled = right === undefined ? true : parseGoBool(right);
      if (enabled === undefined || left === '') return `expected name or name=true|false, found "${value}"`;
      const map = (config[key] ?? {}) as Record<string, boolean>;
      map[left] = enabled;
      config[key] = map;
      return undefined;
    }
    case 'address-pool': {
      const fields = Object.fromEntries(value.split(',').map((part) => splitOnce(part.trim(), '=')));
      const size = Number(fields['size']);
      if (!fields['base'] || !Number.isInteger(size)) return `expected base=CIDR,size=N, found "${value}"`;
      const list = (config[key] ?? []) as unknown[];
      list.push({ base: fields['base'], size });
      config[key] = list;
      return undefined;
    }
    default: {
      if (spec.type.kind !== 'list') return `cannot be given on the command line`;
      const list = (config[key] ?? []) as string[];
      list.push(value);
      config[key] = list;
      return undefined;
    }
  }
}

function splitOnce(value: string, sep: string): [string, string | undefined] {
  const i = value.indexOf(sep);
  return i < 0 ? [value, undefined] : [value.slice(0, i), value.slice(i + 1)];
}

/** A word of a rewritten command line; `index` is set when it is an original word kept as is. */
export interface KeptWord {
  word: string;
  index?: number;
}

/**
 * The command line again without the flags that set the given keys, every other word kept (with
 * its original index, so a caller can reuse the word exactly as it was written).
 */
export function removeFlagsForKeys(parsed: ParsedCmdline, keys: readonly DaemonKey[]): KeptWord[] {
  const drop = new Set(keys);
  const out: KeptWord[] = [];
  const byIndex = new Map<number, FlagOccurrence[]>();
  for (const occ of parsed.occurrences) {
    const list = byIndex.get(occ.index) ?? [];
    list.push(occ);
    byIndex.set(occ.index, list);
  }
  let i = 0;
  while (i < parsed.args.length) {
    const occs = byIndex.get(i);
    if (!occs) {
      out.push({ word: parsed.args[i]!, index: i });
      i++;
      continue;
    }
    const words = Math.max(...occs.map((o) => o.words));
    const removed = occs.filter((o) => o.key !== undefined && drop.has(o.key));
    if (removed.length === 0) {
      for (let k = i; k < i + words; k++) out.push({ word: parsed.args[k]!, index: k });
    } else if (removed.length < occs.length) {
      // A grouped word like `-DH fd://`: keep the other letters, each on its own.
      for (const occ of occs) {
        if (occ.key !== undefined && drop.has(occ.key)) continue;
        out.push({ word: typeof occ.value === 'boolean' ? occ.spelled : `${occ.spelled}=${occ.value}` });
      }
    }
    i += words;
  }
  return out;
}

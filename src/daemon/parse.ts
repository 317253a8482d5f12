/**
 * Reading daemon.json the way dockerd reads it, but reporting every problem at once, each with
 * its line and column, instead of dockerd's first fatal error at start-up.
 *
 * Two entry points:
 * - `analyzeDaemonJson` never throws: it returns the config (as far as it could be read) and
 *   every issue, errors and warnings, for `daemon validate` and the checks.
 * - `parseDaemonJson` throws one `DaemonConfigError` (code DW_E_INPUT) listing all errors, for
 *   callers that need a usable config or nothing.
 */
import { closestName } from '../text/closest-name.js';
import { isIP } from 'node:net';
import { DockwardError } from '../errors.js';
import {
  DAEMON_KEYS,
  DEFAULT_ENGINE_MAJOR,
  type DaemonConfig,
  type DaemonKey,
  describeSpec,
  ignoredFlagNameKey,
  isDaemonKey,
  type KeySpec,
  LEGACY_KEYS,
  suggestKey,
  type ValueSpec,
} from './keys.js';
import {
  type JsonNode,
  JsonSyntaxError,
  jsonTypeName,
  parseJsonTree,
  type TextPosition,
  toPlainValue,
} from './json-tree.js';
import { parseDaemonHost } from './hosts.js';

/** Stable ids of the problems parsing can find. */
export type DaemonJsonIssueCode =
  | 'encoding'
  | 'json-syntax'
  | 'root-not-object'
  | 'unknown-key'
  | 'key-ignored'
  | 'key-too-new'
  | 'key-removed'
  | 'key-deprecated'
  | 'duplicate-key'
  | 'wrong-type'
  | 'invalid-value'
  | 'unknown-field'
  | 'null-value';

/** One problem in a daemon.json. */
export interface DaemonJsonIssue {
  code: DaemonJsonIssueCode;
  severity: 'error' | 'warning';
  /** Dotted path of the value (`log-opts.max-size`), empty for the whole file. */
  path: string;
  line?: number;
  column?: number;
  message: string;
  hint?: string;
  /** For unknown keys: the closest known key. */
  suggestion?: string;
}

export interface DaemonJsonOptions {
  /** Where the text came from, for messages (default `daemon.json`). */
  source?: string;
  /** dockerd major version that will read the file (default 28): keys it lacks are errors. */
  engineMajor?: number;
}

/** What `analyzeDaemonJson` found. */
export interface DaemonJsonAnalysis {
  /** True when dockerd would accept the file (no error-severity issue). */
  ok: boolean;
  /** The decoded config; with errors, only the keys that could be read correctly. */
  config: DaemonConfig;
  /** Top-level keys in file order (duplicates once, at their first place). */
  keyOrder: string[];
  issues: DaemonJsonIssue[];
  /** The position of each top-level key, for tools that point into the file. */
  keyPositions: Record<string, TextPosition>;
}

/** A parsed daemon.json that dockerd would accept. */
export interface ParsedDaemonJson {
  config: DaemonConfig;
  keyOrder: string[];
  /** Warnings only (errors were thrown). */
  warnings: DaemonJsonIssue[];
}

/** A DW_E_INPUT error that carries every issue found, for `--json` output. */
export class DaemonConfigError extends DockwardError {
  readonly issues: DaemonJsonIssue[];
  readonly source: string;
  constructor(source: string, issues: DaemonJsonIssue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    const first = errors[0];
    const message =
      errors.length === 1 && first
        ? `${source}${where(first, ', ')}: ${first.message}`
        : `${source} has ${errors.length} problems:\n${errors.map((i) => `  ${where(i, '').replace(/^$/, 'file')}: ${i.message}`).join('\n')}`;
    super('DW_E_INPUT', message, {
      hint: first?.hint ?? 'Fix daemon.json; dockerd refuses to start with it as it is.',
    });
    this.name = 'DaemonConfigError';
    this.issues = issues;
    this.source = source;
  }
}

function where(issue: DaemonJsonIssue, prefix: string): string {
  return issue.line === undefined ? '' : `${prefix}line ${issue.line}, column ${issue.column}`;
}

/**
 * Decodes daemon.json bytes the way dockerd does: a UTF-8 BOM is dropped, a UTF-16 BOM selects
 * UTF-16 (what Windows PowerShell writes), anything else must be valid UTF-8.
 */
export function decodeDaemonJsonBytes(data: Uint8Array): string {
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) return utf8(data.subarray(3));
  if (data[0] === 0xff && data[1] === 0xfe) return new TextDecoder('utf-16le').decode(data.subarray(2));
  if (data[0] === 0xfe && data[1] === 0xff) return new TextDecoder('utf-16be').decode(data.subarray(2));
  return utf8(data);
}

function utf8(data: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `daemon.json is not valid UTF-8 (at byte ${firstBadUtf8(data)})`, {
      hint: 'Save the file as UTF-8.',
      cause: err,
    });
  }
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence. */
function firstBadUtf8(data: Uint8Array): number {
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    const len =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > data.length) return i;
    for (let k = 1; k < len; k++) if ((data[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return i;
}

/** Reads daemon.json text or bytes and reports every issue; never throws for bad content. */
export function analyzeDaemonJson(
  input: string | Uint8Array,
  options: DaemonJsonOptions = {},
): DaemonJsonAnalysis {
  const engine = options.engineMajor ?? DEFAULT_ENGINE_MAJOR;
  const issues: DaemonJsonIssue[] = [];
  const empty = (): DaemonJsonAnalysis => ({
    ok: !issues.some((i) => i.severity === 'error'),
    config: {},
    keyOrder: [],
    issues,
    keyPositions: {},
  });

  let text: string;
  try {
    text = typeof input === 'string' ? input : decodeDaemonJsonBytes(input);
  } catch (err) {
    issues.push({
      code: 'encoding',
      severity: 'error',
      path: '',
      message: (err as Error).message,
      hint: 'Save the file as UTF-8.',
    });
    return empty();
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  // dockerd trims whitespace and treats an empty file as an empty configuration.
  if (text.trim() === '') return empty();

  let root: JsonNode;
  try {
    root = parseJsonTree(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    issues.push({
      code: 'json-syntax',
      severity: 'error',
      path: '',
      line: err.pos.line,
      column: err.pos.column,
      message: `invalid JSON: ${err.message}`,
      hint: 'daemon.json is strict JSON: double quotes, no comments, no trailing commas.',
    });
    return empty();
  }
  if (root.kind !== 'object') {
    issues.push({
      code: 'root-not-object',
      severity: 'error',
      path: '',
      line: root.pos.line,
      column: root.pos.column,
      message: `the top level must be a JSON object ({ ... }), found ${jsonTypeName(root)}`,
      hint: 'Wrap the settings in { }.',
    });
    return empty();
  }

  const config: Record<string, unknown> = {};
  const keyOrder: string[] = [];
  const keyPositions: Record<string, TextPosition> = {};
  const seen = new Set<string>();
  const lastIndex = new Map<string, number>();
  root.entries.forEach((entry, index) => {
    lastIndex.set(entry.key, index);
  });

  root.entries.forEach((entry, index) => {
    const { key, keyPos, value } = entry;
    const at = { line: keyPos.line, column: keyPos.column };
    if (seen.has(key)) {
      issues.push({
        code: 'duplicate-key',
        severity: 'warning',
        path: key,
        ...at,
        message: `"${key}" appears more than once; dockerd uses the last one`,
        hint: 'Keep one entry per key.',
      });
    } else {
      seen.add(key);
      keyOrder.push(key);
      keyPositions[key] = keyPos;
    }
    if (lastIndex.get(key) !== index) return; // only the last duplicate counts

    if (!isDaemonKey(key)) {
      issues.push(unknownKeyIssue(key, keyPos, engine));
      return;
    }
    const spec: KeySpec = DAEMON_KEYS[key];
    if (spec.since !== undefined && engine < spec.since) {
      issues.push({
        code: 'key-too-new',
        severity: 'error',
        path: key,
        ...at,
        message: `"${key}" needs dockerd ${spec.since} or newer; dockerd ${engine} refuses the file`,
        hint: `Remove "${key}" or upgrade Docker Engine.`,
      });
      return;
    }
    if (spec.removedIn !== undefined && engine >= spec.removedIn) {
      issues.push({
        code: 'key-removed',
        severity: 'error',
        path: key,
        ...at,
        message: `"${key}" was removed in dockerd ${spec.removedIn}${spec.deprecated ? ` (${spec.deprecated})` : ''}`,
        hint: `Remove "${key}".`,
      });
      return;
    }
    if (spec.deprecated) {
      issues.push({
        code: 'key-deprecated',
        severity: 'warning',
        path: key,
        ...at,
        message: `"${key}" is deprecated: ${spec.deprecated}`,
      });
    }
    if (spec.ignoredInFile) {
      issues.push({
        code: 'key-ignored',
        severity: 'warning',
        path: key,
        ...at,
        message: `"${key}" has no effect in daemon.json: ${spec.ignoredInFile}`,
      });
    }
    if (value.kind === 'null') {
      // Go leaves the field unset, but the key still counts as "set" for flag conflicts.
      issues.push({
        code: 'null-value',
        severity: 'warning',
        path: key,
        ...at,
        message: `"${key}" is null: dockerd ignores the value but still counts the key as set (it conflicts with a ${key} flag)`,
        hint: `Remove "${key}" instead of setting it to null.`,
      });
      return;
    }
    const before = issues.filter((i) => i.severity === 'error').length;
    checkValue(value, spec.type, key, issues);
    checkKeySemantics(key as DaemonKey, value, issues);
    if (issues.filter((i) => i.severity === 'error').length === before) config[key] = toPlainValue(value);
  });

  if (seen.has('host-gateway-ip') && seen.has('host-gateway-ips')) {
    const pos = keyPositions['host-gateway-ip']!;
    issues.push({
      code: 'invalid-value',
      severity: 'error',
      path: 'host-gateway-ip',
      line: pos.line,
      column: pos.column,
      message: '"host-gateway-ip" and "host-gateway-ips" must not both be set',
      hint: 'Keep only "host-gateway-ips".',
    });
  }

  return {
    ok: !issues.some((i) => i.severity === 'error'),
    config: config as DaemonConfig,
    keyOrder,
    issues,
    keyPositions,
  };
}

/** Parses daemon.json; throws DaemonConfigError (DW_E_INPUT) listing every error. */
export function parseDaemonJson(
  input: string | Uint8Array,
  options: DaemonJsonOptions = {},
): ParsedDaemonJson {
  const analysis = analyzeDaemonJson(input, options);
  if (!analysis.ok) throw new DaemonConfigError(options.source ?? 'daemon.json', analysis.issues);
  return {
    config: analysis.config,
    keyOrder: analysis.keyOrder,
    warnings: analysis.issues.filter((i) => i.severity === 'warning'),
  };
}

/** daemon.json as dockward writes it: 2-space JSON and a trailing newline. */
export function serializeDaemonJson(config: DaemonConfig | Record<string, unknown>): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

function unknownKeyIssue(key: string, pos: TextPosition, engine: number): DaemonJsonIssue {
  const at = { line: pos.line, column: pos.column };
  const legacy = LEGACY_KEYS[key];
  if (legacy) {
    if (engine >= legacy.removedIn) {
      return {
        code: 'key-removed',
        severity: 'error',
        path: key,
        ...at,
        message: `"${key}" was removed in dockerd ${legacy.removedIn}; the key is now "${legacy.key}"`,
        hint: `Rename "${key}" to "${legacy.key}".`,
        suggestion: legacy.key,
      };
    }
    return {
      code: 'key-deprecated',
      severity: 'warning',
      path: key,
      ...at,
      message: `"${key}" is deprecated; use "${legacy.key}"`,
      suggestion: legacy.key,
    };
  }
  const ignored = ignoredFlagNameKey(key);
  if (ignored) {
    return {
      code: 'key-ignored',
      severity: 'warning',
      path: key,
      ...at,
      message: ignored.why,
      ...(ignored.meant ? { hint: `Rename "${key}" to "${ignored.meant}".`, suggestion: ignored.meant } : {}),
    };
  }
  const suggestion = suggestKey(key);
  return {
    code: 'unknown-key',
    severity: 'error',
    path: key,
    ...at,
    message: `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; dockerd refuses to start with it`,
    hint: suggestion
      ? `Rename "${key}" to "${suggestion}".`
      : `Remove "${key}"; see \`dockward daemon show --keys\` for the keys dockerd knows.`,
    ...(suggestion ? { suggestion } : {}),
  };
}

function wrongType(node: JsonNode, spec: ValueSpec, path: string): DaemonJsonIssue {
  return {
    code: 'wrong-type',
    severity: 'error',
    path,
    line: node.pos.line,
    column: node.pos.column,
    message: `${path} must be ${describeSpec(spec)}, found ${foundDescription(node)}`,
    ...(spec.kind === 'string' && (node.kind === 'number' || node.kind === 'bool')
      ? {
          hint: `Quote the value: "${path.split('.').pop()}": "${node.kind === 'number' ? node.raw : node.value}".`,
        }
      : {}),
  };
}

function foundDescription(node: JsonNode): string {
  if (node.kind === 'number') return `number ${node.raw}`;
  if (node.kind === 'bool') return `boolean ${node.value}`;
  if (node.kind === 'string') return `string ${JSON.stringify(node.value)}`;
  return jsonTypeName(node);
}

const SIZE = /^\s*\d+(\.\d+)?\s*([kmgtp]?i?b?)?\s*$/i;

/** Type-checks a value against its spec, recursing into lists, maps and objects. */
function checkValue(node: JsonNode, spec: ValueSpec, path: string, issues: DaemonJsonIssue[]): void {
  const at = { line: node.pos.line, column: node.pos.column };
  if (node.kind === 'null') {
    issues.push({
      code: 'null-value',
      severity: 'warning',
      path,
      ...at,
      message: `${path} is null and is ignored`,
    });
    return;
  }
  switch (spec.kind) {
    case 'bool':
      if (node.kind !== 'bool') issues.push(wrongType(node, spec, path));
      return;
    case 'string':
      if (node.kind !== 'string') {
        issues.push(wrongType(node, spec, path));
        return;
      }
      if (spec.enum) {
        // dockerd lower-cases the log level before checking it; every other enum is exact.
        const value = path === 'log-level' ? node.value.toLowerCase() : node.value;
        // An empty string means "dockerd's default", as in the documented sample file.
        if (value !== '' && !spec.enum.includes(value)) {
          issues.push({
            code: 'invalid-value',
            severity: 'error',
            path,
            ...at,
            message: `${path} must be ${describeSpec(spec)}, found ${JSON.stringify(node.value)}`,
          });
        }
      }
      return;
    case 'int':
      if (node.kind !== 'number' || !/^-?\d+$/.test(node.raw)) issues.push(wrongType(node, spec, path));
      return;
    case 'bytes':
      if (
        node.kind === 'number' ? !/^\d+$/.test(node.raw) : node.kind !== 'string' || !SIZE.test(node.value)
      ) {
        issues.push(
          node.kind === 'string'
            ? {
                code: 'invalid-value',
                severity: 'error',
                path,
                ...at,
                message: `${path} must be a size like "64m" or "1g", found ${JSON.stringify(node.value)}`,
              }
            : wrongType(node, spec, path),
        );
      }
      return;
    case 'list':
      if (node.kind !== 'array') {
        issues.push({
          ...wrongType(node, spec, path),
          ...(node.kind === 'string'
            ? { hint: `Write a list: "${path}": [${JSON.stringify(node.value)}].` }
            : {}),
        });
        return;
      }
      node.items.forEach((item, i) => {
        checkValue(item, spec.of, `${path}[${i}]`, issues);
      });
      return;
    case 'map':
      if (node.kind !== 'object') {
        issues.push(wrongType(node, spec, path));
        return;
      }
      for (const entry of node.entries) checkValue(entry.value, spec.of, `${path}.${entry.key}`, issues);
      return;
    case 'object': {
      if (node.kind !== 'object') {
        issues.push(wrongType(node, spec, path));
        return;
      }
      const fieldNames = Object.keys(spec.fields);
      const present = new Set<string>();
      for (const entry of node.entries) {
        // Go's decoder matches struct fields case-insensitively and drops unknown ones.
        const field = spec.strict
          ? fieldNames.find((f) => f === entry.key)
          : fieldNames.find((f) => f.toLowerCase() === entry.key.toLowerCase());
        if (!field && spec.strict) {
          const suggestion = closestName(entry.key, fieldNames);
          issues.push({
            code: 'unknown-key',
            severity: 'error',
            path: `${path}.${entry.key}`,
            line: entry.keyPos.line,
            column: entry.keyPos.column,
            message: `unknown key "${entry.key}" in ${path}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; dockerd refuses to start with it`,
            ...(suggestion ? { suggestion, hint: `Rename "${entry.key}" to "${suggestion}".` } : {}),
          });
          continue;
        }
        if (!field) {
          issues.push({
            code: 'unknown-field',
            severity: 'warning',
            path: `${path}.${entry.key}`,
            line: entry.keyPos.line,
            column: entry.keyPos.column,
            message: `${path}.${entry.key} is not a field dockerd knows (${fieldNames.join(', ')}); it is ignored`,
          });
          continue;
        }
        present.add(field);
        checkValue(entry.value, spec.fields[field]!, `${path}.${field}`, issues);
      }
      for (const field of spec.required ?? []) {
        if (!present.has(field)) {
          issues.push({
            code: 'invalid-value',
            severity: 'error',
            path,
            ...at,
            message: `${path} lacks "${field}"`,
          });
        }
      }
      return;
    }
  }
}

const EXEC_OPTS_LINUX = new Set(['native.cgroupdriver']);

/**
 * The value checks dockerd itself makes at start-up (config.Validate and friends), so a file that
 * would stop dockerd is caught here.
 */
function checkKeySemantics(key: DaemonKey, node: JsonNode, issues: DaemonJsonIssue[]): void {
  const bad = (n: JsonNode, path: string, message: string, hint?: string): void => {
    issues.push({
      code: 'invalid-value',
      severity: 'error',
      path,
      line: n.pos.line,
      column: n.pos.column,
      message,
      ...(hint ? { hint } : {}),
    });
  };
  const strings = (): Array<{ node: JsonNode; value: string; path: string }> =>
    node.kind === 'array'
      ? node.items.flatMap((n, i) =>
          n.kind === 'string' ? [{ node: n, value: n.value, path: `${key}[${i}]` }] : [],
        )
      : [];

  switch (key) {
    case 'hosts':
      for (const item of strings()) {
        try {
          parseDaemonHost(item.value);
        } catch (err) {
          bad(
            item.node,
            item.path,
            `${item.path}: ${(err as Error).message}`,
            'Write unix:///path, tcp://host:port or fd://.',
          );
        }
      }
      return;
    case 'labels':
      for (const item of strings()) {
        const eq = item.value.indexOf('=');
        if (eq <= 0)
          bad(item.node, item.path, `${item.path} must be "key=value", found ${JSON.stringify(item.value)}`);
      }
      return;
    case 'exec-opts':
      for (const item of strings()) {
        const [opt, value] = splitOnce(item.value, '=');
        const name = opt.trim().toLowerCase();
        if (value === undefined || name === '' || value.trim() === '') {
          bad(
            item.node,
            item.path,
            `${item.path} must be "option=value", found ${JSON.stringify(item.value)}`,
          );
        } else if (!EXEC_OPTS_LINUX.has(name)) {
          bad(
            item.node,
            item.path,
            `${item.path}: unknown exec option "${opt.trim()}" (Linux knows native.cgroupdriver)`,
          );
        }
      }
      return;
    case 'dns':
      for (const item of strings()) {
        if (!isIpAddress(item.value))
          bad(
            item.node,
            item.path,
            `${item.path} must be an IP address, found ${JSON.stringify(item.value)}`,
          );
      }
      return;
    case 'ip':
    case 'default-gateway':
    case 'default-gateway-v6':
    case 'host-gateway-ip':
      if (node.kind === 'string' && node.value !== '' && !isIpAddress(node.value)) {
        bad(node, key, `${key} must be an IP address, found ${JSON.stringify(node.value)}`);
      }
      return;
    case 'mtu':
    case 'max-concurrent-downloads':
    case 'max-concurrent-uploads':
    case 'max-download-attempts':
      if (node.kind === 'number' && node.value < 0)
        bad(node, key, `${key} must not be negative, found ${node.raw}`);
      return;
    case 'network-diagnostic-port':
      if (node.kind === 'number' && (node.value < 0 || node.value > 65535)) {
        bad(node, key, `${key} must be between 0 and 65535, found ${node.raw}`);
      }
      return;
    case 'default-address-pools':
      if (node.kind !== 'array') return;
      node.items.forEach((pool, i) => {
        if (pool.kind !== 'object') return;
        for (const entry of pool.entries) {
          const field = entry.key.toLowerCase();
          if (field === 'base' && entry.value.kind === 'string' && !isCidr(entry.value.value)) {
            bad(entry.value, `${key}[${i}].base`, `${key}[${i}].base must be a CIDR like "10.10.0.0/16"`);
          }
          if (
            field === 'size' &&
            entry.value.kind === 'number' &&
            (entry.value.value < 1 || entry.value.value > 128)
          ) {
            bad(entry.value, `${key}[${i}].size`, `${key}[${i}].size must be a prefix length (1-128)`);
          }
        }
      });
      return;
    case 'api-cors-header':
      if (node.kind === 'string' && node.value !== '') {
        bad(
          node,
          key,
          'api-cors-header is refused by current dockerd',
          'Remove it; put a reverse proxy in front if you need CORS.',
        );
      }
      return;
    default:
      return;
  }
}

function splitOnce(value: string, sep: string): [string, string | undefined] {
  const i = value.indexOf(sep);
  return i < 0 ? [value, undefined] : [value.slice(0, i), value.slice(i + 1)];
}

function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

function isCidr(value: string): boolean {
  const [addr, bits] = splitOnce(value, '/');
  return bits !== undefined && /^\d{1,3}$/.test(bits) && isIpAddress(addr);
}

/**
 * The configuration dockerd actually runs with: daemon.json merged with the command line, every
 * key with exactly one source, and the flag-vs-file conflicts that make dockerd refuse to start.
 *
 * dockerd's rule (moby findConfigurationConflicts): a key set both by a flag and in the file is
 * fatal whatever the values, matched by the flag's daemon.json name (`--label` ↔ `labels`,
 * `-H` ↔ `hosts`, `--http-proxy` ↔ `proxies.http-proxy`); `runtimes` is the one exception and
 * merges. A key that is present in the file counts even when its value is null or ignored.
 */
import { DAEMON_KEYS, type DaemonConfig, type DaemonKey, isDaemonKey, type KeySpec } from './keys.js';
import type { FlagOccurrence, ParsedCmdline } from './cmdline.js';

export type SourceKind = 'file' | 'flag' | 'default';

/** One effective setting. */
export interface EffectiveEntry {
  /** `hosts`, or `proxies.http-proxy`, or `runtimes.<name>` for the two merged objects. */
  key: string;
  /** The daemon.json key it belongs to. */
  topKey: DaemonKey;
  value: unknown;
  kind: SourceKind;
  /** `file:<path>`, `flag:<where>` or `default`. */
  source: string;
  /** For flags: how they were written (`-H fd://`). */
  flags?: string[];
}

/** A key set both on the command line and in daemon.json: dockerd refuses to start. */
export interface FlagFileConflict {
  /** The file key (`hosts`, `proxies.http-proxy`). */
  key: string;
  topKey: DaemonKey;
  /** The flag as the user wrote it (`-H`, `--host`). */
  flag: string;
  /** Each occurrence (`-H fd://`). */
  flagText: string[];
  flagValue: unknown;
  fileValue: unknown;
  message: string;
}

export interface EffectiveConfig {
  /** The merged configuration (what dockerd would run with, defaults included when asked). */
  config: DaemonConfig;
  entries: EffectiveEntry[];
  conflicts: FlagFileConflict[];
  /** The daemon.json path dockerd reads (`--config-file` or the default). */
  configFile: string;
}

export interface EffectiveInput {
  /** The parsed daemon.json. `keys` lists every top-level key present (also null/invalid ones). */
  file?: { path: string; config: DaemonConfig; keys?: readonly string[] };
  /** The parsed command line and where it came from (`/lib/systemd/system/docker.service`). */
  flags?: { where: string; parsed: ParsedCmdline };
  /** Add dockerd's defaults for keys nobody set (default true). */
  includeDefaults?: boolean;
}

export const DEFAULT_CONFIG_FILE = '/etc/docker/daemon.json';

const SPLIT_KEYS: ReadonlySet<DaemonKey> = new Set(['proxies', 'runtimes']);

/** Merges daemon.json and the command line into one config with sources and conflicts. */
export function mergeEffectiveConfig(input: EffectiveInput): EffectiveConfig {
  const fileConfig = (input.file?.config ?? {}) as Record<string, unknown>;
  const fileKeys = (input.file?.keys ?? Object.keys(fileConfig)).filter((k) => isDaemonKey(k)) as DaemonKey[];
  const flagConfig = (input.flags?.parsed.config ?? {}) as Record<string, unknown>;
  const occurrences = input.flags?.parsed.occurrences ?? [];
  const fileSource = `file:${input.file?.path ?? DEFAULT_CONFIG_FILE}`;
  const flagSource = `flag:${input.flags?.where ?? 'command line'}`;

  const conflicts = findConflicts(fileKeys, fileConfig, occurrences);
  const conflicted = new Set(conflicts.map((c) => c.key));

  const entries: EffectiveEntry[] = [];
  const merged: Record<string, unknown> = {};
  const add = (entry: EffectiveEntry): void => {
    entries.push(entry);
    if (entry.key === entry.topKey) {
      merged[entry.topKey] = entry.value;
    } else {
      const sub = entry.key.slice(entry.topKey.length + 1);
      merged[entry.topKey] = {
        ...((merged[entry.topKey] as Record<string, unknown>) ?? {}),
        [sub]: entry.value,
      };
    }
  };
  const flagTexts = (key: string): string[] =>
    occurrences.filter((o) => occurrenceKey(o) === key).map((o) => describeOccurrence(o));

  // File first, in file order; a conflicted key keeps the file's value but says so in the conflict.
  for (const key of fileKeys) {
    const value = fileConfig[key];
    // Keys dockerd accepts but never reads from the file (top-level http-proxy...) set nothing.
    if (value === undefined || (DAEMON_KEYS[key] as KeySpec).ignoredInFile) continue;
    if (SPLIT_KEYS.has(key) && isPlainObject(value)) {
      for (const [sub, v] of Object.entries(value)) {
        add({ key: `${key}.${sub}`, topKey: key, value: v, kind: 'file', source: fileSource });
      }
    } else {
      add({ key, topKey: key, value, kind: 'file', source: fileSource });
    }
  }
  // Then the flags, for keys the file does not hold (runtimes merge; the file wins a same name).
  const parsedKeys = input.flags?.parsed.keys ?? [];
  for (const key of parsedKeys) {
    const value = flagConfig[key];
    if (value === undefined) continue;
    if (SPLIT_KEYS.has(key) && isPlainObject(value)) {
      for (const [sub, v] of Object.entries(value)) {
        const path = `${key}.${sub}`;
        if (entries.some((e) => e.key === path) || conflicted.has(path)) continue;
        add({ key: path, topKey: key, value: v, kind: 'flag', source: flagSource, flags: flagTexts(path) });
      }
      continue;
    }
    if (entries.some((e) => e.key === key) || conflicted.has(key)) continue;
    add({ key, topKey: key, value, kind: 'flag', source: flagSource, flags: flagTexts(key) });
  }
  if (input.includeDefaults ?? true) {
    for (const [key, spec] of Object.entries(DAEMON_KEYS) as Array<[DaemonKey, KeySpec]>) {
      if (spec.default === undefined) continue;
      if (merged[key] !== undefined || conflicted.has(key)) continue;
      add({ key, topKey: key, value: structuredClone(spec.default), kind: 'default', source: 'default' });
    }
  }
  return {
    config: merged as DaemonConfig,
    entries,
    conflicts,
    configFile: input.flags?.parsed.configFile ?? input.file?.path ?? DEFAULT_CONFIG_FILE,
  };
}

/** The key path a flag occurrence sets (`proxies.http-proxy`, `runtimes.<name>`, or the key). */
function occurrenceKey(o: FlagOccurrence): string | undefined {
  if (!o.key) return undefined;
  if (o.subKey) return `${o.key}.${o.subKey}`;
  if (o.key === 'runtimes' && typeof o.value === 'string') return `runtimes.${o.value.split('=')[0]}`;
  return o.key;
}

function describeOccurrence(o: FlagOccurrence): string {
  return typeof o.value === 'boolean'
    ? o.value
      ? o.spelled
      : `${o.spelled}=false`
    : `${o.spelled} ${o.value}`;
}

function findConflicts(
  fileKeys: readonly DaemonKey[],
  fileConfig: Record<string, unknown>,
  occurrences: readonly FlagOccurrence[],
): FlagFileConflict[] {
  // The flag name each file key answers to; `proxies` answers per field.
  const fileByFlag = new Map<string, { key: string; topKey: DaemonKey; value: unknown }>();
  for (const key of fileKeys) {
    if (key === 'runtimes') continue; // merges, never conflicts
    if (key === 'proxies') {
      const proxies = fileConfig[key];
      if (!isPlainObject(proxies)) continue;
      for (const [sub, value] of Object.entries(proxies)) {
        if (isDaemonKey(sub)) fileByFlag.set(sub, { key: `proxies.${sub}`, topKey: 'proxies', value });
      }
      continue;
    }
    const spec: KeySpec = DAEMON_KEYS[key];
    if (spec.flag) fileByFlag.set(spec.flag, { key, topKey: key, value: fileConfig[key] });
  }
  const byKey = new Map<string, FlagFileConflict>();
  for (const o of occurrences) {
    const hit = fileByFlag.get(o.flag);
    if (!hit) continue;
    const existing = byKey.get(hit.key);
    if (existing) {
      existing.flagText.push(describeOccurrence(o));
      existing.flagValue = Array.isArray(existing.flagValue)
        ? [...existing.flagValue, o.value]
        : [existing.flagValue, o.value];
      continue;
    }
    byKey.set(hit.key, {
      key: hit.key,
      topKey: hit.topKey,
      flag: o.spelled,
      flagText: [describeOccurrence(o)],
      flagValue: o.value,
      fileValue: hit.value,
      message: `"${hit.key}" is set both by ${o.spelled} on the command line and in daemon.json; dockerd refuses to start ("the following directives are specified both as a flag and in the configuration file")`,
    });
  }
  return [...byKey.values()];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where one key's value comes from, for display: `file:...`, `flag:...`, `default`, or undefined. */
export function sourceOf(effective: EffectiveConfig, key: string): string | undefined {
  return effective.entries.find((e) => e.key === key)?.source;
}

/** TLS as dockerd resolves it: `tlsverify` set at all turns TLS on; `tls` alone implies verify. */
export interface TlsMode {
  tls: boolean;
  verify: boolean;
  /** tlsverify was set explicitly (flag or file). */
  verifyExplicit: boolean;
}

/** How dockerd will treat TLS for this config (moby daemon options: setDefaultOptions). */
export function tlsMode(effective: EffectiveConfig): TlsMode {
  const explicit = effective.entries.find((e) => e.key === 'tlsverify' && e.kind !== 'default');
  const tlsEntry = effective.entries.find((e) => e.key === 'tls' && e.kind !== 'default');
  const verifyExplicit = explicit !== undefined;
  const tls = tlsEntry?.value === true || verifyExplicit;
  // Since 20.10, TLS without an explicit tlsverify verifies clients.
  const verify = verifyExplicit ? explicit.value === true : tls;
  return { tls, verify, verifyExplicit };
}

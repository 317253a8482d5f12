/**
 * `harden`: merges a profile into an existing daemon.json. The user's other keys and their order
 * stay; each profile setting is reported as add, change or keep; what cannot be written safely
 * is reported as a conflict instead of being written:
 * - a key the command line already sets (writing it would stop dockerd), unless it is `hosts`,
 *   which goes in the file and needs the systemd drop-in (resolution `systemd-drop-in`);
 * - any error the semantic checks find in the merged result (icc false with iptables false...).
 * Idempotent: hardening the result again changes nothing.
 */
import type { ParsedCmdline } from './cmdline.js';
import { checkConfig, type CheckOptions } from './checks.js';
import { mergeEffectiveConfig } from './effective-config.js';
import type { DaemonConfig, DaemonKey } from './keys.js';
import { serializeDaemonJson } from './parse.js';
import { buildProfile, type Profile, type ProfileName, type ProfileOptions } from './profiles.js';

export interface Change {
  /** The key, or `key.field` for merged objects (`log-opts.max-size`). */
  key: string;
  from?: unknown;
  to: unknown;
  kind: 'add' | 'change' | 'keep';
  /** Why a setting was kept as is (e.g. it is set on the command line). */
  note?: string;
}

export interface HardenConflict {
  key: string;
  /** Stable id: `hosts-conflict`, `flag-differs`, `flag-file-conflict`, or a check's code. */
  code: string;
  message: string;
  /** How it gets resolved: the systemd drop-in (apply writes it) or by the user. */
  resolution: 'systemd-drop-in' | 'manual';
}

export interface HardenOptions extends ProfileOptions, CheckOptions {
  /** The dockerd command line in force (systemd ExecStart or /proc/<pid>/cmdline). */
  flags?: ParsedCmdline;
  /** Path of the file, for messages. */
  path?: string;
}

export interface HardenResult {
  result: DaemonConfig;
  /** The result as dockward writes it (2-space JSON, trailing newline). */
  text: string;
  changes: Change[];
  conflicts: HardenConflict[];
  /** True when at least one change or addition was made. */
  changed: boolean;
}

/** Merges a profile into `existing`; pure, the input is not modified. */
export function harden(
  existing: DaemonConfig,
  profile: ProfileName | Profile,
  options: HardenOptions = {},
): HardenResult {
  const p = typeof profile === 'string' ? buildProfile(profile, options) : profile;
  const result = structuredClone(existing) as Record<string, unknown>;
  const changes: Change[] = [];
  const conflicts: HardenConflict[] = [];
  const flagConfig = (options.flags?.config ?? {}) as Record<string, unknown>;
  const flagKeys = new Set<DaemonKey>(options.flags?.keys ?? []);

  for (const [key, wanted] of Object.entries(p.settings) as Array<[DaemonKey, unknown]>) {
    const have = result[key];
    if (flagKeys.has(key) && key !== 'hosts') {
      handleFlagKey(key, wanted, flagConfig[key], have !== undefined, p, changes, conflicts);
      continue;
    }
    if (p.mergeKeys.includes(key) && isRecord(wanted)) {
      const merged: Record<string, unknown> = isRecord(have) ? { ...have } : {};
      for (const [field, value] of Object.entries(wanted)) {
        const before = merged[field];
        merged[field] = value;
        changes.push(change(`${key}.${field}`, before, value));
      }
      result[key] = merged;
      continue;
    }
    if (p.unionKeys.includes(key) && Array.isArray(wanted)) {
      const list = Array.isArray(have) ? [...have] : [];
      const missing = wanted.filter((w) => !list.some((h) => deepEqual(h, w)));
      result[key] = [...list, ...missing];
      changes.push(
        have === undefined
          ? { key, to: result[key], kind: 'add' }
          : missing.length === 0
            ? { key, from: have, to: have, kind: 'keep' }
            : { key, from: have, to: result[key], kind: 'change' },
      );
      if (flagKeys.has('hosts')) {
        conflicts.push({
          key,
          code: 'hosts-conflict',
          message: `the command line passes ${describeFlag(options.flags, 'hosts')} and daemon.json will set "hosts": dockerd refuses to start until -H leaves the command line`,
          resolution: 'systemd-drop-in',
        });
      }
      continue;
    }
    result[key] = structuredClone(wanted);
    changes.push(change(key, have, wanted));
  }

  // What dockerd would refuse in the merged result (beyond what is reported above).
  const effective = mergeEffectiveConfig({
    file: { path: options.path ?? 'daemon.json', config: result as DaemonConfig },
    ...(options.flags ? { flags: { where: 'command line', parsed: options.flags } } : {}),
  });
  for (const finding of checkConfig(effective, options)) {
    if (finding.severity !== 'error') continue;
    if (conflicts.some((c) => c.key === finding.key && c.code === finding.code)) continue;
    conflicts.push({
      key: finding.key,
      code: finding.code,
      message: finding.message,
      resolution: finding.code === 'hosts-conflict' ? 'systemd-drop-in' : 'manual',
    });
  }

  return {
    result: result as DaemonConfig,
    text: serializeDaemonJson(result),
    changes,
    conflicts,
    changed: changes.some((c) => c.kind !== 'keep'),
  };
}

/** A profile key the command line already sets: never written to the file. */
function handleFlagKey(
  key: DaemonKey,
  wanted: unknown,
  fromFlag: unknown,
  inFile: boolean,
  p: Profile,
  changes: Change[],
  conflicts: HardenConflict[],
): void {
  const satisfied =
    p.mergeKeys.includes(key) && isRecord(wanted) && isRecord(fromFlag)
      ? Object.entries(wanted).every(([f, v]) => deepEqual(fromFlag[f], v))
      : deepEqual(fromFlag, wanted);
  if (satisfied) {
    changes.push({
      key,
      from: fromFlag,
      to: fromFlag,
      kind: 'keep',
      note: 'already set on the command line',
    });
  } else {
    conflicts.push({
      key,
      code: 'flag-differs',
      message: `the command line sets ${key} to ${JSON.stringify(fromFlag)} but the profile wants ${JSON.stringify(wanted)}; it cannot go in daemon.json while the flag is there`,
      resolution: 'manual',
    });
  }
  if (inFile) {
    conflicts.push({
      key,
      code: 'flag-file-conflict',
      message: `"${key}" is both in daemon.json and on the command line; dockerd refuses to start`,
      resolution: 'manual',
    });
  }
}

function describeFlag(flags: ParsedCmdline | undefined, key: DaemonKey): string {
  const occ = flags?.occurrences.filter((o) => o.key === key) ?? [];
  return occ.length === 0 ? 'a flag' : occ.map((o) => `${o.spelled} ${String(o.value)}`).join(' ');
}

function change(key: string, from: unknown, to: unknown): Change {
  if (from === undefined) return { key, to, kind: 'add' };
  if (deepEqual(from, to)) return { key, from, to, kind: 'keep' };
  return { key, from, to, kind: 'change' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values (object key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]))
    );
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

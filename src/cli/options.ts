import { parseSeverity } from '../audit/severity.js';
import type { Severity } from '../audit/model.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../daemon/profiles.js';
import { DockwardError } from '../errors.js';
import { parseWindow } from '../pki/status.js';

/** The option parsers every command group shares (commander calls them while parsing argv). */

/** Collector for repeatable options (`--san a --san b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Collector for repeatable, comma-separated lists (`--include 2.7,tls-auth --include 3`). */
export function listOf(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

/** A whole number of days (`--days 365`). */
export function parseDaysOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new DockwardError('DW_E_DURATION', `"${value}" is not a whole number of days`, {
      hint: 'Pass a number of days, for example --days 365.',
    });
  }
  return n;
}

/** `--timeout SECONDS` of daemon apply and init: 1 to 3600. */
export function secondsOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 3600) {
    throw new DockwardError('DW_E_USAGE', `--timeout "${value}" is not a number of seconds (1-3600)`, {
      hint: 'For example --timeout 120.',
    });
  }
  return n;
}

/** A parser for a whole number above 0, naming its flag in the error. */
export function positiveInt(flag: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new DockwardError('DW_E_USAGE', `${flag} needs a whole number above 0, not "${value}"`, {
        hint: `For example ${flag} 10.`,
      });
    }
    return n;
  };
}

/** `--within 30d|2w|12h` → milliseconds. */
export function windowOf(value: string): number {
  const ms = parseWindow(value);
  if (ms === undefined) {
    throw new DockwardError('DW_E_DURATION', `--within "${value}" is not a window`, {
      hint: 'Write it as 30d, 2w or 12h.',
    });
  }
  return ms;
}

/** `--fail-on LEVEL|none` → the threshold, or undefined for never. */
export function failOnOf(value: string): Severity | undefined {
  return value.trim().toLowerCase() === 'none' ? undefined : parseSeverity(value);
}

/** The exit threshold when `--fail-on` is not given: CI gets a red build for high and critical failures. */
export const DEFAULT_FAIL_ON: Severity = 'high';

/** `--profile NAME` of the daemon commands. */
export function profileOf(value: string): ProfileName {
  if (!isProfileName(value)) {
    throw new DockwardError('DW_E_USAGE', `unknown profile "${value}"`, {
      hint: `Pass one of ${PROFILE_NAMES.join(', ')}.`,
    });
  }
  return value;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A parser for a size in bytes with an optional k/m/g suffix (1024-based), above 0. */
export function sizeOf(flag: string): (value: string) => number {
  return (value: string): number => {
    const m = /^(\d+)([kmg]?)$/i.exec(value.trim());
    const n = m ? Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]! : Number.NaN;
    if (!m || !Number.isSafeInteger(n) || n < 1) {
      throw new DockwardError('DW_E_USAGE', `${flag} "${value}" is not a size`, {
        hint: `Write bytes or a number with k, m or g (1024-based), for example ${flag} 100m.`,
      });
    }
    return n;
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A parser for a duration `90d`, `12h`, `30m`, `45s` → milliseconds, above 0. */
export function durationOf(flag: string): (value: string) => number {
  return (value: string): number => {
    const m = /^(\d+)([smhd])$/.exec(value.trim());
    const n = m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : Number.NaN;
    if (!m || !Number.isSafeInteger(n) || n < 1) {
      throw new DockwardError('DW_E_USAGE', `${flag} "${value}" is not a duration`, {
        hint: `Write a number with s, m, h or d, for example ${flag} 90d.`,
      });
    }
    return n;
  };
}

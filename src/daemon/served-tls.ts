/**
 * Whether a running dockerd serves the TLS files on disk. dockerd reads tlscacert, tlscert and
 * tlskey once at start and never reloads them (moby#23936), so files replaced after it started
 * are not served until a restart: `init` after a re-issued certificate, or a renewal by hand.
 */
import { promises as fs, readFileSync } from 'node:fs';
import type { DaemonConfig } from './keys.js';

/** Linux's USER_HZ: /proc/<pid>/stat counts start time in these ticks on every architecture. */
const CLOCK_TICKS_PER_SECOND = 100;
/** /proc gives the start to the tick but boot time to the second: ignore files this close to it. */
const START_TIME_SLACK_MS = 2_000;

/** When a process started (ms since the epoch), from /proc; undefined when it cannot be read. */
export function processStartTime(pid: number, proc = '/proc'): number | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name (which may hold spaces) in parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime\s+(\d+)$/m.exec(readFileSync(`${proc}/stat`, 'utf8'))?.[1];
    if (!Number.isFinite(ticks) || btime === undefined) return undefined;
    return Number(btime) * 1000 + (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The TLS files a configuration makes dockerd serve. */
export function servedTlsFiles(config: DaemonConfig): string[] {
  const files: string[] = [];
  for (const key of ['tlscacert', 'tlscert', 'tlskey'] as const) {
    const value = config[key];
    if (typeof value === 'string' && value !== '') files.push(value);
  }
  return files;
}

/** The TLS files changed after the process started (so it serves older ones), or an empty list. */
export async function tlsFilesNewerThan(files: readonly string[], startedMs: number): Promise<string[]> {
  const newer: string[] = [];
  for (const file of files) {
    const st = await fs.stat(file).catch(() => undefined);
    if (st && st.mtimeMs > startedMs + START_TIME_SLACK_MS) newer.push(file);
  }
  return newer;
}

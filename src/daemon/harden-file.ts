/**
 * `daemon harden`: a profile merged into the daemon.json on disk, checked against the dockerd
 * command line in force, shown as changes and a diff, and with `write` written atomically after
 * a timestamped backup. The merge itself is the pure `harden()`.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { DockwardError } from '../errors.js';
import { backupFile, MODE_PUBLIC_FILE, writeFileAtomic } from '../store/atomic-write.js';
import { unifiedDiff } from './diff.js';
import { type Change, type HardenConflict, harden } from './harden.js';
import {
  currentCommandLine,
  DEFAULT_SOCKET,
  effectiveOf,
  readHostState,
  unixSocketOf,
} from './host-state.js';
import { DaemonConfigError } from './parse.js';
import type { ProfileName, ProfileOptions } from './profiles.js';
import type { ProgramRunner } from './systemd-io.js';

export interface HardenFileOptions {
  configPath?: string;
  profile: ProfileName;
  profileOptions?: Omit<ProfileOptions, 'socketPath'>;
  pidfile?: string;
  root?: string;
  allowPlainTcp?: boolean;
  /** Write the result (after a backup) when it changes anything. */
  write?: boolean;
  run?: ProgramRunner;
}

export interface HardenFileResult {
  path: string;
  /** False when there was no file yet (the profile makes a new one). */
  existed: boolean;
  profile: ProfileName;
  changes: Change[];
  conflicts: HardenConflict[];
  changed: boolean;
  diff: string;
  /** The hardened file as it is (or would be) written. */
  text: string;
  written: boolean;
  backup: string | undefined;
  /** The command line the profile was checked against. */
  commandLine: { from: string; where: string } | undefined;
}

/** Hardens the daemon.json dockerd reads (or `configPath`); writes only with `write` and no conflict. */
export async function hardenConfigFile(options: HardenFileOptions): Promise<HardenFileResult> {
  const state = await readHostState({
    ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
    ...(options.pidfile !== undefined ? { pidfile: options.pidfile } : {}),
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.run ? { run: options.run } : {}),
  });
  const file = state.file;
  if (!file.analysis.ok) throw new DaemonConfigError(file.path, file.analysis.issues);
  const cmd = currentCommandLine(state);
  const current = effectiveOf(file.path, file.analysis.config, file.analysis.keyOrder, cmd);
  const result = harden(file.analysis.config, options.profile, {
    ...options.profileOptions,
    socketPath: unixSocketOf(current.config) ?? DEFAULT_SOCKET,
    ...(cmd ? { flags: cmd.parsed } : {}),
    path: file.path,
    allowInsecureTcp: options.allowPlainTcp === true,
  });
  const before = file.bytes?.toString('utf8') ?? '';
  // Unchanged settings in a differently formatted file are left alone: nothing to write.
  const changed = result.changed;
  const diff = changed
    ? unifiedDiff(before, result.text, { fromFile: `a${file.path}`, toFile: `b${file.path}` })
    : '';
  let backup: string | undefined;
  let written = false;
  if (options.write && changed) {
    if (result.conflicts.length > 0) {
      throw new DockwardError(
        'DW_E_INPUT',
        `not writing ${file.path}: dockerd would refuse to start with it:\n${result.conflicts.map((c) => `  ${c.key}: ${c.message}`).join('\n')}`,
        {
          hint: result.conflicts.some((c) => c.resolution === 'systemd-drop-in')
            ? `Use \`dockward daemon apply --config ${file.path} --profile ${options.profile}\`: it writes the systemd drop-in with the file and restarts.`
            : 'Resolve the conflicts listed, then run harden --write again.',
        },
      );
    }
    backup = await backupFile(file.path);
    await fs.mkdir(dirname(file.path), { recursive: true, mode: 0o755 });
    await writeFileAtomic(file.path, result.text, { mode: file.mode ?? MODE_PUBLIC_FILE });
    written = true;
  }
  return {
    path: file.path,
    existed: file.exists,
    profile: options.profile,
    changes: result.changes,
    conflicts: result.conflicts,
    changed,
    diff,
    text: result.text,
    written,
    backup,
    commandLine: cmd ? { from: cmd.from, where: cmd.where } : undefined,
  };
}

import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DockwardError, describeError } from '../errors.js';

/** Modes dockward uses: keys and the folders holding them are never group/world readable. */
export const MODE_PRIVATE_FILE = 0o600;
export const MODE_PUBLIC_FILE = 0o644;
export const MODE_PRIVATE_DIR = 0o700;

export interface AtomicWriteOptions {
  /** File mode of the new file (default 0644). Set before any byte is written. */
  mode?: number;
  /** Called with the synced temp file just before the rename (tests use it to crash there). */
  beforeRename?: (tmpPath: string) => void | Promise<void>;
}

/**
 * Writes a file so that a reader (or a crash) sees either the old content or the new one, never
 * a half: temp file in the same folder, fsync, rename, fsync of the folder.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? MODE_PUBLIC_FILE;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    // O_EXCL: never follow or reuse something an attacker placed at the temp name.
    handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    await handle.chmod(mode); // the umask may have narrowed it; make it exact
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await options.beforeRename?.(tmp);
    await fs.rename(tmp, path);
    await syncDir(dir);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new DockwardError('DW_E_FILE', `cannot write ${path}: ${describeError(err)}`, {
      hint: 'Check that the folder exists, is writable and the disk is not full.',
      cause: err,
    });
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, constants.O_RDONLY).catch(() => undefined);
  if (!h) return;
  try {
    await h.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await h.close();
  }
}

/** Creates a folder (and parents) and sets its mode exactly, even when it already existed. */
export async function ensureDir(path: string, mode: number): Promise<void> {
  await fs.mkdir(path, { recursive: true, mode });
  await fs.chmod(path, mode);
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** A timestamp safe for file names: 20261125T235716Z. */
export function fileTimestamp(date: Date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * Copies an existing file to `<backupDir>/<name>.<timestamp>[.n]` keeping its mode, before it is
 * changed. Returns the backup's path, or undefined when there was nothing to back up.
 */
export async function backupFile(
  path: string,
  backupDir: string = dirname(path),
): Promise<string | undefined> {
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.stat(path);
  } catch {
    return undefined;
  }
  await fs.mkdir(backupDir, { recursive: true, mode: MODE_PRIVATE_DIR });
  const stamp = fileTimestamp();
  for (let n = 0; n < 1000; n++) {
    const target = join(backupDir, `${basename(path)}.${stamp}${n === 0 ? '' : `.${n}`}.bak`);
    try {
      await fs.copyFile(path, target, constants.COPYFILE_EXCL);
      await fs.chmod(target, stat.mode & 0o777);
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DockwardError('DW_E_FILE', `cannot back up ${path}: ${describeError(err)}`, { cause: err });
      }
    }
  }
  throw new DockwardError('DW_E_FILE', `cannot back up ${path}: too many backups at ${stamp}`);
}

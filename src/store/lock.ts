import { constants, promises as fs } from 'node:fs';
import { DockwardError } from '../errors.js';

/**
 * Takes a pid lock file (O_EXCL, 0600, holding this process's pid). A file whose owner process is
 * gone, or an empty one older than 2 s, is taken over; while a live process holds it (or is
 * writing it right now) this waits up to `waitMs`, then throws what `held(owner)` builds.
 * Release it with `fs.rm(path)`.
 */
export async function acquireLockFile(
  path: string,
  options: { waitMs: number; held: (owner: number | undefined) => DockwardError },
): Promise<void> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    try {
      const h = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await liveOwner(path);
    if (owner === 'gone') {
      await fs.rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw options.held(owner);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A lock file (O_EXCL) so that two dockward processes never interleave writes to the index.
 * A lock whose owner process is gone is taken over; a live owner makes the caller wait a little,
 * then fail with DW_E_LOCKED.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, waitMs = 5000): Promise<T> {
  await acquireLockFile(lockPath, {
    waitMs,
    held: () =>
      new DockwardError('DW_E_LOCKED', `the state folder is locked by another process (${lockPath})`, {
        hint: 'Wait for the other dockward command to finish, or remove the lock file if no dockward runs.',
      }),
  });
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

/** The pid holding a lock file, undefined while it is being written, or `gone` when it is stale. */
async function liveOwner(lockPath: string): Promise<number | undefined | 'gone'> {
  const pid = Number.parseInt(await fs.readFile(lockPath, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    // A lock being written right now has no pid yet; only a stale empty one (old mtime) is gone.
    const st = await fs.stat(lockPath).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > 2000 ? 'gone' : undefined;
  }
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? 'gone' : pid;
  }
}

import { constants, promises as fs } from 'node:fs';
import { DockwardError } from '../errors.js';

/**
 * A lock file (O_EXCL) so that two dockward processes never interleave writes to the index.
 * A lock whose owner process is gone is taken over; a live owner makes the caller wait a little,
 * then fail with DW_E_LOCKED.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, waitMs = 5000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const h = await fs.open(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await h.writeFile(String(process.pid));
      await h.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await ownerIsGone(lockPath)) {
        await fs.rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new DockwardError(
          'DW_E_LOCKED',
          `the state folder is locked by another process (${lockPath})`,
          {
            hint: 'Wait for the other dockward command to finish, or remove the lock file if no dockward runs.',
          },
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

async function ownerIsGone(lockPath: string): Promise<boolean> {
  const pid = Number.parseInt(await fs.readFile(lockPath, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    // A lock being written right now has no pid yet; only a stale empty one (old mtime) is gone.
    const st = await fs.stat(lockPath).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > 2000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

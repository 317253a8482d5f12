import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DockwardError } from '../errors.js';
import { ensureDir, MODE_PRIVATE_DIR, writeFileAtomic } from '../store/atomic-write.js';
import { acquireLockFile } from '../store/lock.js';
import type { StatePaths } from '../store/paths.js';

/**
 * One `dockward up` per state folder. The first holds `<home>/up.lock` (its pid) and records how
 * to reach it in `<home>/up.json`; a second one finds them, says where the first runs and how to
 * stop it, and changes nothing (never the first one's sandbox socket or certificates).
 */
const RecordSchema = z.object({
  pid: z.number().int(),
  gateway: z.string(),
  upstream: z.string(),
  sandbox: z.boolean(),
  context: z.string().nullable(),
  certDir: z.string(),
  startedAt: z.string(),
});
export type UpRecord = z.infer<typeof RecordSchema>;

export function upLockPath(paths: StatePaths): string {
  return join(paths.home, 'up.lock');
}

export function upRecordPath(paths: StatePaths): string {
  return join(paths.home, 'up.json');
}

async function readRecord(paths: StatePaths): Promise<UpRecord | undefined> {
  const text = await fs.readFile(upRecordPath(paths), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = RecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The error a second `up` gets: where the first one runs and how to reach or stop it. */
function alreadyRunning(
  paths: StatePaths,
  owner: number | undefined,
  record: UpRecord | undefined,
): DockwardError {
  const pid = owner ?? record?.pid;
  const where = record
    ? `, gateway ${record.gateway} -> ${record.upstream}${record.sandbox ? ' (sandbox dockerd)' : ''}`
    : ' (still starting)';
  const reach = record
    ? record.context
      ? `docker --context ${record.context} ps`
      : `DOCKER_HOST=${record.gateway} DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${record.certDir} docker ps`
    : 'wait for it to print its gateway address';
  return new DockwardError(
    'DW_E_ALREADY_RUNNING',
    `dockward up runs already for ${paths.home} (pid ${pid ?? '?'}${where})`,
    {
      hint: `Use it: ${reach}. Stop it with Ctrl-C in its terminal or \`kill ${pid ?? 'PID'}\`; or start another with --home DIR.`,
    },
  );
}

/** Takes the state folder for this `up`, or throws DW_E_ALREADY_RUNNING naming the one that has it. */
export async function claimUp(
  paths: StatePaths,
): Promise<{ record(r: Omit<UpRecord, 'pid' | 'startedAt'>): Promise<void>; release(): Promise<void> }> {
  await ensureDir(paths.home, MODE_PRIVATE_DIR);
  let held: { owner: number | undefined } | undefined;
  await acquireLockFile(upLockPath(paths), {
    waitMs: 0,
    held: (owner) => {
      held = { owner };
      return new DockwardError('DW_E_ALREADY_RUNNING', 'held');
    },
  }).catch(async (err: unknown) => {
    if (held === undefined) throw err;
    throw alreadyRunning(paths, held.owner, await readRecord(paths));
  });
  // A record left by an up that was killed is stale now that we hold the lock.
  await fs.rm(upRecordPath(paths), { force: true });
  return {
    record: (r) =>
      writeFileAtomic(
        upRecordPath(paths),
        `${JSON.stringify({ ...r, pid: process.pid, startedAt: new Date().toISOString() }, null, 2)}\n`,
        { mode: 0o600 },
      ),
    release: async () => {
      await fs.rm(upRecordPath(paths), { force: true });
      await fs.rm(upLockPath(paths), { force: true });
    },
  };
}

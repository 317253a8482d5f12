import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DockwardError } from '../errors.js';
import { statePaths } from '../store/paths.js';
import { claimUp, upLockPath, upRecordPath } from './instance.js';

const base = mkdtempSync(join(tmpdir(), 'dw-up-instance-'));
after(() => rmSync(base, { recursive: true, force: true }));

describe('one dockward up per state folder', () => {
  it('refuses a second claim, naming the first one and how to reach and stop it', async () => {
    const paths = statePaths(join(base, 'a'));
    const first = await claimUp(paths);
    await first.record({
      gateway: 'tcp://127.0.0.1:2376',
      upstream: 'unix:///s',
      sandbox: true,
      context: 'dockward',
      certDir: '/c',
    });
    await assert.rejects(
      claimUp(paths),
      (err: unknown) =>
        err instanceof DockwardError &&
        err.code === 'DW_E_ALREADY_RUNNING' &&
        err.message.includes(
          `(pid ${process.pid}, gateway tcp://127.0.0.1:2376 -> unix:///s (sandbox dockerd))`,
        ) &&
        /docker --context dockward ps/.test(err.hint ?? '') &&
        new RegExp(`kill ${process.pid}`).test(err.hint ?? ''),
    );
    await first.release();
    assert.equal(existsSync(upRecordPath(paths)), false);
    const again = await claimUp(paths);
    await again.release();
  });

  it('takes over the lock and drops the record of an up that died', async () => {
    const paths = statePaths(join(base, 'b'));
    await claimUp(paths); // creates the folder
    writeFileSync(upLockPath(paths), '2147483646'); // no such process
    writeFileSync(upRecordPath(paths), '{"pid":2147483646}');
    const claim = await claimUp(paths);
    assert.equal(existsSync(upRecordPath(paths)), false);
    await claim.release();
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { backupFile, writeFileAtomic } from './atomic-write.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates the file with the exact mode asked for, whatever the umask', async () => {
    const p = join(dir, 'key.pem');
    const old = process.umask(0o000);
    try {
      await writeFileAtomic(p, 'secret', { mode: 0o600 });
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.equal(readFileSync(p, 'utf8'), 'secret');
  });

  it('leaves the old file intact when the process is killed before the rename', () => {
    const p = join(dir, 'index.json');
    writeFileSync(p, 'old content');
    // A real crash: a child process writes the new content and is SIGKILLed just before rename.
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(new URL('./atomic-write.ts', import.meta.url).href)};
      await writeFileAtomic(${JSON.stringify(p)}, 'new content', {
        beforeRename: () => { process.kill(process.pid, 'SIGKILL'); return new Promise(() => {}); },
      });
    `;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(res.signal, 'SIGKILL', res.stderr);
    assert.equal(readFileSync(p, 'utf8'), 'old content');
    // The temp file the crash left behind is next to it, fully written: proof the kill came mid-write.
    const leftovers = readdirSync(dir).filter((f) => f.startsWith('.index.json.') && f.endsWith('.tmp'));
    assert.equal(leftovers.length, 1);
    assert.equal(readFileSync(join(dir, leftovers[0]!), 'utf8'), 'new content');
  });

  it('replaces the content in one step when nothing fails', async () => {
    const p = join(dir, 'config.json');
    writeFileSync(p, 'v1');
    await writeFileAtomic(p, 'v2');
    assert.equal(readFileSync(p, 'utf8'), 'v2');
  });
});

describe('backupFile', () => {
  it('copies an existing file with its mode and never overwrites an earlier backup', async () => {
    const p = join(dir, 'daemon.json');
    writeFileSync(p, '{"a":1}', { mode: 0o640 });
    const b1 = await backupFile(p);
    const b2 = await backupFile(p);
    assert.ok(b1 && b2 && b1 !== b2);
    assert.equal(readFileSync(b1, 'utf8'), '{"a":1}');
    assert.equal(statSync(b1).mode & 0o777, 0o640);
  });

  it('returns undefined when there is no file to back up', async () => {
    assert.equal(await backupFile(join(dir, 'missing.json')), undefined);
  });
});

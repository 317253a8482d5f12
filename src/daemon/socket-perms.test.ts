import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkSocket, ensureSocketPermissions, lookupGroupId, octal } from './socket-perms.js';

const isRoot = process.getuid?.() === 0;

describe('the docker socket permissions', () => {
  const work = mkdtempSync(join(tmpdir(), 'dw-socket-'));
  const groupFile = join(work, 'group');
  const socket = join(work, 'docker.sock');
  let server: Server;
  before(async () => {
    writeFileSync(groupFile, 'root:x:0:\ndocker:x:4242:alice\n');
    server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(work, { recursive: true, force: true });
  });

  it('looks a group up by name, or takes a number as it is', async () => {
    assert.equal(await lookupGroupId('docker', groupFile), 4242);
    assert.equal(await lookupGroupId('1234', groupFile), 1234);
    assert.equal(await lookupGroupId('nobody-here', groupFile), undefined);
  });

  it('reports a socket that is world-writable and in the wrong group', async () => {
    chmodSync(socket, 0o666);
    const report = await checkSocket(socket, 'docker', { groupFile });
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.some((p) => p.includes('mode is 0666, wider than 0660')),
      report.problems.join('; '),
    );
    assert.ok(report.problems.some((p) => p.includes('not docker (4242)')));
  });

  it('sets root:docker 0660 and then finds nothing wrong', {
    // CI runs as root: there it must run, never skip.
    skip: isRoot || process.env['CI'] === 'true' ? false : 'chown needs root',
  }, async () => {
    chownSync(socket, 0, 0);
    chmodSync(socket, 0o666);
    const fixed = await ensureSocketPermissions(socket, 'docker', { groupFile });
    assert.equal(fixed.fixed, true);
    assert.equal(fixed.ok, true, fixed.problems.join('; '));
    assert.equal(octal(fixed.mode ?? 0), '0660');
    assert.equal(fixed.gid, 4242);
  });

  it('says a missing socket is missing', async () => {
    const report = await checkSocket(join(work, 'none.sock'), 'docker', { groupFile });
    assert.equal(report.exists, false);
    assert.equal(report.ok, false);
  });
});

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DROP_IN_DIR, readDockerService, restoreDropIn, writeDropIn } from './systemd-io.js';
import { dockerdCommandLine, planFlagRemovalDropIn } from './systemd-unit.js';

const FIXTURES = new URL('../../test/fixtures/daemon/', import.meta.url).pathname;

describe('reading docker.service from a unit tree', () => {
  it('finds the packaged unit and the admin drop-in of the stock tree', async () => {
    const found = await readDockerService(join(FIXTURES, 'systemd-stock'));
    assert.ok(found);
    assert.equal(found.unit.path, join(FIXTURES, 'systemd-stock/lib/systemd/system/docker.service'));
    assert.deepEqual(
      found.dropIns.map((d) => d.path),
      [join(FIXTURES, 'systemd-stock/etc/systemd/system/docker.service.d/http-proxy.conf')],
    );
    assert.deepEqual(found.service.execStart[0]?.argv, [
      '/usr/bin/dockerd',
      '-H',
      'fd://',
      '--containerd=/run/containerd/containerd.sock',
    ]);
  });

  it('expands $DOCKER_OPTS from the EnvironmentFile under the root', async () => {
    const found = await readDockerService(join(FIXTURES, 'systemd-debian'));
    assert.ok(found);
    assert.equal(found.env.DOCKER_OPTS, '--dns 192.0.2.53 --label env=lab');
    const cmd = dockerdCommandLine(found.service);
    assert.deepEqual(cmd?.config.labels, ['env=lab']);
    assert.deepEqual(cmd?.config.dns, ['192.0.2.53']);
  });

  it('returns undefined when no unit folder holds docker.service', async () => {
    assert.equal(await readDockerService(join(FIXTURES, 'no-such-tree')), undefined);
  });
});

describe('writing the hosts drop-in into a unit tree', () => {
  const work = mkdtempSync(join(tmpdir(), 'dw-systemd-io-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('writes the documented fix, which removes the -H conflict when the tree is read again, and undoes it', async () => {
    const root = join(work, 'stock');
    cpSync(join(FIXTURES, 'systemd-stock'), root, { recursive: true });
    const before = await readDockerService(root);
    assert.ok(before);
    const plan = planFlagRemovalDropIn(before.unit, before.dropIns, { keys: ['hosts'] });
    assert.equal(plan.needed, true);

    const written = await writeDropIn(root, plan.fileName, plan.content);
    assert.equal(written.path, join(root, DROP_IN_DIR, '90-dockward-hosts.conf'));
    assert.equal(written.previous, undefined);
    assert.equal(
      readFileSync(written.path, 'utf8'),
      '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n',
    );
    assert.equal(statSync(written.path).mode & 0o777, 0o644);

    const after = await readDockerService(root);
    assert.ok(after);
    assert.equal(after.service.execStart.length, 1, 'ExecStart was cleared before being set again');
    const cmd = dockerdCommandLine(after.service);
    assert.equal(cmd?.config.hosts, undefined, 'no -H left');
    assert.equal(cmd?.config.containerd, '/run/containerd/containerd.sock', 'other flags kept');

    await restoreDropIn(written);
    assert.equal(existsSync(written.path), false);
    const restored = await readDockerService(root);
    assert.deepEqual(restored?.service.execStart[0]?.argv, before.service.execStart[0]?.argv);
  });

  it('backs up a drop-in it replaces under a name systemd ignores, and puts it back', async () => {
    const root = join(work, 'replace');
    cpSync(join(FIXTURES, 'systemd-stock'), root, { recursive: true });
    const first = await writeDropIn(
      root,
      '90-dockward-hosts.conf',
      '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd\n',
    );
    const second = await writeDropIn(
      root,
      '90-dockward-hosts.conf',
      '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -D\n',
    );
    assert.equal(second.previous, '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd\n');
    assert.ok(second.backup?.endsWith('.bak'));
    const confs = readdirSync(join(root, DROP_IN_DIR)).filter((n) => n.endsWith('.conf'));
    assert.deepEqual(confs.sort(), ['90-dockward-hosts.conf', 'http-proxy.conf']);
    await restoreDropIn(second);
    assert.equal(readFileSync(first.path, 'utf8'), '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd\n');
  });

  it('refuses a drop-in name that is not a plain NAME.conf', async () => {
    await assert.rejects(writeDropIn(work, '../escape.conf', ''), { code: 'DW_E_USAGE' });
  });
});

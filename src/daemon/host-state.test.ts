import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDockerdVersion, readHostState, unixSocketOf } from './host-state.js';
import type { ProgramRunner } from './systemd-io.js';

const FIXTURES = new URL('../../test/fixtures/daemon/', import.meta.url).pathname;

describe('the host state', () => {
  const work = mkdtempSync(join(tmpdir(), 'dw-host-state-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const run20: ProgramRunner = async () => ({
    code: 0,
    stdout: 'Docker version 20.10.24+dfsg1, build 5d6db84\n',
    stderr: '',
  });

  it('reads the engine version from dockerd --version', () => {
    assert.deepEqual(parseDockerdVersion('Docker version 20.10.24+dfsg1, build 5d6db84'), {
      version: '20.10.24+dfsg1',
      major: 20,
    });
    assert.deepEqual(parseDockerdVersion('Docker version 28.1.1, build 4eba377'), {
      version: '28.1.1',
      major: 28,
    });
    assert.equal(parseDockerdVersion('command not found'), undefined);
  });

  it('takes the unit ExecStart when no dockerd runs, and reads daemon.json under the root', async () => {
    const state = await readHostState({
      root: join(FIXTURES, 'systemd-stock'),
      pidfile: join(work, 'none.pid'),
      run: run20,
    });
    assert.equal(state.process, undefined);
    assert.equal(state.unitCommandLine?.from, 'systemd');
    assert.deepEqual(state.unitCommandLine?.parsed.config.hosts, ['fd://']);
    assert.equal(state.dockerdConfigPath, join(FIXTURES, 'systemd-stock/etc/docker/daemon.json'));
    assert.equal(state.engine.major, 20);
  });

  it('judges the file for the engine that reads it (BOM accepted, line and column for errors)', async () => {
    const path = join(work, 'daemon.json');
    writeFileSync(path, '{\n  "icc": false,\n  "tlsverfy": true\n}\n');
    const state = await readHostState({
      configPath: path,
      root: work,
      pidfile: join(work, 'none.pid'),
      run: run20,
    });
    assert.equal(state.file.analysis.ok, false);
    const issue = state.file.analysis.issues.find((i) => i.code === 'unknown-key');
    assert.equal(issue?.line, 3);
    assert.equal(issue?.suggestion, 'tlsverify');
  });

  it('finds the first unix socket among the hosts', () => {
    assert.equal(
      unixSocketOf({ hosts: ['fd://', 'tcp://0.0.0.0:2376', 'unix:///run/d.sock'] }),
      '/run/d.sock',
    );
    assert.equal(unixSocketOf({ hosts: ['tcp://0.0.0.0:2376'] }), undefined);
  });
});

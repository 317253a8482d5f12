import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initCa } from '../pki/init-ca.js';
import { noPassphrase, snapshotTree } from '../pki/test-support.js';
import { type StatePaths, statePaths } from '../store/paths.js';
import { bundleHost } from './bundle.js';
import { addHost } from './hosts.js';
import { loadInventory } from './inventory.js';
import { gzipTar } from './tar.js';

function run(cmd: string, args: string[], cwd?: string) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  if (res.error) throw res.error;
  return { code: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
}

describe('the tar writer', () => {
  it('writes a gzip archive the real tar lists and extracts with names, modes and contents intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-tar-'));
    try {
      const big = 'x'.repeat(1500);
      writeFileSync(
        join(dir, 'a.tgz'),
        await gzipTar([
          { name: 'key.pem', mode: 0o600, data: 'secret\n' },
          { name: 'big.txt', mode: 0o644, data: big },
          { name: 'empty', mode: 0o644, data: '' },
        ]),
      );
      const list = run('tar', ['-tvzf', 'a.tgz'], dir);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^-rw------- .* 7 .*key\.pem$/m);
      mkdirSync(join(dir, 'x'));
      const x = run('tar', ['-xzf', '../a.tgz'], join(dir, 'x'));
      assert.equal(x.code, 0, x.stderr);
      assert.equal(readFileSync(join(dir, 'x', 'key.pem'), 'utf8'), 'secret\n');
      assert.equal(statSync(join(dir, 'x', 'key.pem')).mode & 0o777, 0o600);
      assert.equal(readFileSync(join(dir, 'x', 'big.txt'), 'utf8'), big);
      assert.equal(statSync(join(dir, 'x', 'empty')).size, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a name that would escape the extraction folder', async () => {
    await assert.rejects(() => gzipTar([{ name: '../evil', mode: 0o644, data: '' }]), {
      code: 'DW_E_INTERNAL',
    });
  });
});

describe('hosts bundle', () => {
  let home: string;
  let out: string;
  let paths: StatePaths;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'dw-bundle-'));
    out = mkdtempSync(join(tmpdir(), 'dw-bundle-out-'));
    paths = statePaths(home);
    await initCa(paths, {}, noPassphrase);
    await addHost(
      paths,
      { name: 'ci1', endpoint: 'tcp://127.0.0.1:2376', role: 'operator', verify: false, timeoutMs: 500 },
      noPassphrase,
    );
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('writes a 0600 tarball with ca.pem, cert.pem, key.pem (0600) and a README naming the DOCKER_* variables', async () => {
    const file = join(out, 'ci1.tar.gz');
    const res = await bundleHost(paths, 'ci1', { out: file, format: 'tar' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const dir = join(out, 'x');
    mkdirSync(dir);
    assert.equal(run('tar', ['-xzf', file, '-C', dir]).code, 0);
    const issued = paths.issuedDir('host-ci1');
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) {
      assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(join(issued, f), 'utf8'), f);
    }
    assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o600);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const v of ['DOCKER_HOST=tcp://127.0.0.1:2376', 'DOCKER_TLS_VERIFY=1', 'DOCKER_CERT_PATH=']) {
      assert.ok(readme.includes(v), v);
    }
    assert.ok(readme.includes(res.serial));
  });

  it('writes an env file whose base64 variables decode in bash to the exact PEM files', async () => {
    const file = join(out, 'ci1.env');
    await bundleHost(paths, 'ci1', { out: file, format: 'env' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const sh = run('bash', [
      '-c',
      `set -eu; set -a; . "${file}"; set +a; test "$DOCKER_TLS_VERIFY" = 1; echo "$DOCKER_HOST"; printf '%s' "$DOCKWARD_KEY_PEM_B64" | base64 -d`,
    ]);
    assert.equal(sh.code, 0, sh.stderr);
    const key = readFileSync(join(paths.issuedDir('host-ci1'), 'key.pem'), 'utf8');
    assert.equal(sh.stdout, `tcp://127.0.0.1:2376\n${key}`);
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.startsWith('#') && line !== '') assert.match(line, /^[A-Z0-9_]+=[A-Za-z0-9+/=:.]+$/);
    }
  });

  it('records each bundle with its format and serial, and refuses to overwrite a file without --force', async () => {
    const file = join(out, 'ci1.tar.gz');
    const before = readFileSync(file);
    const state = snapshotTree(home);
    await assert.rejects(bundleHost(paths, 'ci1', { out: file, format: 'env' }), {
      code: 'DW_E_FILE_EXISTS',
    });
    assert.deepEqual(readFileSync(file), before);
    assert.equal(snapshotTree(home), state);
    await bundleHost(paths, 'ci1', { out: file, format: 'tar', force: true });
    const host = (await loadInventory(paths)).hosts[0];
    assert.deepEqual(
      host?.bundles?.map((b) => [b.path, b.format]),
      [
        [join(out, 'ci1.env'), 'env'],
        [file, 'tar'],
      ],
    );
    assert.match(host?.bundles?.[0]?.serial ?? '', /^[0-9a-f]+$/);
  });

  it('names an unknown host and writes no file', async () => {
    await assert.rejects(bundleHost(paths, 'nosuch', { out: join(out, 'n.tgz'), format: 'tar' }), {
      code: 'DW_E_HOST_UNKNOWN',
    });
    assert.throws(() => statSync(join(out, 'n.tgz')), { code: 'ENOENT' });
  });
});

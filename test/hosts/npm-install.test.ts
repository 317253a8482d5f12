// How a user installs dockward itself on a host: `npm pack` on the admin machine, the tarball copied
// to the host, `npm install -g` there with no registry reachable (the lab's network has none). The
// package bundles its dependencies (bundleDependencies in package.json), so the install needs
// nothing but the tarball. Node is the test machine's (bind-mounted by the lab); npm is copied in
// from it, as a distribution's npm package would provide it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandResult, Lab, type LabHost, REPO } from './lab.js';

function show(res: CommandResult): string {
  return `exit ${res.code} after ${res.ms} ms\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`;
}

describe('installing dockward on a host from the packed tarball, offline', () => {
  let lab: Lab;
  let h: LabHost;
  let work = '';
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string })
    .version;

  before(async () => {
    lab = await Lab.start([{ name: 'npmhost', octet: 41 }]);
    h = lab.host('npmhost');
    work = mkdtempSync(join(tmpdir(), 'dw-lab-npm-'));
  });

  after(async () => {
    await lab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('npm pack on the admin side, npm install -g on the host with no registry, dockward --version there', () => {
    // dist/ is built by the lab already; --ignore-scripts skips the prepare build.
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = pack.stdout.trim().split('\n').pop() ?? '';
    assert.equal(tarball, `dockward-${version}.tgz`);
    console.log(
      `$ npm pack --ignore-scripts\n${pack.stderr
        .split('\n')
        .filter((l) => /bundled|total files|package size|filename/.test(l))
        .join('\n')}`,
    );
    // The copy an admin does with scp, done through the host's file system.
    cpSync(join(work, tarball), join(h.root, 'root', tarball));
    cpSync('/usr/lib/node_modules/npm', join(h.root, 'usr/local/lib/npm'), { recursive: true });
    const registry = h.exec(['sh', '-c', 'getent hosts registry.npmjs.org || echo "no name resolution"']);
    console.log(`registry.npmjs.org from the host: ${registry.stdout.trim()}`);
    const install = h.exec(
      [
        'node',
        '/usr/local/lib/npm/bin/npm-cli.js',
        'install',
        '-g',
        '--prefix',
        '/opt/dockward-npm',
        '--offline',
        // The bundled better-sqlite3 carries its compiled module; its install script would try
        // github.com for a prebuilt one, then node-gyp (python, a compiler): neither is here.
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        `/root/${tarball}`,
      ],
      { timeoutMs: 900_000 },
    );
    console.log(
      `$ npm install -g --offline --ignore-scripts /root/${tarball} (on the host)\n${install.stdout}${install.stderr}`,
    );
    assert.equal(install.code, 0, show(install));
    const v = h.exec(['/opt/dockward-npm/bin/dockward', '--version']);
    console.log(`$ dockward --version (the npm-installed one, on the host)\n${v.stdout}`);
    assert.equal(v.code, 0, show(v));
    assert.equal(v.stdout.trim(), version);
    // The native module (better-sqlite3) came with the tarball and loads with the host's node.
    const sqlite = h.exec([
      'node',
      '-e',
      "require('/opt/dockward-npm/lib/node_modules/dockward/node_modules/better-sqlite3')(':memory:').prepare('select 1 as x').get().x === 1 || process.exit(1)",
    ]);
    assert.equal(sqlite.code, 0, show(sqlite));
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initCa } from '../pki/init-ca.js';
import { issueCertificate } from '../pki/issue.js';
import { noPassphrase } from '../pki/test-support.js';
import { type StatePaths, statePaths } from '../store/paths.js';
import { renderEnv } from './env.js';
import { addHost, removeHost, renameHost } from './hosts.js';
import { loadInventory } from './inventory.js';
import { parseEndpoint } from './probe.js';
import { mapBounded } from '../async/map-bounded.js';
import { fleetStatus } from './status.js';

const target = { name: 'web1', endpoint: 'tcp://10.0.0.5:2376', certDir: "/home/o'neil/.dockward/x" };

describe('hosts env', () => {
  it('exports the three docker variables for bash, quoting a single quote in the path', () => {
    const out = renderEnv('bash', target);
    assert.match(out, /^export DOCKER_HOST='tcp:\/\/10\.0\.0\.5:2376'$/m);
    assert.match(out, /^export DOCKER_TLS_VERIFY='1'$/m);
    assert.ok(out.includes(`export DOCKER_CERT_PATH='/home/o'\\''neil/.dockward/x'`), out);
  });

  it('writes set -gx for fish and $Env: for powershell, and clears the variables with unset', () => {
    assert.match(renderEnv('fish', target), /^set -gx DOCKER_HOST 'tcp:\/\/10\.0\.0\.5:2376';$/m);
    assert.match(
      renderEnv('powershell', target),
      /^\$Env:DOCKER_CERT_PATH = '\/home\/o''neil\/\.dockward\/x'$/m,
    );
    const unset = renderEnv('zsh', undefined);
    assert.match(unset, /^unset DOCKER_HOST$/m);
    assert.doesNotMatch(unset, /export/);
  });
});

describe('hosts endpoints', () => {
  it('parses tcp://HOST:PORT, IPv6 in brackets and the 2376 default, and rejects other schemes', () => {
    assert.deepEqual(parseEndpoint('tcp://192.0.2.1:2377'), { host: '192.0.2.1', port: 2377 });
    assert.deepEqual(parseEndpoint('tcp://[::1]:9000'), { host: '::1', port: 9000 });
    assert.deepEqual(parseEndpoint('tcp://docker.example.com'), { host: 'docker.example.com', port: 2376 });
    assert.throws(() => parseEndpoint('http://x:1'), { code: 'DW_E_USAGE' });
    assert.throws(() => parseEndpoint('tcp://x:1/path'), { code: 'DW_E_USAGE' });
  });
});

describe('bounded concurrency', () => {
  it('never runs more than the limit at once and keeps the input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const res = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return n * 10;
    });
    assert.equal(peak, 3);
    assert.deepEqual(res, [10, 20, 30, 40, 50, 60, 70]);
  });
});

describe('the hosts inventory', () => {
  let home: string;
  let paths: StatePaths;
  let silent: Server;
  const sockets: Socket[] = [];

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'dw-fleet-'));
    paths = statePaths(home);
    await initCa(paths, {}, noPassphrase);
    await issueCertificate(paths, { kind: 'client', name: 'ext' }, noPassphrase);
    // Accepts connections and never answers: the host that would stall a naive status.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
    rmSync(home, { recursive: true, force: true });
  });

  const silentEndpoint = () => {
    const addr = silent.address();
    assert.ok(addr && typeof addr === 'object');
    return `tcp://127.0.0.1:${addr.port}`;
  };

  it('issues host-NAME with the role as OU, copies existing files 0600, and refuses a duplicate name', async () => {
    const issued = await addHost(
      paths,
      { name: 'web1', endpoint: 'tcp://127.0.0.1:1', role: 'operator', verify: false, timeoutMs: 500 },
      noPassphrase,
    );
    assert.equal(issued.host.certName, 'host-web1');
    assert.equal(issued.host.certDir, paths.issuedDir('host-web1'));
    const ext = paths.issuedDir('ext');
    const copied = await addHost(
      paths,
      {
        name: 'web2',
        endpoint: silentEndpoint(),
        files: { ca: join(ext, 'ca.pem'), cert: join(ext, 'cert.pem'), key: join(ext, 'key.pem') },
        verify: false,
        timeoutMs: 500,
      },
      noPassphrase,
    );
    assert.equal(copied.host.certDir, join(home, 'hosts', 'web2'));
    assert.equal(statSync(join(home, 'hosts', 'web2')).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, 'hosts', 'web2', 'key.pem')).mode & 0o777, 0o600);
    await assert.rejects(
      addHost(
        paths,
        { name: 'web1', endpoint: 'tcp://127.0.0.1:1', verify: false, timeoutMs: 500 },
        noPassphrase,
      ),
      { code: 'DW_E_HOST_EXISTS' },
    );
    assert.equal(statSync(paths.hosts).mode & 0o777, 0o600);
  });

  it('refuses to add a host that does not answer within the timeout, and keeps no trace of it', async () => {
    await assert.rejects(
      addHost(
        paths,
        { name: 'dead', endpoint: silentEndpoint(), verify: true, timeoutMs: 300 },
        noPassphrase,
      ),
      { code: 'DW_E_HOST_UNREACHABLE' },
    );
    assert.ok(!(await loadInventory(paths)).hosts.some((h) => h.name === 'dead'));
  });

  it('reports every host even when one never answers, each row red with its reason', async () => {
    const inv = await loadInventory(paths);
    const rows = await fleetStatus(inv.hosts, { timeoutMs: 300, concurrency: 2 });
    assert.deepEqual(
      rows.map((r) => [r.name, r.reachable]),
      [
        ['web1', false],
        ['web2', false],
      ],
    );
    assert.match(rows[1]?.error ?? '', /no answer within 300 ms/);
    assert.ok((rows[0]?.clientCertDaysLeft ?? 0) > 80);
  });

  it('renames a host with its copied files, removes it, and names an unknown host in the error', async () => {
    const renamed = await renameHost(paths, 'web2', 'db1');
    assert.equal(renamed.certDir, join(home, 'hosts', 'db1'));
    assert.ok(statSync(join(home, 'hosts', 'db1', 'cert.pem')).isFile());
    await assert.rejects(renameHost(paths, 'db1', 'web1'), { code: 'DW_E_HOST_EXISTS' });
    await removeHost(paths, 'db1');
    await assert.rejects(removeHost(paths, 'db1'), { code: 'DW_E_HOST_UNKNOWN' });
    assert.deepEqual(
      (await loadInventory(paths)).hosts.map((h) => h.name),
      ['web1'],
    );
  });
});

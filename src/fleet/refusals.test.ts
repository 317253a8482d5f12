// Bad input for `hosts`: each refusal names its cause with a stable code and leaves the state folder as it was.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initCa } from '../pki/init-ca.js';
import { issueCertificate } from '../pki/issue.js';
import { noPassphrase, snapshotTree } from '../pki/test-support.js';
import { type StatePaths, statePaths } from '../store/paths.js';
import { bundleHost } from './bundle.js';
import { dockerContextExists } from '../docker/context.js';
import { addHost, removeHost, renameHost, writeHostContext } from './hosts.js';
import { findHost, loadInventory, readClientTls } from './inventory.js';
import { renewHosts } from './renew.js';
import { fleetStatus } from './status.js';
import { type EngineStub, startEngineStub } from './test-support.js';

/** A fresh state folder with a CA and one server certificate for 127.0.0.1. */
async function pkiWithServer(prefix: string) {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const paths = statePaths(home);
  await initCa(paths, {}, noPassphrase);
  await issueCertificate(paths, { kind: 'server', name: 'srv', sans: ['IP:127.0.0.1'] }, noPassphrase);
  return { home, paths, server: await readClientTls(paths.issuedDir('srv')) };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const addr = s.address();
  assert.ok(addr && typeof addr === 'object');
  await new Promise<void>((r) => s.close(() => r()));
  return addr.port;
}

const add = (paths: StatePaths, name: string, endpoint: string, verify = true) =>
  addHost(paths, { name, endpoint, role: 'operator', verify, timeoutMs: 3000 }, noPassphrase);

describe('hosts refusals', () => {
  let home: string;
  let paths: StatePaths;
  let otherHome: string;
  let dockerConfig: string;
  /** Answers like dockerd with a server certificate from our CA. */
  let good: EngineStub;
  /** Same, but its server certificate comes from another CA. */
  let foreign: EngineStub;
  /** Our server certificate, but it only trusts the other CA's client certificates. */
  let picky: EngineStub;

  before(async () => {
    const ours = await pkiWithServer('dw-refuse-');
    const theirs = await pkiWithServer('dw-refuse-other-');
    home = ours.home;
    paths = ours.paths;
    otherHome = theirs.home;
    dockerConfig = mkdtempSync(join(tmpdir(), 'dw-refuse-docker-'));
    good = await startEngineStub({ cert: ours.server.cert, key: ours.server.key, ca: ours.server.ca });
    foreign = await startEngineStub({ cert: theirs.server.cert, key: theirs.server.key, ca: ours.server.ca });
    picky = await startEngineStub({ cert: ours.server.cert, key: ours.server.key, ca: theirs.server.ca });
    await issueCertificate(paths, { kind: 'client', name: 'ext' }, noPassphrase);
  });
  after(async () => {
    await Promise.all([good.close(), foreign.close(), picky.close()]);
    for (const d of [home, otherHome, dockerConfig]) rmSync(d, { recursive: true, force: true });
  });

  it('adds a host that answers like dockerd, recording its server certificate (the control for the refusals below)', async () => {
    const res = await add(paths, 'web1', good.endpoint);
    assert.equal(res.probe?.apiVersion, '1.41');
    assert.deepEqual(res.host.server?.sans, ['IP:127.0.0.1']);
    await writeHostContext(paths, 'web1', { dockerConfig });
    const ext = paths.issuedDir('ext');
    await addHost(
      paths,
      {
        name: 'imp',
        endpoint: good.endpoint,
        files: { ca: join(ext, 'ca.pem'), cert: join(ext, 'cert.pem'), key: join(ext, 'key.pem') },
        verify: true,
        timeoutMs: 3000,
      },
      noPassphrase,
    );
    assert.deepEqual(
      (await loadInventory(paths)).hosts.map((h) => [h.name, h.certSource, h.contexts?.length ?? 0]),
      [
        ['web1', 'issued', 1],
        ['imp', 'files', 0],
      ],
    );
  });

  it('refuses an unknown host in every command that names one, writing nothing', async () => {
    const state = snapshotTree(home);
    const unknown = { code: 'DW_E_HOST_UNKNOWN', message: /no host "ghost"/ };
    assert.throws(() => findHost({ version: 1, hosts: [] }, 'ghost'), unknown);
    await assert.rejects(
      bundleHost(paths, 'ghost', { out: join(dockerConfig, 'b.tgz'), format: 'tar' }),
      unknown,
    );
    await assert.rejects(writeHostContext(paths, 'ghost', { dockerConfig }), unknown);
    await assert.rejects(
      renewHosts(paths, { names: ['web1', 'ghost'], withinMs: 0, force: true }, noPassphrase),
      unknown,
    );
    await assert.rejects(removeHost(paths, 'ghost'), unknown);
    await assert.rejects(renameHost(paths, 'ghost', 'spirit'), unknown);
    assert.equal(snapshotTree(home), state);
    assert.equal(await dockerContextExists('ghost', dockerConfig), false);
  });

  it('refuses a duplicate name at add and at rename, writing nothing', async () => {
    const state = snapshotTree(home);
    await assert.rejects(add(paths, 'web1', good.endpoint), { code: 'DW_E_HOST_EXISTS' });
    await assert.rejects(renameHost(paths, 'imp', 'web1'), { code: 'DW_E_HOST_EXISTS' });
    assert.equal(snapshotTree(home), state);
  });

  it('refuses at add an endpoint nobody listens on, issuing no certificate and writing nothing', async () => {
    const state = snapshotTree(home);
    await assert.rejects(add(paths, 'dead', `tcp://127.0.0.1:${await closedPort()}`), {
      code: 'DW_E_HOST_UNREACHABLE',
      message: /ECONNREFUSED/,
    });
    assert.equal(snapshotTree(home), state);
  });

  it('refuses at add a host whose server certificate another CA signed, with the verify reason, writing nothing', async () => {
    const state = snapshotTree(home);
    await assert.rejects(add(paths, 'alien', foreign.endpoint), {
      code: 'DW_E_HOST_CERT_MISMATCH',
      message: /does not verify against the host's CA/,
    });
    assert.equal(snapshotTree(home), state);
  });

  it('refuses at add a host that rejects the client certificate, writing nothing', async () => {
    const state = snapshotTree(home);
    await assert.rejects(add(paths, 'fussy', picky.endpoint), {
      code: 'DW_E_HOST_CERT_MISMATCH',
      message: /refused the client certificate/,
    });
    assert.equal(snapshotTree(home), state);
  });

  it('reports a host with another CA as a certificate row with the reason while the others are reported', async () => {
    await add(paths, 'alien', foreign.endpoint, false);
    const rows = await fleetStatus((await loadInventory(paths)).hosts, { timeoutMs: 3000, concurrency: 4 });
    assert.deepEqual(
      rows.map((r) => [r.name, r.reachable, r.problem]),
      [
        ['web1', true, undefined],
        ['imp', true, undefined],
        ['alien', false, 'certificate'],
      ],
    );
    assert.match(rows[2]?.error ?? '', /does not verify against the host's CA: .*\(\w+\)/);
    assert.equal(rows[0]?.containersTotal, 3);
  });

  it('refuses to renew a named host whose certificate was imported, saying its issuer must renew it, writing nothing', async () => {
    const state = snapshotTree(home);
    await assert.rejects(
      renewHosts(paths, { names: ['web1', 'imp'], withinMs: 0, force: true }, noPassphrase),
      {
        code: 'DW_E_USAGE',
        message: /imp: imported certificate files .* renew them with their issuer/,
      },
    );
    assert.equal(snapshotTree(home), state);
  });

  it('renews nothing outside the window and in a dry run, listing the copies a renewal would rewrite', async () => {
    const state = snapshotTree(home);
    const scan = await renewHosts(paths, { withinMs: 86_400_000 }, noPassphrase);
    assert.deepEqual(
      scan.map((r) => [r.host, r.action]),
      [
        ['web1', 'skipped'],
        ['imp', 'skipped'],
        ['alien', 'skipped'],
      ],
    );
    assert.match(scan[0]?.reason ?? '', /outside the window/);
    assert.match(scan[1]?.reason ?? '', /renew them with their issuer/);
    const dry = await renewHosts(paths, { withinMs: 365 * 86_400_000, dryRun: true }, noPassphrase);
    assert.deepEqual(
      dry.map((r) => [r.host, r.action, r.contexts.length]),
      [
        ['web1', 'would-renew', 1],
        ['imp', 'skipped', 0],
        ['alien', 'would-renew', 0],
      ],
    );
    assert.equal(snapshotTree(home), state);
  });

  it('renews within the window, drops a docker context removed since, and revokes the old certificate', async () => {
    rmSync(join(dockerConfig, 'contexts'), { recursive: true, force: true });
    const before = (await readClientTls(paths.issuedDir('host-web1'))).cert;
    const [row] = await renewHosts(paths, { names: ['web1'], withinMs: 365 * 86_400_000 }, noPassphrase);
    assert.equal(row?.action, 'renewed');
    assert.equal(row.oldCert, 'revoked');
    assert.match(row.problems[0] ?? '', /is gone/);
    assert.equal(await dockerContextExists('web1', dockerConfig), false);
    assert.notEqual((await readClientTls(paths.issuedDir('host-web1'))).cert, before);
    assert.deepEqual((await loadInventory(paths)).hosts[0]?.contexts, []);
    const status = await fleetStatus([findHost(await loadInventory(paths), 'web1')], {
      timeoutMs: 3000,
      concurrency: 1,
    });
    assert.equal(status[0]?.reachable, true, status[0]?.error);
  });
});

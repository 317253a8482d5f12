import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockwardError } from '../../errors.js';
import { writeDockerContext } from '../../docker/context.js';
import { mapBounded } from '../../async/map-bounded.js';
import { collectEngine, containerFactOf, resolveEngineEndpoint } from './engine.js';

describe('container facts from inspect documents', () => {
  it('reads privileges, namespaces and every host path a created container asked for', () => {
    const fact = containerFactOf({
      Id: 'abc',
      Name: '/sock',
      Config: { Image: 'testbox:latest' },
      State: { Running: false },
      Mounts: [
        { Type: 'bind', Source: '/var/run/docker.sock' },
        { Type: 'volume', Source: '/var/lib/docker/volumes/v/_data' },
      ],
      HostConfig: {
        Privileged: true,
        Binds: ['/etc:/host-etc:ro', 'named:/data', '/var/run/docker.sock:/var/run/docker.sock'],
        Mounts: [{ Type: 'bind', Source: '/root' }],
        NetworkMode: 'host',
        PidMode: 'host',
        IpcMode: 'private',
        UTSMode: '',
        UsernsMode: 'host',
        CapAdd: ['SYS_ADMIN'],
        SecurityOpt: ['seccomp=unconfined'],
        Devices: [{ PathOnHost: '/dev/kmsg' }],
      },
    });
    assert.deepEqual(fact, {
      id: 'abc',
      name: 'sock',
      image: 'testbox:latest',
      running: false,
      privileged: true,
      bindSources: ['/var/run/docker.sock', '/root', '/etc'],
      networkMode: 'host',
      pidMode: 'host',
      ipcMode: 'private',
      utsMode: '',
      usernsMode: 'host',
      capAdd: ['SYS_ADMIN'],
      securityOpt: ['seccomp=unconfined'],
      devices: ['/dev/kmsg'],
    });
  });

  it('treats null lists (as dockerd sends them) as empty', () => {
    const fact = containerFactOf({
      Id: 'x',
      Name: '/x',
      HostConfig: { Binds: null, CapAdd: null, Devices: null },
    });
    assert.deepEqual([fact.bindSources, fact.capAdd, fact.devices, fact.privileged], [[], [], [], false]);
  });

  it('maps with bounded concurrency and keeps the order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return n * 10;
    });
    assert.deepEqual(out, [10, 20, 30, 40, 50, 60, 70]);
    assert.equal(peak, 3);
  });
});

describe('resolving the daemon to audit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-engine-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const certs = join(dir, 'certs');
  mkdirSync(certs);
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, f), `PEM ${f}\n`);

  it('reads a docker context: its host and the TLS files the CLI copied', async () => {
    const dockerConfig = join(dir, 'docker');
    await writeDockerContext({ name: 'prod', host: 'tcp://127.0.0.1:2376', certDir: certs, dockerConfig });
    const r = await resolveEngineEndpoint({ context: 'prod', env: { DOCKER_CONFIG: dockerConfig } });
    assert.equal(r.host, 'tcp://127.0.0.1:2376');
    assert.equal(r.from, 'context prod');
    assert.deepEqual(r.endpoint.kind === 'tcp' ? r.endpoint.tls : undefined, {
      ca: 'PEM ca.pem\n',
      cert: 'PEM cert.pem\n',
      key: 'PEM key.pem\n',
    });
  });

  it('refuses an unknown context as bad usage', async () => {
    await assert.rejects(
      resolveEngineEndpoint({ context: 'nope', env: { DOCKER_CONFIG: join(dir, 'docker') } }),
      (err) =>
        err instanceof DockwardError &&
        err.code === 'DW_E_USAGE' &&
        /no docker context "nope"/.test(err.message),
    );
  });

  it('takes TLS files from flags, else from DOCKER_CERT_PATH, and plain tcp without either', async () => {
    const flags = await resolveEngineEndpoint({
      host: 'tcp://127.0.0.1:2376',
      tls: { ca: join(certs, 'ca.pem') },
      env: { DOCKER_CERT_PATH: '/nonexistent' },
    });
    assert.deepEqual(flags.endpoint.kind === 'tcp' ? flags.endpoint.tls : 'x', { ca: 'PEM ca.pem\n' });
    const env = await resolveEngineEndpoint({
      host: 'tcp://127.0.0.1:2376',
      env: { DOCKER_CERT_PATH: certs },
    });
    assert.equal(env.endpoint.kind === 'tcp' ? env.endpoint.tls?.cert : 'x', 'PEM cert.pem\n');
    const plain = await resolveEngineEndpoint({ host: 'tcp://127.0.0.1:2375', env: {} });
    assert.equal(plain.endpoint.kind === 'tcp' ? plain.endpoint.tls : 'x', undefined);
  });

  it('uses DOCKER_HOST when no host is given, and refuses a malformed host as bad usage', async () => {
    const r = await resolveEngineEndpoint({ env: { DOCKER_HOST: 'unix:///run/x.sock' } });
    assert.deepEqual([r.host, r.from], ['unix:///run/x.sock', 'DOCKER_HOST']);
    await assert.rejects(
      resolveEngineEndpoint({ host: 'ssh://me@box', env: {} }),
      (err) => err instanceof DockwardError && err.code === 'DW_E_USAGE',
    );
  });

  it('says which file it cannot read', async () => {
    await assert.rejects(
      resolveEngineEndpoint({ host: 'tcp://127.0.0.1:2376', tls: { ca: join(dir, 'missing.pem') }, env: {} }),
      (err) =>
        err instanceof DockwardError && err.code === 'DW_E_INPUT' && err.message.includes('missing.pem'),
    );
  });
});

describe('collecting the live daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-engine-api-'));
  const socketPath = join(dir, 'api.sock');
  let server: Server;
  // A stand-in API on a unix socket: it lists a container that is gone by the time it is
  // inspected, a race a real dockerd cannot be made to lose on demand. The real daemon is
  // collected in test/e2e/audit.test.ts.
  before(async () => {
    server = createServer((req, res) => {
      const body: Record<string, unknown> = {
        '/info': {
          ID: 'x',
          Warnings: ['WARNING: API is accessible on http://127.0.0.1:2375 without encryption.'],
        },
        '/version': { Version: '20.10.24', ApiVersion: '1.41' },
        '/containers/json?all=1': [{ Id: 'kept' }, { Id: 'gone' }],
        '/containers/kept/json': { Id: 'kept', Name: '/kept', HostConfig: { Privileged: true } },
      };
      const found = body[req.url ?? ''];
      res.statusCode = found === undefined ? 404 : 200;
      res.end(JSON.stringify(found ?? { message: 'No such container' }));
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads info, version and each container, skipping one removed meanwhile', async () => {
    const fact = await collectEngine({ kind: 'unix', socketPath });
    assert.equal(fact.state, 'ok');
    if (fact.state !== 'ok') return;
    assert.deepEqual(
      fact.value.containers.map((c) => [c.name, c.privileged]),
      [['kept', true]],
    );
    assert.equal(fact.value.version['ApiVersion'], '1.41');
  });

  it('turns an unreachable daemon into an error fact that says where', async () => {
    const fact = await collectEngine(
      { kind: 'unix', socketPath: join(dir, 'none.sock') },
      { timeoutMs: 2_000 },
    );
    assert.equal(fact.state, 'error');
    if (fact.state !== 'error') return;
    assert.match(fact.reason, /ENOENT/);
    assert.equal(fact.where, `unix://${join(dir, 'none.sock')}`);
  });
});

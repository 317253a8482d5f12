// The bypass corpus replayed through the real gateway and dockerd as the built-in operator:
// no case may create a privileged or host-reaching container, and legitimate requests pass.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import {
  buildBusyboxImage,
  e2eSkipReason,
  type PrivateDockerd,
  REPO_ROOT,
  runDocker,
  startDockerd,
  TEST_IMAGE,
} from './harness/index.js';
import { type GatewayProcess, makePki, type Pki, startGateway } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

interface CorpusCase {
  id: string;
  technique: string;
  method: string;
  target: string;
  headers: Record<string, string | string[]>;
  body: string;
  expect: 'allow' | 'deny' | 'refuse';
  status: number;
}
const corpus = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test/fixtures/policy/bypass-corpus.json'), 'utf8'),
) as {
  cases: CorpusCase[];
};

/** Sends one raw request over mTLS (Connection: close) and returns the status and body. */
function rawRequest(
  port: number,
  certDir: string,
  head: string,
  body: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: readFileSync(join(certDir, 'ca.pem')),
        cert: readFileSync(join(certDir, 'cert.pem')),
        key: readFileSync(join(certDir, 'key.pem')),
      },
      // Not end(): a half-closed request is an aborted one for an HTTP server; Connection: close ends it.
      () => socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body])),
    );
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (!m) reject(new Error(`no HTTP response: ${JSON.stringify(buf.slice(0, 200))}`));
      else resolve({ status: Number(m[1]), text: buf });
    });
    socket.setTimeout(60_000, () => socket.destroy());
  });
}

describe('the bypass corpus against the real dockerd, as operator', { skip }, () => {
  let dockerd: PrivateDockerd;
  let gw: GatewayProcess;
  let pki: Pki;
  let containerId = '';
  let otherId = '';

  before(async () => {
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    pki = await makePki({ op: 'operator', boss: 'admin' });
    gw = await startGateway(dockerd, pki);
    // {container} is the operator's (the owner label the gateway writes), {other} admin's.
    const r = await runDocker(['run', '-d', '--label', 'io.dockward.owner=op', TEST_IMAGE, 'sleep', '600'], {
      env: dockerd.env,
    });
    assert.equal(r.code, 0, r.stderr);
    containerId = r.stdout.trim();
    const o = await runDocker(['run', '-d', TEST_IMAGE, 'sleep', '600'], { env: dockerd.env });
    assert.equal(o.code, 0, o.stderr);
    otherId = o.stdout.trim();
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
  });

  it('has at least 30 cases, attacks and legitimate requests', () => {
    assert.ok(corpus.cases.length >= 30);
    assert.ok(corpus.cases.some((c) => c.expect === 'allow'));
  });

  for (const c of corpus.cases) {
    it(`${c.expect}s ${c.id}: ${c.technique}`, async () => {
      const fill = (s: string) =>
        s
          .replaceAll('{container}', containerId)
          .replaceAll('{other}', otherId)
          .replace(/\$\{pad:(\d+)\}/g, (_, n: string) => 'a'.repeat(Number(n)));
      const body = Buffer.from(fill(c.body), 'utf8');
      let head = `${c.method} ${fill(c.target)} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n`;
      const names = Object.keys(c.headers).map((h) => h.toLowerCase());
      for (const [name, value] of Object.entries(c.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`;
      }
      if (!names.includes('content-length') && !names.includes('transfer-encoding')) {
        head += `Content-Length: ${body.length}\r\n`;
      }
      head += '\r\n';
      const res = await rawRequest(gw.port, pki.issuedDir('op'), head, body);
      if (c.expect === 'allow') {
        assert.ok(res.status < 400, `expected success, got ${res.status}: ${res.text.slice(0, 300)}`);
      } else {
        assert.equal(res.status, c.status, res.text.slice(0, 300));
        assert.match(res.text, /"message":"dockward: /);
      }
    });
  }

  it('left no privileged, host-mounting or host-namespace container on the daemon', async () => {
    const list = await dockerd.request('/containers/json?all=1');
    const ids = (JSON.parse(list.body) as { Id: string }[]).map((c) => c.Id);
    assert.ok(ids.length > 0);
    // The daemon's own defaults (cgroup v1 hosts default to cgroupns=host): only a change counts.
    const reference = JSON.parse((await dockerd.request(`/containers/${containerId}/json`)).body) as {
      HostConfig: Record<string, unknown>;
    };
    for (const id of ids) {
      const info = JSON.parse((await dockerd.request(`/containers/${id}/json`)).body) as {
        HostConfig: Record<string, unknown>;
        Mounts: { Type: string; Source: string }[];
      };
      const hc = info.HostConfig;
      assert.notEqual(hc['Privileged'], true, `${id} is privileged`);
      assert.deepEqual(
        info.Mounts.filter((m) => m.Type === 'bind'),
        [],
        `${id} mounts the host`,
      );
      for (const mode of ['NetworkMode', 'PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode']) {
        if (hc[mode] === 'host') assert.equal(reference.HostConfig[mode], 'host', `${id} has ${mode}=host`);
      }
      assert.deepEqual(
        ((hc['CapAdd'] as string[] | null) ?? []).filter((c) => /SYS_ADMIN|ALL/i.test(c)),
        [],
      );
      assert.deepEqual((hc['Devices'] as unknown[] | null) ?? [], []);
    }
  });

  const refused: [string, string[]][] = [
    ['--privileged', ['--privileged']],
    ['-v /:/host', ['-v', '/:/host']],
    ['-v /var/run/docker.sock', ['-v', '/var/run/docker.sock:/var/run/docker.sock']],
    ['--pid host', ['--pid', 'host']],
    ['--network host', ['--network', 'host']],
    ['--cap-add SYS_ADMIN', ['--cap-add', 'SYS_ADMIN']],
  ];
  for (const [what, flags] of refused) {
    it(`docker run ${what} as operator fails with the dockward message`, async () => {
      const r = await runDocker(['run', '--rm', ...flags, TEST_IMAGE, 'true'], { env: gw.envFor('op') });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Error response from daemon: dockward: denied by operator\//);
    });
  }

  it('docker run --rm testbox echo ok succeeds as operator', async () => {
    const r = await runDocker(['run', '--rm', TEST_IMAGE, 'echo', 'ok'], { env: gw.envFor('op') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  it('forwards the canonical body: a lower-case key arrives under its canonical name', async () => {
    const body = Buffer.from(JSON.stringify({ image: TEST_IMAGE, cmd: ['true'], labels: { k: 'v' } }));
    const res = await rawRequest(
      gw.port,
      pki.issuedDir('op'),
      `POST /v1.41/containers/create?name=canon HTTP/1.1\r\nHost: docker\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    assert.equal(res.status, 201, res.text);
    const info = JSON.parse((await dockerd.request('/containers/canon/json')).body) as {
      Config: { Image: string };
    };
    assert.equal(info.Config.Image, TEST_IMAGE);
  });
});

// The gateway's policy against a hostile client, through the built binary, curl, the docker
// CLI and a real dockerd: debug endpoints are admin-only, dockerd fetches nothing a non-admin
// client names, and a hostMounts deny list also refuses a parent of a listed path.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildBusyboxImage,
  e2eSkipReason,
  type PrivateDockerd,
  runCommand,
  runDocker,
  startDockerd,
  TEST_IMAGE,
} from './harness/index.js';
import {
  eventually,
  type GatewayProcess,
  makePki,
  type Pki,
  startGateway,
} from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

/** An HTTP server on loopback that records every request: the target a server-side fetch would hit. */
async function startProbeServer(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`FROM ${TEST_IMAGE}\nLABEL fetched=yes\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

describe('policy hardening against a real dockerd', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Pki;
  let gw: GatewayProcess;
  let gwPolicy: GatewayProcess;
  let probe: Awaited<ReturnType<typeof startProbeServer>>;

  /** curl over mTLS as one client of the PKI; returns the status and body. */
  async function curl(
    g: GatewayProcess,
    client: string,
    method: string,
    target: string,
  ): Promise<{ status: number; body: string }> {
    const dir = pki.issuedDir(client);
    const res = await runCommand('curl', [
      '-sS',
      '--max-time',
      '60',
      '-X',
      method,
      '--cacert',
      join(dir, 'ca.pem'),
      '--cert',
      join(dir, 'cert.pem'),
      '--key',
      join(dir, 'key.pem'),
      '--resolve',
      `localhost:${g.port}:127.0.0.1`,
      '-w',
      '\n%{http_code}',
      `https://localhost:${g.port}${target}`,
    ]);
    assert.equal(res.code, 0, res.stderr);
    const at = res.stdout.lastIndexOf('\n');
    return { status: Number(res.stdout.slice(at + 1)), body: res.stdout.slice(0, at) };
  }

  before(async () => {
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    pki = await makePki({ op: 'operator', ro: 'readonly', boss: 'admin' });
    gw = await startGateway(dockerd, pki);
    const policy = join(pki.home, 'policy.yaml');
    writeFileSync(
      policy,
      `version: 1
identities:
  - match: { ou: admin }
    role: admin
  - match: { ou: sockless }
    role: sockless
  - match: { ou: everything }
    role: everything
  - match: { ou: profiler }
    role: profiler
roles:
  everything:
    description: every endpoint through a wildcard, which never grants an admin-only one
    allow:
      - id: all
        endpoints: ["*"]
  profiler:
    description: names one admin-only endpoint, so it gets exactly that one
    extends: readonly
    allow:
      - id: pprof-index
        endpoints: [debug.pprof.index]
  sockless:
    description: may bind host paths, never the Docker socket
    extends: readonly
    allow:
      - id: containers
        endpoints: ["container.*"]
    deny:
      - id: no-docker-socket
        endpoints: ["*"]
        when: { hostMounts: [/run/docker.sock, /var/run/docker.sock] }
        reason: the Docker socket is the daemon itself
`,
    );
    await pki.dockward(['pki', 'issue', 'client', 'sock', '--ou', 'sockless', '--policy', policy]);
    await pki.dockward(['pki', 'issue', 'client', 'wild', '--ou', 'everything', '--policy', policy]);
    await pki.dockward(['pki', 'issue', 'client', 'prof', '--ou', 'profiler', '--policy', policy]);
    gwPolicy = await startGateway(dockerd, pki, { policy });
    probe = await startProbeServer();
  });
  after(async () => {
    probe?.server.close();
    await gw?.stop();
    await gwPolicy?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
  });

  describe('debug endpoints are admin-only', () => {
    const targets = [
      '/debug/pprof/',
      '/debug/pprof/profile?seconds=1',
      '/debug/pprof/trace?seconds=1',
      '/debug/pprof/symbol',
      '/debug/pprof/cmdline',
      '/debug/pprof/goroutine?debug=2',
      '/debug/vars',
      '/v1.41/debug/pprof/',
      '/v1.41/debug/pprof/profile?seconds=1',
      '/v1.41/debug/vars',
    ];
    for (const client of ['op', 'ro']) {
      for (const target of targets) {
        it(`refuses GET ${target} to ${client === 'op' ? 'operator' : 'readonly'} with a Docker-style 403 and an audit record`, async () => {
          const res = await curl(gw, client, 'GET', target);
          assert.equal(res.status, 403, res.body);
          const message = (JSON.parse(res.body) as { message: string }).message;
          assert.match(message, /^dockward: denied by (operator|readonly)\/default-deny: /);
          const path = target.split('?')[0]!;
          assert.ok(
            await eventually(() =>
              gw
                .decisions()
                .some(
                  (r) =>
                    r.decision === 'deny' && r.identity?.cn === client && JSON.stringify(r).includes(path),
                ),
            ),
            `no deny record for ${target}`,
          );
        });
      }
    }
    for (const target of ['/debug/pprof/', '/v1.41/debug/pprof/', '/debug/vars', '/debug/pprof/cmdline']) {
      it(`refuses GET ${target} to a custom role with endpoints: ["*"]: a wildcard never grants an admin-only endpoint`, async () => {
        const res = await curl(gwPolicy, 'wild', 'GET', target);
        assert.equal(res.status, 403, res.body);
        const message = (JSON.parse(res.body) as { message: string }).message;
        assert.match(
          message,
          /^dockward: denied by everything\/default-deny: role everything has no rule that allows debug\.\S+ \(an admin-only endpoint: a wildcard never grants one; only a rule that names it does\)$/,
        );
        const path = target.replace('/v1.41', '');
        assert.ok(
          await eventually(() =>
            gwPolicy
              .decisions()
              .some((r) => r.decision === 'deny' && r.identity?.cn === 'wild' && r.canonicalPath === path),
          ),
          `no deny record for ${target}`,
        );
      });
    }
    it('lets that wildcard role reach the rest (GET /_ping, /containers/json)', async () => {
      assert.equal((await curl(gwPolicy, 'wild', 'GET', '/_ping')).status, 200);
      assert.equal((await curl(gwPolicy, 'wild', 'GET', '/v1.41/containers/json')).status, 200);
    });
    it('lets a role that names debug.pprof.index GET /debug/pprof/, and nothing else below /debug', async () => {
      const index = await curl(gwPolicy, 'prof', 'GET', '/debug/pprof/');
      assert.equal(index.status, 200, index.body.slice(0, 300));
      const vars = await curl(gwPolicy, 'prof', 'GET', '/debug/vars');
      assert.equal(vars.status, 403, vars.body);
    });
    for (const target of ['/debug/pprof/', '/debug/vars', '/debug/pprof/symbol', '/debug/pprof/cmdline']) {
      it(`lets admin GET ${target} through to dockerd`, async () => {
        const res = await curl(gw, 'boss', 'GET', target);
        assert.equal(res.status, 200, res.body.slice(0, 300));
      });
    }
  });

  describe('server-side fetches', () => {
    it('refuses build?remote=http://127.0.0.1:PORT/ to operator: 403, and the server sees nothing', async () => {
      const before = probe.hits.length;
      const res = await curl(
        gw,
        'op',
        'POST',
        `/v1.41/build?remote=http://127.0.0.1:${probe.port}/ctx&t=fetched`,
      );
      assert.equal(res.status, 403, res.body);
      assert.match(res.body, /"message":"dockward: denied by operator\/no-server-fetch: /);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(probe.hits.length, before, probe.hits.join(', '));
      assert.ok(gw.decisions().some((r) => r.rule === 'operator/no-server-fetch' && r.decision === 'deny'));
    });

    it('refuses images/create?fromSrc=http://127.0.0.1:PORT/ to operator and readonly; the server sees nothing', async () => {
      const before = probe.hits.length;
      for (const client of ['op', 'ro']) {
        const res = await curl(
          gw,
          client,
          'POST',
          `/images/create?fromSrc=http://127.0.0.1:${probe.port}/x.tar&repo=imported`,
        );
        assert.equal(res.status, 403, res.body);
        assert.match(res.body, /"message":"dockward: denied by /);
      }
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(probe.hits.length, before, probe.hits.join(', '));
    });

    it('refuses remote= sent as a form body (the Go FormValue can read parameters from one): 400, the server sees nothing', async () => {
      const before = probe.hits.length;
      const dir = pki.issuedDir('op');
      const res = await runCommand('curl', [
        '-sS',
        '--cacert',
        join(dir, 'ca.pem'),
        '--cert',
        join(dir, 'cert.pem'),
        '--key',
        join(dir, 'key.pem'),
        '--resolve',
        `localhost:${gw.port}:127.0.0.1`,
        '-H',
        'Content-Type: application/x-www-form-urlencoded',
        '--data',
        `remote=http://127.0.0.1:${probe.port}/form`,
        '-w',
        '\n%{http_code}',
        `https://localhost:${gw.port}/v1.41/build?t=form`,
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /\n400$/);
      assert.match(res.stdout, /"message":"dockward: /);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(probe.hits.length, before, probe.hits.join(', '));
    });

    it('lets admin build from the URL: dockerd fetches it', async () => {
      const before = probe.hits.length;
      const res = await curl(
        gw,
        'boss',
        'POST',
        `/v1.41/build?remote=http://127.0.0.1:${probe.port}/ctx&t=fetched`,
      );
      assert.equal(res.status, 200, res.body.slice(0, 300));
      assert.ok(probe.hits.length > before, 'dockerd did not fetch the remote');
    });

    it('lets admin import from the URL: dockerd fetches it', async () => {
      const before = probe.hits.length;
      const res = await curl(
        gw,
        'boss',
        'POST',
        `/images/create?fromSrc=http://127.0.0.1:${probe.port}/x.tar&repo=imported`,
      );
      assert.equal(res.status, 200, res.body.slice(0, 300));
      assert.ok(probe.hits.length > before, 'dockerd did not fetch fromSrc');
    });

    it('keeps docker build with a local context working for operator', async () => {
      const res = await runDocker(['build', '-q', '-t', 'op-built', '-'], {
        env: gw.envFor('op', { DOCKER_BUILDKIT: '0' }),
        input: `FROM ${TEST_IMAGE}\nLABEL built=by-operator\n`,
      });
      assert.equal(res.code, 0, res.stderr);
    });
  });

  describe('hostMounts refuses a parent of a listed path', () => {
    it('refuses docker run -v /run:/x for a role whose policy denies /run/docker.sock', async () => {
      const res = await runDocker(['run', '--rm', '-v', '/run:/x', TEST_IMAGE, 'true'], {
        env: gwPolicy.envFor('sock'),
      });
      assert.notEqual(res.code, 0);
      assert.match(
        res.stderr,
        /denied by sockless\/no-docker-socket: the Docker socket is the daemon itself; mounts host path \/run/,
      );
    });

    it('refuses -v / and the ../ spelling of the socket folder too', async () => {
      for (const v of ['/:/host', '/run/docker.sock/..:/x', '/var/run/:/x']) {
        const res = await runDocker(['create', '-v', v, TEST_IMAGE, 'true'], {
          env: gwPolicy.envFor('sock'),
        });
        assert.notEqual(res.code, 0, v);
        assert.match(res.stderr, /denied by sockless\/no-docker-socket/, v);
      }
    });

    it('still lets that role bind an unrelated host path', async () => {
      const res = await runDocker(['run', '--rm', '-v', '/srv:/x:ro', TEST_IMAGE, 'true'], {
        env: gwPolicy.envFor('sock'),
      });
      assert.equal(res.code, 0, res.stderr);
    });
  });
});

// A policy file at the gateway: in force at start, replaced on reload, and a malformed one
// refused at start and on reload (the old policy stays in force and the error is logged).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadPolicyDecider } from '../../src/policy/load.js';
import { NULL_AUDIT_SINK } from '../../src/gateway/audit-sink.js';
import { runGateway } from '../../src/gateway/run.js';
import {
  e2eSkipReason,
  freeLoopbackPort,
  type PrivateDockerd,
  runDocker,
  startDockerd,
} from './harness/index.js';
import { type GatewayFixture, makePki, startGateway } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

const allowPs = `version: 1
identities:
  - match: { cn: "dev" }
    role: dev
roles:
  dev:
    allow:
      - id: list
        endpoints: [container.list, system.ping, system.ping.head, system.version]
`;
const allowNothing = `version: 1
identities:
  - match: { cn: "dev" }
    role: dev
roles:
  dev:
    allow:
      - id: ping-only
        endpoints: [system.ping, system.ping.head, system.version]
`;

describe('a policy file at the gateway', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Awaited<ReturnType<typeof makePki>>;
  let gw: GatewayFixture;
  let policyPath = '';

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({ dev: undefined });
    policyPath = join(pki.paths.home, 'policy.yaml');
    writeFileSync(policyPath, allowPs);
    gw = await startGateway(dockerd, pki.paths, {
      loadDecider: () => loadPolicyDecider(policyPath),
    });
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
  });

  it('decides by the file: dev may list containers', async () => {
    const r = await runDocker(['ps'], { env: gw.envFor('dev') });
    assert.equal(r.code, 0, r.stderr);
  });

  it('applies a changed policy on reload', async () => {
    writeFileSync(policyPath, allowNothing);
    assert.equal((await gw.gateway.reload()).ok, true);
    const r = await runDocker(['ps'], { env: gw.envFor('dev') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /dockward: denied by dev\/default-deny/);
  });

  it('keeps the old policy when the new file is malformed, and says why', async () => {
    writeFileSync(policyPath, 'version: 1\nroles:\n  dev:\n    allow:\n      - endpoints: [container.lst]\n');
    const res = await gw.gateway.reload();
    assert.equal(res.ok, false);
    assert.match(res.error ?? '', /policy\.yaml:\d+:\d+/);
    // Still the previous policy: ping allowed, ps denied.
    assert.equal((await runDocker(['version'], { env: gw.envFor('dev') })).code, 0);
    assert.notEqual((await runDocker(['ps'], { env: gw.envFor('dev') })).code, 0);
  });

  it('refuses to start with a malformed policy (nothing listens)', async () => {
    const port = await freeLoopbackPort();
    await assert.rejects(
      runGateway(
        pki.paths,
        {
          listen: `127.0.0.1:${port}`,
          upstream: dockerd.host,
          allow: [],
          audit: NULL_AUDIT_SINK,
          loadDecider: () => loadPolicyDecider(policyPath),
        },
        pino({ level: 'silent' }),
        async () => undefined,
      ),
      (err: { code?: string }) => err.code === 'DW_E_POLICY',
    );
  });
});

// `dockward hosts`: two gateways on loopback as a fleet, used through env, a docker context and status.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DOCKER_CLI_28,
  e2eSkipReason,
  freeLoopbackPort,
  type PrivateDockerd,
  DOCKWARD_ENTRY,
  runCommand,
  runDocker,
  startDockerd,
} from './harness/index.js';
import {
  eventually,
  type GatewayProcess,
  makePki,
  type Pki,
  startGateway,
} from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

/** A `dockward` executable for shells: the built binary, so `eval "$(dockward hosts env NAME)"` runs as a user types it. */
function writeDockwardBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'dockward'), `#!/bin/sh\nexec "${process.execPath}" "${DOCKWARD_ENTRY}" "$@"\n`);
  chmodSync(join(bin, 'dockward'), 0o755);
  return bin;
}

describe('dockward hosts with two gateways on loopback', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Pki;
  let gwA: GatewayProcess;
  let gwB: GatewayProcess;
  let bStopped = false;
  const work = mkdtempSync(join(tmpdir(), 'dw-e2e-fleet-'));
  const dockerConfig = join(work, 'docker-config');
  let env: NodeJS.ProcessEnv;

  /** Runs a shell line with dockward on PATH and the fixture PKI as the state folder. */
  const sh = (line: string) => runCommand('bash', ['-c', line], { env, timeoutMs: 60_000 });
  const dw = (args: string) => sh(`dockward --home "$DOCKWARD_HOME" ${args}`);

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({});
    gwA = await startGateway(dockerd, pki);
    gwB = await startGateway(dockerd, pki);
    const bin = writeDockwardBin(work);
    mkdirSync(dockerConfig, { mode: 0o700 });
    env = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DOCKER_')) env[k] = v;
    env['PATH'] = `${bin}:${process.env['PATH'] ?? ''}`;
    env['DOCKWARD_HOME'] = pki.home;
    env['DOCKER_CONFIG'] = dockerConfig;
    // A docker command that somehow misses the fleet host fails here, never at the system socket.
    env['DOCKER_HOST'] = `unix://${join(work, 'no-such.sock')}`;
  });
  after(async () => {
    await gwA?.stop();
    if (!bStopped) await gwB?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('adds both gateways as hosts with client certificates issued by the same PKI, recording the server SANs', async () => {
    for (const [name, gw] of [
      ['alpha', gwA],
      ['beta', gwB],
    ] as const) {
      const r = await dw(`--json hosts add ${name} --endpoint tcp://127.0.0.1:${gw.port} --role admin`);
      assert.equal(r.code, 0, r.stderr);
      const res = JSON.parse(r.stdout) as {
        host: { verified: boolean; certName: string; server: { sans: string[] } };
      };
      assert.equal(res.host.verified, true);
      assert.equal(res.host.certName, `host-${name}`);
      assert.ok(res.host.server.sans.includes('IP:127.0.0.1'), res.host.server.sans.join(','));
    }
    const list = await dw('--json hosts list');
    assert.deepEqual(
      (JSON.parse(list.stdout) as { name: string }[]).map((h) => h.name),
      ['alpha', 'beta'],
    );
  });

  it('refuses a duplicate name, an unknown host and an endpoint nobody listens on, with their codes', async () => {
    const dup = await dw(`hosts add alpha --endpoint tcp://127.0.0.1:${gwA.port}`);
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /DW_E_HOST_EXISTS/);
    const unknown = await dw('hosts env nosuch');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /DW_E_HOST_UNKNOWN/);
    const port = await freeLoopbackPort();
    const dead = await dw(`hosts add ghost --endpoint tcp://127.0.0.1:${port} --timeout 2000`);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /DW_E_HOST_UNREACHABLE/);
    const list = await dw('--json hosts list');
    assert.ok(!(JSON.parse(list.stdout) as { name: string }[]).some((h) => h.name === 'ghost'));
  });

  it('makes docker info work after eval "$(dockward hosts env NAME)" in bash', async () => {
    const r = await sh(
      `set -e; eval "$(dockward --home "$DOCKWARD_HOME" hosts env alpha)"; test "$DOCKER_HOST" = tcp://127.0.0.1:${gwA.port}; ${DOCKER_CLI_28} info --format '{{.ServerVersion}}'`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^\d+\.\d+/);
  });

  it('makes docker --context NAME ps work after dockward hosts context NAME', async () => {
    const w = await dw('hosts context beta');
    assert.equal(w.code, 0, w.stderr);
    const ctxEnv = { ...env };
    delete ctxEnv['DOCKER_HOST'];
    const ps = await runDocker(['--context', 'beta', 'ps', '--all', '--format', '{{.ID}}'], {
      env: ctxEnv,
      cli: DOCKER_CLI_28,
    });
    assert.equal(ps.code, 0, ps.stderr);
    const ls = await runDocker(
      ['--context', 'beta', 'context', 'ls', '--format', '{{.Name}} {{.DockerEndpoint}}'],
      {
        env: ctxEnv,
        cli: DOCKER_CLI_28,
      },
    );
    assert.match(ls.stdout, new RegExp(`beta tcp://127\\.0\\.0\\.1:${gwB.port}`));
  });

  it('renews a host: its docker context and bundles get the new files, and the reloaded gateway refuses only the old certificate', async () => {
    const ctxEnv = { ...env };
    delete ctxEnv['DOCKER_HOST'];
    // Where the docker CLI itself keeps the context's TLS files.
    const inspect = await runDocker(['context', 'inspect'], {
      env: { ...ctxEnv, DOCKER_CONTEXT: 'beta' },
      cli: DOCKER_CLI_28,
    });
    assert.equal(inspect.code, 0, inspect.stderr);
    const [meta] = JSON.parse(inspect.stdout) as { Storage: { TLSPath: string } }[];
    const ctxTls = join(meta!.Storage.TLSPath, 'docker');
    // The files the context copied at `hosts context` time: the certificate about to be replaced.
    const oldDir = join(work, 'beta-old');
    cpSync(ctxTls, oldDir, { recursive: true });
    const tgz = join(work, 'beta.tar.gz');
    const envFile = join(work, 'beta.env');
    assert.equal((await dw(`hosts bundle beta --out "${tgz}"`)).code, 0);
    assert.equal((await dw(`hosts bundle beta --out "${envFile}" --format env`)).code, 0);

    const dry = await dw('--json hosts renew beta --force --dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal((JSON.parse(dry.stdout) as { action: string }[])[0]?.action, 'would-renew');
    assert.equal(
      readFileSync(join(ctxTls, 'cert.pem'), 'utf8'),
      readFileSync(join(oldDir, 'cert.pem'), 'utf8'),
    );

    const r = await dw('--json hosts renew beta --force');
    assert.equal(r.code, 0, r.stderr);
    const [row] = JSON.parse(r.stdout) as {
      action: string;
      oldSerial: string;
      newSerial: string;
      contexts: string[];
      bundles: string[];
      oldCert: string;
    }[];
    assert.equal(row?.action, 'renewed');
    assert.notEqual(row.newSerial, row.oldSerial);
    assert.equal(row.oldCert, 'revoked');
    assert.equal(row.contexts.length, 1);
    assert.deepEqual([...row.bundles].sort(), [envFile, tgz].sort());

    const newCert = readFileSync(join(pki.issuedDir('host-beta'), 'cert.pem'), 'utf8');
    assert.equal(readFileSync(join(ctxTls, 'cert.pem'), 'utf8'), newCert);
    assert.notEqual(newCert, readFileSync(join(oldDir, 'cert.pem'), 'utf8'));
    const untar = await sh(`tar -xzOf "${tgz}" cert.pem`);
    assert.equal(untar.stdout, newCert);
    const b64 = await sh(`set -a; . "${envFile}"; printf '%s' "$DOCKWARD_CERT_PEM_B64" | base64 -d`);
    assert.equal(b64.stdout, newCert);

    assert.deepEqual(await gwB.reload(), { ok: true });
    const ps = await runDocker(['--context', 'beta', 'ps', '--all', '--format', '{{.ID}}'], {
      env: ctxEnv,
      cli: DOCKER_CLI_28,
    });
    assert.equal(ps.code, 0, ps.stderr);
    const old = await runDocker(['ps'], {
      env: {
        ...ctxEnv,
        DOCKER_HOST: `tcp://127.0.0.1:${gwB.port}`,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: oldDir,
      },
      cli: DOCKER_CLI_28,
    });
    assert.notEqual(old.code, 0, 'the old, revoked certificate still reaches the gateway');
    // Refused for the revocation, not for anything else about those files.
    await eventually(() => gwB.connections().some((c) => c.event === 'handshake-failed'));
    const refusals = gwB.connections().filter((c) => c.event === 'handshake-failed');
    assert.match(refusals.at(-1)?.reason ?? '', /revoked/);
    const list = JSON.parse((await dw('--json hosts list')).stdout) as {
      name: string;
      contexts: { serial: string }[];
      bundles: { serial: string }[];
    }[];
    const beta = list.find((h) => h.name === 'beta');
    assert.deepEqual(
      [...(beta?.contexts ?? []), ...(beta?.bundles ?? [])].map((c) => c.serial),
      [row.newSerial, row.newSerial, row.newSerial],
    );
  });

  it('reports both hosts reachable, then the stopped one unreachable while the other is still reported, exiting 1', async () => {
    interface Row {
      name: string;
      reachable: boolean;
      engineVersion?: string;
      apiVersion?: string;
      containersTotal?: number;
      clientCertDaysLeft?: number;
      serverCertDaysLeft?: number;
    }
    const up = await dw('--json hosts status --timeout 5000');
    assert.equal(up.code, 0, up.stderr);
    // No progress bar outside a terminal: stderr is a pipe here.
    assert.doesNotMatch(up.stderr, /\r|hosts\b.*\d+\/\d+/);
    const rows = JSON.parse(up.stdout) as Row[];
    assert.deepEqual(
      rows.map((r) => [r.name, r.reachable]),
      [
        ['alpha', true],
        ['beta', true],
      ],
    );
    for (const r of rows) {
      assert.match(r.apiVersion ?? '', /^1\.\d+$/);
      assert.equal(typeof r.containersTotal, 'number');
      assert.ok((r.clientCertDaysLeft ?? -1) > 0);
      assert.ok((r.serverCertDaysLeft ?? -1) > 0);
    }

    await gwB.stop();
    bStopped = true;
    const down = await dw('--json hosts status --timeout 2000');
    assert.equal(down.code, 1);
    assert.match(down.stderr, /DW_E_HOST_UNREACHABLE/);
    const after = JSON.parse(down.stdout) as Row[];
    assert.deepEqual(
      after.map((r) => [r.name, r.reachable]),
      [
        ['alpha', true],
        ['beta', false],
      ],
    );
    assert.match(after[0]?.engineVersion ?? '', /^\d+\.\d+/);
  });
  it('audits every host with the API rules: the live one evaluated, the stopped one a failing audit-input, exit 1', async () => {
    // Runs after the status test stopped beta.
    assert.ok(bStopped, 'the status test stops beta first');
    interface HostReport {
      host: string;
      findings: { id: string; status: string; severity: string }[];
      summary: { byStatus: Record<string, number> };
    }
    const r = await dw('--json hosts audit --fail-on high --timeout 3000');
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /1 of 2 hosts have a failing finding at or above high: beta \[DW_E_AUDIT_FAILED\]/,
    );
    const reports = JSON.parse(r.stdout) as HostReport[];
    const alpha = reports.find((x) => x.host === 'alpha');
    const beta = reports.find((x) => x.host === 'beta');
    assert.ok(alpha && beta);
    const status = (rep: HostReport, id: string) => rep.findings.find((f) => f.id === id)?.status;
    // API rules ran against the daemon behind alpha; file rules need the host itself.
    assert.equal(status(alpha, 'container-privileged'), 'pass');
    assert.equal(status(alpha, 'daemon-json-mode'), 'skip');
    assert.equal(status(alpha, 'audit-input'), undefined);
    assert.equal(status(beta, 'audit-input'), 'fail');

    const table = await dw('hosts audit --fail-on none --timeout 3000');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^HOST\s+ENDPOINT\s+FAIL/m);
    assert.match(table.stdout, /^beta\s+tcp:\/\/127\.0\.0\.1:\d+\s+1\s+1 high.*audit-input/m);
  });
});

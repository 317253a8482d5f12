// Issue 2, "Done when": certificates issued by `dockward pki` secure a real dockerd's TCP listener.
// One private dockerd for the whole file, started with --tlsverify and a dockward server certificate.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  e2eSkipReason,
  freeLoopbackPort,
  type PrivateDockerd,
  type RunResult,
  runDocker,
  runDockward,
  startDockerd,
} from './harness/index.js';

const skip = await e2eSkipReason();

// What the CLI sees when the daemon refuses its certificate: Go's TLS alert ("remote error: tls: bad
// certificate" from dockerd 20.10; newer Go sends more specific ones), or, with TLS 1.3, a reset when
// the CLI's first write races the daemon closing the connection after the alert.
const CLIENT_SEES_REFUSAL =
  /remote error: tls: (bad certificate|certificate required|unknown certificate authority|unsupported certificate)|connection reset by peer/;

describe('dockerd secured with certificates from dockward pki', { skip }, () => {
  let work = '';
  let homeA = '';
  let homeB = '';
  let port = 0;
  let dockerd: PrivateDockerd | undefined;

  /** Runs dockward with a clean environment and fails the test setup on a non-zero exit. */
  async function dockward(args: string[]): Promise<RunResult> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DOCKWARD_HOME;
    delete env.DOCKWARD_CA_PASSPHRASE;
    const res = await runDockward(args, { env });
    assert.equal(res.code, 0, `dockward ${args.join(' ')}: ${res.stderr}`);
    return res;
  }

  /** The docker CLI 28 against the TLS listener, with DOCKER_TLS_VERIFY=1 and the given cert folder. */
  function dockerOverTls(certPath: string, host = `tcp://127.0.0.1:${port}`): Promise<RunResult> {
    assert.ok(dockerd, 'dockerd was started in before()');
    const env = { ...dockerd.env, DOCKER_HOST: host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath };
    return runDocker(['info', '--format', '{{.ID}}'], { env, timeoutMs: 30_000 });
  }

  /**
   * Runs the CLI with a certificate folder and asserts the daemon refused it: the CLI failed with a
   * TLS refusal, and dockerd's own log names the reason (`http: TLS handshake error from ...`).
   */
  async function assertRefusedByDaemon(certPath: string, what: string, daemonReason: RegExp): Promise<void> {
    assert.ok(dockerd);
    const offset = dockerd.readLog().length;
    const res = await dockerOverTls(certPath);
    assert.notEqual(res.code, 0, `${what} must be refused; stdout: ${res.stdout}`);
    assert.match(res.stderr, CLIENT_SEES_REFUSAL, `${what}: the CLI reports the refusal`);
    // dockerd logs the failed handshake as it closes the connection: allow it a moment to land.
    let log = '';
    for (let i = 0; i < 50; i++) {
      log = dockerd.readLog().slice(offset);
      if (/http: TLS handshake error from 127\.0\.0\.1:\d+: /.test(log)) break;
      await sleep(100);
    }
    const line = log.split('\n').find((l) => l.includes('TLS handshake error'));
    assert.ok(line, `${what}: dockerd logged the failed handshake`);
    assert.match(line, daemonReason, `${what}: dockerd's reason`);
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dw-pki-tls-'));
    homeA = join(work, 'home-a');
    homeB = join(work, 'home-b');
    await dockward(['--home', homeA, 'pki', 'init']);
    await dockward([
      '--home',
      homeA,
      'pki',
      'issue',
      'server',
      'dockerd',
      '--san',
      'IP:127.0.0.1',
      '--san',
      'DNS:localhost',
    ]);
    await dockward(['--home', homeA, 'pki', 'issue', 'client', 'alice', '--ou', 'admin']);
    await dockward(['--home', homeA, 'pki', 'issue', 'client', 'bob', '--key-type', 'rsa-2048']);
    // A second, unrelated CA with the same default name ("dockward CA"), as two separate installs
    // have. Same issuer name matters: Go's TLS client withholds a certificate whose issuer is not
    // among the CAs the server asks for, and then the daemon would never get to verify it.
    await dockward(['--home', homeB, 'pki', 'init']);
    await dockward(['--home', homeB, 'pki', 'issue', 'client', 'mallory']);

    port = await freeLoopbackPort();
    const server = join(homeA, 'pki', 'issued', 'dockerd');
    dockerd = await startDockerd({
      extraArgs: [
        '-H',
        `tcp://127.0.0.1:${port}`,
        '--tlsverify',
        '--tlscacert',
        join(homeA, 'pki', 'ca.pem'),
        '--tlscert',
        join(server, 'cert.pem'),
        '--tlskey',
        join(server, 'key.pem'),
      ],
    });
  });

  after(async () => {
    await dockerd?.cleanup();
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('serves docker info to an ECDSA client certificate over tcp://127.0.0.1', async () => {
    const res = await dockerOverTls(join(homeA, 'pki', 'issued', 'alice'));
    assert.equal(res.code, 0, res.stderr);
    assert.notEqual(res.stdout.trim(), '', 'docker info printed the daemon ID');
  });

  it('serves docker info when the client dials the DNS name localhost from the server SANs', async () => {
    const res = await dockerOverTls(join(homeA, 'pki', 'issued', 'alice'), `tcp://localhost:${port}`);
    assert.equal(res.code, 0, res.stderr);
  });

  it('serves docker info to an RSA-2048 client certificate', async () => {
    const res = await dockerOverTls(join(homeA, 'pki', 'issued', 'bob'));
    assert.equal(res.code, 0, res.stderr);
  });

  it('answers the same daemon ID over TLS as over its unix socket', async () => {
    assert.ok(dockerd);
    const local = await runDocker(['info', '--format', '{{.ID}}'], { env: dockerd.env });
    const remote = await dockerOverTls(join(homeA, 'pki', 'issued', 'alice'));
    assert.equal(local.code, 0, local.stderr);
    assert.equal(remote.stdout, local.stdout);
  });

  it('refuses a client certificate issued by another dockward CA', async () => {
    // The folder trusts our CA, so the CLI accepts the daemon; only the client certificate is foreign.
    const dir = join(work, 'foreign-client');
    mkdirSync(dir);
    copyFileSync(join(homeA, 'pki', 'ca.pem'), join(dir, 'ca.pem'));
    copyFileSync(join(homeB, 'pki', 'issued', 'mallory', 'cert.pem'), join(dir, 'cert.pem'));
    copyFileSync(join(homeB, 'pki', 'issued', 'mallory', 'key.pem'), join(dir, 'key.pem'));
    await assertRefusedByDaemon(
      dir,
      'a client cert from another CA',
      /failed to verify client certificate: x509: certificate signed by unknown authority/,
    );
  });

  it('refuses the server certificate presented as a client certificate', async () => {
    await assertRefusedByDaemon(
      join(homeA, 'pki', 'issued', 'dockerd'),
      'a serverAuth-only certificate used as a client cert',
      /failed to verify client certificate: x509: certificate specifies an incompatible key usage/,
    );
  });

  it('refuses a client that trusts the CA but presents no certificate', async () => {
    const dir = join(work, 'ca-only');
    mkdirSync(dir);
    copyFileSync(join(homeA, 'pki', 'ca.pem'), join(dir, 'ca.pem'));
    await assertRefusedByDaemon(dir, 'a client without a certificate', /client didn't provide a certificate/);
  });

  it('is refused by a client that trusts only the other CA', async () => {
    // The other direction: the daemon's certificate does not chain to a foreign CA, so the CLI stops.
    const res = await dockerOverTls(join(homeB, 'pki', 'issued', 'mallory'));
    assert.notEqual(res.code, 0, `the CLI must not talk to an untrusted daemon; stdout: ${res.stdout}`);
    assert.match(res.stderr, /x509: certificate signed by unknown authority/);
  });
});

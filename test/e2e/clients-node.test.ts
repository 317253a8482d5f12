// Node clients through the gateway with the variables `eval "$(dockward hosts env NAME)"` exports:
// dockerode (docker-modem reads DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and
// testcontainers-node (its environment strategy reads the same three). testcontainers stays on 11.x:
// 12 brings undici 8, which needs Node 22 (zlib zstd), and dockward supports Node 20.
//
// Ryuk, testcontainers' reaper, is off (TESTCONTAINERS_RYUK_DISABLED=true) because it cannot work
// here and is not what this suite is about: its image (testcontainers/ryuk) would be pulled from
// Docker Hub, and no registry may be reached from the tests; it bind-mounts the daemon host's
// /var/run/docker.sock, which for a remote TCP daemon is that host's default daemon (the machine's
// own dockerd here, never the private one behind the gateway); and the client reaches it through a
// published port, while the private dockerd runs with --bridge=none. The suite removes its
// containers itself and checks on the daemon that none are left.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { e2eSkipReason, runDocker, TEST_IMAGE } from './harness/index.js';
import { ClientLab } from './support/client-lab.js';

const skip = await e2eSkipReason();

const CLIENT_VARS = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'] as const;

/** Puts a host's variables into this process's environment, as a shell that ran the eval has them. */
function exportVars(vars: Record<string, string>): void {
  for (const k of CLIENT_VARS) {
    const v = vars[k];
    if (v === undefined) throw new Error(`dockward hosts env did not export ${k}`);
    process.env[k] = v;
  }
}

describe('dockerode and testcontainers-node through the gateway with `dockward hosts env`', { skip }, () => {
  let lab: ClientLab;
  let labVars: Record<string, string>;
  let viewerVars: Record<string, string>;

  before(async () => {
    lab = await ClientLab.start();
    await lab.addHost('lab', 'admin');
    await lab.addHost('viewer', 'readonly');
    labVars = await lab.hostEnv('lab');
    viewerVars = await lab.hostEnv('viewer');
    exportVars(labVars);
    process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
  });
  after(async () => {
    for (const k of CLIENT_VARS) delete process.env[k];
    await lab?.stop();
  });

  const daemonPs = async (filter: string) => {
    const r = await runDocker(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'], {
      env: lab.dockerd.env,
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  it('dockerode from the environment alone: ping, create + start, exec, logs, wait and remove', async () => {
    const docker = new Docker();
    assert.equal((docker.modem as { protocol?: string }).protocol, 'https');
    assert.equal(String(await docker.ping()), 'OK');
    const c = await docker.createContainer({
      name: 'dockerode-one',
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', 'echo dockerode says hi; sleep 2'],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    const exec = await c.exec({
      Cmd: ['sh', '-c', 'echo exec $((6*7))'],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    const out = new PassThrough();
    out.on('data', (b: Buffer) => chunks.push(b));
    docker.modem.demuxStream(stream, out, out);
    await new Promise<void>((resolve) => stream.on('end', () => resolve()));
    assert.equal(Buffer.concat(chunks).toString(), 'exec 42\n');
    assert.equal((await exec.inspect()).ExitCode, 0);
    assert.equal((await c.wait()).StatusCode, 0);
    const logs = await c.logs({ stdout: true, stderr: true });
    // Non-TTY logs are multiplexed: an 8-byte frame header, then the line.
    assert.equal(logs.subarray(8).toString(), 'dockerode says hi\n');
    await c.remove();
    assert.equal(await daemonPs('name=dockerode-one'), '');
  });

  it("dockerode gets the gateway's 403 and message for a readonly host", async () => {
    // docker-modem reads the variables when the client is made.
    exportVars(viewerVars);
    const docker = new Docker();
    exportVars(labVars);
    await assert.rejects(
      docker.createContainer({ Image: TEST_IMAGE, Cmd: ['true'] }),
      (e: { statusCode?: number; message?: string }) => {
        assert.equal(e.statusCode, 403);
        assert.match(String(e.message), /dockward: denied by readonly\/default-deny/);
        return true;
      },
    );
    assert.equal(String(await docker.ping()), 'OK');
  });

  it('testcontainers starts the local test image without pulling, waits for its log line, execs and stops it', async () => {
    const { GenericContainer, Wait } = await import('testcontainers');
    const started = await new GenericContainer(TEST_IMAGE)
      .withName('tc-one')
      .withCommand(['sh', '-c', 'echo tc is ready; sleep 300'])
      .withNetworkMode('none')
      .withLabels({ 'dw.test': 'testcontainers' })
      .withWaitStrategy(Wait.forLogMessage('tc is ready'))
      .start();
    try {
      assert.equal(await daemonPs('label=dw.test=testcontainers'), 'tc-one');
      const r = await started.exec(['sh', '-c', 'echo exec $((6*7))']);
      assert.equal(r.exitCode, 0);
      assert.equal(r.output, 'exec 42\n');
    } finally {
      await started.stop({ timeout: 1 });
    }
    assert.equal(await daemonPs('label=dw.test=testcontainers'), '');
    // Through the gateway as host-lab: it looked the image up and found it, and never asked for a pull.
    const tc = lab.auditedRequests().filter((r) => r.userAgent?.startsWith('tc-node/'));
    assert.deepEqual([...new Set(tc.map((r) => `${r.identity?.cn} ${r.decision}`))], ['host-lab allow']);
    const endpoints = tc.map((r) => r.endpoint);
    assert.ok(
      endpoints.includes('image.inspect') && endpoints.includes('container.create'),
      endpoints.join(),
    );
    assert.ok(!endpoints.includes('image.create'), endpoints.join());
  });
});

// Every docker command through the gateway: the real docker CLI 28 and 20.10, and dockerode.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import Docker from 'dockerode';
import {
  buildBusyboxImage,
  DOCKER_CLI_20,
  DOCKER_CLI_28,
  e2eSkipReason,
  type PrivateDockerd,
  runDocker,
  startDockerd,
  TEST_IMAGE,
} from './harness/index.js';
import { type GatewayProcess, makePki, type Pki, startGateway } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

/** Reads a streaming command's stdout until `lines` lines arrived, then stops it. */
function firstLines(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  lines: number,
  timeoutMs = 30_000,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; got ${JSON.stringify(out)} ${err}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const got = out.split('\n').filter((l) => l.length > 0);
      if (got.length >= lines) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        resolve(got.slice(0, lines));
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
  });
}

describe('the docker CLI through the gateway', { skip }, () => {
  let dockerd: PrivateDockerd;
  let gw: GatewayProcess;
  let pki: Pki;
  let env: NodeJS.ProcessEnv;
  const work = mkdtempSync(join(tmpdir(), 'dw-e2e-gwcli-'));

  before(async () => {
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    pki = await makePki({ admin: 'admin', viewer: 'readonly' });
    gw = await startGateway(dockerd, pki);
    env = gw.envFor('admin');
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const docker = async (args: string[], input?: string, cli = DOCKER_CLI_28) => {
    const r = await runDocker(args, { env, cli, ...(input !== undefined ? { input } : {}) });
    assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  it('answers version, info and ps (CLI 28 and 20.10)', async () => {
    assert.match(await docker(['version', '--format', '{{.Server.APIVersion}}']), /^1\.\d+\n$/);
    assert.match(await docker(['info', '--format', '{{.ServerVersion}}']), /\d+\.\d+/);
    await docker(['ps', '-a']);
    assert.match(
      await docker(['version', '--format', '{{.Server.Version}}'], undefined, DOCKER_CLI_20),
      /\d+\.\d+/,
    );
    await docker(['ps'], undefined, DOCKER_CLI_20);
  });

  it('runs a container with --rm and prints its output', async () => {
    assert.equal(await docker(['run', '--rm', TEST_IMAGE, 'echo', 'ok']), 'ok\n');
  });

  it('passes stdin to `run -i` and closes it (half-close)', async () => {
    assert.equal(
      await docker(['run', '-i', '--rm', TEST_IMAGE, 'cat'], 'through the gateway\n'),
      'through the gateway\n',
    );
  });

  it('follows logs of a detached container (logs -f, ended after 3 lines)', async () => {
    await docker([
      'run',
      '-d',
      '--name',
      'ticker',
      TEST_IMAGE,
      'sh',
      '-c',
      'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done',
    ]);
    const lines = await firstLines(DOCKER_CLI_28, ['logs', '-f', 'ticker'], env, 3);
    assert.deepEqual(lines, ['line 0', 'line 1', 'line 2']);
  });

  it('execs with and without -i; `echo hi | docker exec -i C cat` prints hi and exits', async () => {
    assert.equal(await docker(['exec', 'ticker', 'echo', 'exec-ok']), 'exec-ok\n');
    assert.equal(await docker(['exec', '-i', 'ticker', 'cat'], 'hi\n'), 'hi\n');
    assert.equal(await docker(['exec', '-i', 'ticker', 'cat'], 'old cli\n', DOCKER_CLI_20), 'old cli\n');
  });

  it('attaches to a running container and sees its output', async () => {
    await docker([
      'run',
      '-d',
      '--name',
      'talker',
      TEST_IMAGE,
      'sh',
      '-c',
      'sleep 1; echo attached-out; sleep 1',
    ]);
    assert.match(await docker(['attach', 'talker']), /attached-out/);
  });

  it('lists events between --since and --until', async () => {
    const out = await docker([
      'events',
      '--since',
      '10m',
      '--until',
      '0s',
      '--format',
      '{{.Type}} {{.Action}}',
    ]);
    assert.match(out, /container (create|start)/);
  });

  it('saves an image and loads it back (streamed both ways)', async () => {
    const tar = join(work, 'img.tar');
    await docker(['save', '-o', tar, TEST_IMAGE]);
    assert.ok(readFileSync(tar).length > 1_000_000);
    await docker(['tag', TEST_IMAGE, 'copy:1']);
    await docker(['rmi', 'copy:1']);
    assert.match(await docker(['load', '-i', tar]), /Loaded image/);
  });

  it('copies files into and out of a container', async () => {
    const src = join(work, 'in.txt');
    writeFileSync(src, 'copied in\n');
    await docker(['cp', src, 'ticker:/in.txt']);
    assert.equal(await docker(['exec', 'ticker', 'cat', '/in.txt']), 'copied in\n');
    const dst = join(work, 'out.txt');
    await docker(['cp', 'ticker:/in.txt', dst]);
    assert.equal(readFileSync(dst, 'utf8'), 'copied in\n');
  });

  it('builds an image from a tiny context (classic builder)', async () => {
    const ctx = join(work, 'ctx');
    rmSync(ctx, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(ctx, { recursive: true }));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo built > /built.txt\n`);
    const r = await runDocker(['build', '-t', 'built:1', ctx], { env: { ...env, DOCKER_BUILDKIT: '0' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await docker(['run', '--rm', 'built:1', 'cat', '/built.txt']), 'built\n');
  });

  it('builds with BuildKit (CLI 20.10), whose /session and /grpc upgrade to h2c through the gateway', async () => {
    const ctx = join(work, 'bkctx');
    await import('node:fs/promises').then((fs) => fs.mkdir(ctx, { recursive: true }));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nCOPY f.txt /f.txt\n`);
    writeFileSync(join(ctx, 'f.txt'), 'buildkit\n');
    const r = await runDocker(['build', '-t', 'bk:1', ctx], {
      env: { ...env, DOCKER_BUILDKIT: '1' },
      cli: DOCKER_CLI_20,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await docker(['run', '--rm', 'bk:1', 'cat', '/f.txt']), 'buildkit\n');
    assert.ok(gw.decisions().some((d) => d.endpoint === 'session' && d.decision === 'allow'));
  });

  it('serves the old hijack form: exec start without Upgrade gets 200 and a raw stream both ways', async () => {
    const certDir = pki.issuedDir('admin');
    const tlsOpts = {
      host: '127.0.0.1',
      port: gw.port,
      ca: readFileSync(join(certDir, 'ca.pem')),
      cert: readFileSync(join(certDir, 'cert.pem')),
      key: readFileSync(join(certDir, 'key.pem')),
      servername: 'localhost',
    };
    const request = (head: string, body: string) =>
      new Promise<{ socket: ReturnType<typeof tlsConnect>; first: Promise<string> }>((resolve) => {
        const socket = tlsConnect(tlsOpts, () => {
          socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        });
        let buf = '';
        const first = new Promise<string>((res) => {
          socket.on('data', (d: Buffer) => {
            buf += d.toString('latin1');
          });
          socket.on('close', () => res(buf));
        });
        resolve({ socket, first });
      });
    const create = await request(
      'POST /v1.41/containers/ticker/exec HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nConnection: close\r\n',
      JSON.stringify({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true }),
    );
    const createdText = await create.first;
    const id = /"Id":"([0-9a-f]+)"/.exec(createdText)?.[1];
    assert.ok(id, createdText);
    const start = await request(
      `POST /v1.41/exec/${id}/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n`,
      JSON.stringify({ Detach: false, Tty: false }),
    );
    start.socket.once('data', () => {
      start.socket.write('raw form stdin\n');
      start.socket.end(); // half-close: cat sees EOF, prints, exits; dockerd closes
    });
    const all = await start.first;
    assert.match(all, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(all, /vnd\.docker\.(raw|multiplexed)-stream/);
    assert.match(all, /raw form stdin/);
  });

  it('upgrades attach/ws to a WebSocket and streams the output', async () => {
    await docker(['run', '-d', '--name', 'wsout', TEST_IMAGE, 'sh', '-c', 'sleep 1; echo ws-out; sleep 1']);
    const certDir = pki.issuedDir('admin');
    const got = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect(
        {
          host: '127.0.0.1',
          port: gw.port,
          ca: readFileSync(join(certDir, 'ca.pem')),
          cert: readFileSync(join(certDir, 'cert.pem')),
          key: readFileSync(join(certDir, 'key.pem')),
          servername: 'localhost',
        },
        () => {
          socket.write(
            'GET /v1.41/containers/wsout/attach/ws?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://docker\r\n\r\n',
          );
        },
      );
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no ws output: ${JSON.stringify(buf)}`)), 20_000);
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (buf.includes('ws-out')) {
          clearTimeout(timer);
          socket.destroy();
          resolve(buf);
        }
      });
    });
    assert.match(got, /^HTTP\/1\.1 101 /);
    assert.match(got, /ws-out/);
  });

  it('shows stats once (--no-stream)', async () => {
    assert.match(await docker(['stats', '--no-stream', '--format', '{{.Name}}', 'ticker']), /ticker/);
  });

  it('prints the gateway denial in the CLI output for a role that may not do it', async () => {
    const r = await runDocker(['rm', '-f', 'ticker'], { env: gw.envFor('viewer') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: dockward: denied by readonly\/default-deny/);
  });

  it('records a decision and a completion for every request, with the identity', () => {
    const decisions = gw.decisions();
    assert.ok(decisions.length > 20);
    assert.ok(decisions.every((d) => d.identity?.cn === 'admin' || d.identity?.cn === 'viewer'));
    const exec = decisions.find((d) => d.endpoint === 'exec.start');
    assert.ok(exec, 'exec start was recorded');
    const done = gw.completions().find((c) => c.requestId === exec.requestId);
    assert.equal(done?.hijacked, true);
    assert.equal(done?.status, 101);
    const denied = decisions.find((d) => d.decision === 'deny');
    assert.equal(denied?.rule, 'readonly/default-deny');
  });

  it('serves dockerode: ping, version, list, create + start + wait + logs, exec with stdin', async () => {
    const certDir = pki.issuedDir('admin');
    const client = new Docker({
      host: '127.0.0.1',
      port: gw.port,
      protocol: 'https',
      ca: readFileSync(join(certDir, 'ca.pem')),
      cert: readFileSync(join(certDir, 'cert.pem')),
      key: readFileSync(join(certDir, 'key.pem')),
    });
    assert.equal(String(await client.ping()), 'OK');
    assert.match((await client.version()).ApiVersion, /^1\./);
    assert.ok((await client.listContainers({ all: true })).some((c) => c.Names.includes('/ticker')));
    const c = await client.createContainer({ Image: TEST_IMAGE, Cmd: ['echo', 'from dockerode'] });
    await c.start();
    assert.equal((await c.wait()).StatusCode, 0);
    const logs = await c.logs({ stdout: true });
    assert.match(logs.toString(), /from dockerode/);
    await c.remove();
    const ticker = client.getContainer('ticker');
    const exec = await ticker.exec({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true });
    const stream = await exec.start({ hijack: true, stdin: true });
    const out = await new Promise<string>((resolve) => {
      let buf = Buffer.alloc(0);
      stream.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
      });
      stream.on('end', () => resolve(buf.toString('latin1')));
      stream.end('dockerode stdin\n');
    });
    assert.match(out, /dockerode stdin/);
  });
});

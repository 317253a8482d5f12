// The gateway under faults and operations: a daemon that goes away, clients that leave mid-stream,
// reloads under load, kill -9, a tampered audit log, malformed requests, metrics and graceful stop.
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import {
  buildBusyboxImage,
  e2eSkipReason,
  freeLoopbackPort,
  type PrivateDockerd,
  runDocker,
  runDockward,
  startDockerd,
  TEST_IMAGE,
} from './harness/index.js';
import {
  dockwardEnv,
  eventually,
  type GatewayProcess,
  makePki,
  type Pki,
  startGateway,
  type ClientFiles,
  filesOf,
} from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

interface Answer {
  status?: number;
  body?: string;
  error?: string;
}

/** One request over TLS with a client certificate: the status and body, or the error that ended it. */
function call(
  port: number,
  files: ClientFiles,
  path: string,
  options: { method?: string; body?: string; agent?: HttpsAgent } = {},
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        servername: 'localhost',
        ...(options.agent ? { agent: options.agent } : { agent: false, ...files }),
        ...(options.body !== undefined
          ? {
              headers: {
                'Content-Type': 'application/json',
                'Content-Length': Buffer.byteLength(options.body),
              },
            }
          : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.on('error', (err) =>
      resolve({ error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }),
    );
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.end(options.body);
  });
}

/** Sends raw bytes on a fresh TLS connection and collects what comes back until it closes (or the bound). */
function rawExchange(
  port: number,
  files: ClientFiles,
  payload: string | Buffer,
  boundMs = 20_000,
): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    let settled = false;
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...files }, () => {
      socket.write(payload);
    });
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(() => finish(false), boundMs);
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

/** Established connections to a unix socket path, counted on the listening side (`ss -x`). */
function connectionsTo(socketPath: string): number {
  const res = spawnSync('ss', ['-xH'], { encoding: 'utf8', timeout: 10_000 });
  return res.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === 'ESTAB' && f[4] === socketPath).length;
}

/** GETs a path from the plain-HTTP metrics listener. */
function httpText(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

describe('gateway faults: daemon, clients, reloads, malformed requests, metrics', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Pki;
  let gw: GatewayProcess;
  let metricsPort: number;
  let admin: ClientFiles;

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({ admin: 'admin' });
    metricsPort = await freeLoopbackPort();
    // No --audit-rate: the load test makes thousands of requests as one identity on purpose.
    gw = await startGateway(dockerd, pki, {
      metrics: `127.0.0.1:${metricsPort}`,
      args: ['--audit-rate', '0'],
    });
    admin = filesOf(pki.issuedDir('admin'));
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
  });

  it('answers 502 with a dockward message while dockerd is down, and serves again once it is back, without a gateway restart', async () => {
    const env = gw.envFor('admin');
    assert.equal((await runDocker(['ps'], { env })).code, 0);
    await dockerd.stop();
    const res = await call(gw.port, admin, '/v1.41/containers/json');
    assert.equal(res.status, 502, JSON.stringify(res));
    assert.match(res.body ?? '', /^\{"message":"dockward: /);
    const cli = await runDocker(['ps'], { env });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /Error response from daemon: dockward: the Docker daemon is unreachable/);
    await dockerd.restart();
    const again = await runDocker(['ps'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await call(gw.port, admin, '/v1.41/containers/json')).status, 200);
  });

  it('leaves no upstream socket open when a client aborts an events stream', async () => {
    assert.equal((await call(gw.port, admin, '/_ping')).status, 200);
    const socket = tlsConnect({ host: '127.0.0.1', port: gw.port, servername: 'localhost', ...admin });
    socket.on('error', () => undefined);
    const head = await new Promise<string>((resolve, reject) => {
      let data = '';
      socket.once('secureConnect', () => socket.write('GET /v1.41/events HTTP/1.1\r\nHost: docker\r\n\r\n'));
      socket.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        if (data.includes('\r\n\r\n')) resolve(data);
      });
      socket.once('close', () => reject(new Error(`closed before the headers: ${data}`)));
    });
    assert.match(head, /^HTTP\/1\.1 200/);
    // The stream holds one upstream connection (new, or an idle keep-alive one from the pool);
    // nothing else runs now, so the idle ones stay and the count must drop by at least that one.
    const during = connectionsTo(dockerd.socketPath);
    assert.ok(during >= 1, 'the open stream should hold an upstream connection');
    socket.destroy();
    assert.ok(
      await eventually(() => connectionsTo(dockerd.socketPath) < during),
      `upstream connections stayed at ${connectionsTo(dockerd.socketPath)} (${during} with the stream open)`,
    );
  });

  it('fails no request while it reloads, and rewrites of the CRL, happen under load', async () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 4, ...admin });
    const statuses: (number | string)[] = [];
    // The load runs until every reload is done and at least 300 requests were made (at most 5000).
    let reloading = true;
    const worker = async () => {
      while ((reloading || statuses.length < 300) && statuses.length < 5000) {
        const res = await call(gw.port, admin, '/_ping', { agent });
        statuses.push(res.status ?? `error: ${res.error}`);
      }
    };
    const reloads = (async () => {
      const results: boolean[] = [];
      try {
        for (let i = 0; i < 10 && statuses.length < 5000; i++) {
          // `pki crl --refresh` rewrites crl.pem, which the gateway watches; SIGHUP reloads too.
          if (i === 5) await pki.dockward(['pki', 'crl', '--refresh']);
          results.push((await gw.reload()).ok);
          await sleep(20);
        }
      } finally {
        reloading = false;
      }
      return results;
    })();
    try {
      await Promise.all([worker(), worker(), worker(), worker()]);
    } finally {
      agent.destroy();
    }
    const reloadResults = await reloads;
    assert.equal(reloadResults.length, 10, `only ${reloadResults.length} reloads ran during the load`);
    assert.ok(reloadResults.every((ok) => ok));
    assert.ok(statuses.length >= 300, `only ${statuses.length} requests`);
    const failed = statuses.filter((s) => s !== 200);
    assert.deepEqual(failed, []);
  });

  const malformed: [string, string | Buffer, (data: string) => void][] = [
    [
      'refuses an unknown endpoint with 403 and a dockward message',
      'GET /v1.41/nonsense HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n',
      (d) => {
        assert.match(d, /^HTTP\/1\.1 403 /);
        assert.match(d, /\{"message":"dockward: /);
      },
    ],
    [
      'refuses an empty path segment with 400',
      'GET /v1.41//containers/json HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n',
      (d) => assert.match(d, /^HTTP\/1\.1 400 /),
    ],
    [
      'serves a percent-encoded version prefix in its canonical form',
      'GET /v%31.41/containers/json HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n',
      (d) => assert.match(d, /^HTTP\/1\.1 200 /),
    ],
    [
      'refuses an Upgrade on an endpoint that does not hijack with 400',
      'GET /v1.41/containers/json HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
      (d) => assert.match(d, /^HTTP\/1\.1 400 /),
    ],
    [
      'refuses request headers over 16 KiB with 431',
      `GET /_ping HTTP/1.1\r\nHost: docker\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
      (d) => assert.match(d, /^HTTP\/1\.1 431 /),
    ],
    [
      'never answers 200 to an HTTP/2 prior-knowledge preface',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      (d) => assert.doesNotMatch(d, /^HTTP\/1\.1 200 /),
    ],
  ];
  for (const [name, payload, check] of malformed) {
    it(name, async () => {
      const res = await rawExchange(gw.port, admin, payload);
      assert.ok(res.closed, `the connection stayed open; got ${JSON.stringify(res.data.slice(0, 300))}`);
      check(res.data);
    });
  }

  it('answers 408 or closes a connection whose request head never ends (slowloris)', async () => {
    const slow = await startGateway(dockerd, pki, { headersTimeoutMs: 1000 });
    try {
      const res = await rawExchange(slow.port, admin, 'GET /_ping HTTP/1.1\r\nHost: x\r\n', 20_000);
      assert.ok(res.closed, `the connection was still open after 20 s; got ${JSON.stringify(res.data)}`);
      assert.ok(res.data === '' || /^HTTP\/1\.1 408 /.test(res.data), `got ${JSON.stringify(res.data)}`);
    } finally {
      await slow.stop();
    }
  });

  it('serves Prometheus metrics and a healthy /healthz on the metrics listener', async () => {
    assert.equal((await call(gw.port, admin, '/_ping')).status, 200);
    const metrics = await httpText(metricsPort, '/metrics');
    assert.equal(metrics.status, 200);
    for (const name of [
      'dockward_requests_total{',
      'dockward_connections_active',
      'dockward_tls_handshake_failures_total',
    ]) {
      assert.ok(metrics.body.includes(name), `/metrics lacks ${name}`);
    }
    const health = await httpText(metricsPort, '/healthz');
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { ok: unknown }).ok, true);
  });
});

describe('gateway faults: the audit log and the gateway process', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Pki;
  let admin: ClientFiles;
  const work = mkdtempSync(join(tmpdir(), 'dw-e2e-faults-'));
  const children: ChildProcess[] = [];

  before(async () => {
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    pki = await makePki({ admin: 'admin' });
    admin = filesOf(pki.issuedDir('admin'));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await dockerd?.cleanup();
    pki?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps a decision record of every request that reached dockerd when the gateway is killed with -9 under load', async () => {
    const log = join(work, 'kill9-audit.jsonl');
    const gp = await startGateway(dockerd, pki, { auditLog: log });
    children.push(gp.child);
    const body = JSON.stringify({ Image: TEST_IMAGE.replace(/:latest$/, ''), Cmd: ['true'] });
    let next = 0;
    let created = 0;
    let killed = false;
    const worker = async () => {
      for (;;) {
        const n = next++;
        const res = await call(gp.port, admin, `/v1.41/containers/create?name=k${n}`, {
          method: 'POST',
          body,
        });
        if (res.status === 201) created++;
        else if (!killed) assert.fail(`create k${n} failed before the kill: ${JSON.stringify(res)}`);
        if (created >= 50 && !killed) {
          killed = true;
          gp.child.kill('SIGKILL');
        }
        if (killed && res.status !== 201) return;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    assert.equal((await gp.exited()).signal, 'SIGKILL');

    const list = await dockerd.request('/containers/json?all=1');
    assert.equal(list.status, 200);
    const names = (JSON.parse(list.body) as { Names: string[] }[])
      .flatMap((c) => c.Names)
      .map((n) => n.replace(/^\//, ''))
      .filter((n) => /^k\d+$/.test(n));
    assert.ok(names.length >= 50, `only ${names.length} containers reached dockerd`);

    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const records: { type?: string; decision?: string; rawPath?: string }[] = [];
    lines.forEach((line, i) => {
      try {
        records.push(JSON.parse(line) as (typeof records)[number]);
      } catch (err) {
        // Only the last line may be torn by the kill.
        if (i !== lines.length - 1) throw err;
      }
    });
    const missing = names.filter(
      (name) =>
        !records.some(
          (r) =>
            r.type === 'request' &&
            r.decision === 'allow' &&
            new RegExp(`[?&]name=${name}(&|$)`).test(r.rawPath ?? ''),
        ),
    );
    assert.deepEqual(missing, [], 'containers on the daemon without an allow record');
    const verified = await runDockward(['audit-log', 'verify', log], { env: dockwardEnv() });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });

  it('audit-log verify passes on an untouched log and names the record after one field is edited', async () => {
    const log = join(work, 'verify-audit.jsonl');
    const gw = await startGateway(dockerd, pki, { auditLog: log });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await call(gw.port, admin, '/_ping')).status, 200);
      assert.equal((await call(gw.port, admin, '/v1.41/containers/json')).status, 200);
      // Let the closed connections be recorded before the gateway stops: every accepted one closed.
      const events = (e: string) => gw.connections().filter((c) => c.event === e).length;
      assert.ok(await eventually(() => events('accepted') === 4 && events('closed') === 4));
    } finally {
      assert.deepEqual(await gw.stop(), { code: 0, signal: null });
    }
    const ok = await runDockward(['audit-log', 'verify', log], { env: dockwardEnv() });
    assert.equal(ok.code, 0, ok.stderr);

    const lines = readFileSync(log, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"rawPath":"/v1.41/containers/json"'));
    assert.ok(at >= 0, 'the log has the containers/json request');
    const record = JSON.parse(lines[at]!) as { seq: number; rawPath: string };
    lines[at] = JSON.stringify({ ...record, rawPath: '/v1.41/images/json' });
    writeFileSync(log, lines.join('\n'));
    const bad = await runDockward(['audit-log', 'verify', log], { env: dockwardEnv() });
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout + bad.stderr, new RegExp(`seq ${record.seq}\\b|line ${at + 1}\\b`));
  });

  it('exits 0 within its drain deadline on SIGTERM while an events stream is open', async () => {
    const gp = await startGateway(dockerd, pki, { auditLog: join(work, 'term-audit.jsonl') });
    children.push(gp.child);
    const socket = tlsConnect({ host: '127.0.0.1', port: gp.port, servername: 'localhost', ...admin });
    socket.on('error', () => undefined);
    const streamClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let data = '';
      socket.once('secureConnect', () => socket.write('GET /v1.41/events HTTP/1.1\r\nHost: docker\r\n\r\n'));
      socket.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        if (data.includes('\r\n\r\n')) resolve();
      });
      socket.once('close', () => reject(new Error(`closed before the headers: ${data}`)));
    });
    gp.child.kill('SIGTERM');
    // The drain deadline is 10 s; the bound leaves room for a loaded machine.
    const outcome = await Promise.race([gp.exited(), sleep(40_000, 'still running' as const)]);
    assert.deepEqual(outcome, { code: 0, signal: null }, gp.stderr().slice(-2000));
    await streamClosed;
  });
});

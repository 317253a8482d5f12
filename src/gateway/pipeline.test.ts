/**
 * The pipeline end to end on real sockets: a client speaks HTTP/1.1 to the gateway's own HTTP layer, each
 * request runs through `Pipeline.run` (canonicalize → decide → record → forward) and is forwarded
 * over the daemon's kind of transport, a unix socket. Upstream is a small HTTP server on that
 * socket standing in for dockerd (the e2e suites do the same against a real dockerd); it records
 * what reached it, so the test sees exactly what the gateway sent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ROUTE_TABLE } from '../docker/endpoints/index.js';
import { builtinDecider } from '../policy/builtin-roles.js';
import type { AuditSink, CompletionRecord, DecisionRecord } from './audit-sink.js';
import { PromGatewayMetrics } from './prom-metrics.js';
import { DEFAULT_HTTP_OPTIONS, HttpConnection } from './http/connection.js';
import { check, evaluateRequest, Pipeline, STAGES } from './pipeline.js';
import type { ConnectionInfo, RequestHead } from './request-context.js';
import { createUpstream, type Upstream } from './upstream.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-pipeline-'));
const sock = join(dir, 'docker.sock');
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];

const daemon: Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const text = req.url?.endsWith('/_ping') ? 'OK' : JSON.stringify({ got: body.length });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });
});
daemon.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
  // exec start with Upgrade: tcp: the JSON body follows the head; then echo the raw stream.
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: head });
  socket.write(
    'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
  );
  socket.on('data', (c: Buffer) => socket.write(c));
  socket.on('end', () => socket.end());
});

const decisions: DecisionRecord[] = [];
const completions: CompletionRecord[] = [];
const audit: AuditSink = {
  decision: async (r) => {
    decisions.push(r);
  },
  completion: (r) => completions.push(r),
  connection: () => undefined,
  close: async () => undefined,
};

let upstream: Upstream;
let port = 0;
let identityOu = 'admin';
const conn = (): ConnectionInfo => ({
  connId: 1,
  client: { address: '127.0.0.1', port: 1 },
  identity: { cn: 'c', ou: [identityOu], serial: '01', fingerprint: '00', sans: [] },
  socket: undefined as never,
  openedAt: 0,
  active: 0,
});
let pipeline: Pipeline;
// The client side is the gateway's own HTTP/1.1 layer on plain TCP (TLS is below it in the gateway).
const front = createNetServer((socket) => {
  new HttpConnection(
    socket,
    DEFAULT_HTTP_OPTIONS,
    (io) => void pipeline.run(conn(), io),
    () => undefined,
  );
});

before(async () => {
  await new Promise<void>((r) => daemon.listen(sock, r));
  upstream = createUpstream(`unix://${sock}`);
  pipeline = new Pipeline({
    routes: ROUTE_TABLE,
    decider: () => builtinDecider(),
    audit: () => audit,
    upstream: () => upstream,
    metrics: new PromGatewayMetrics(),
    logger: pino({ level: 'silent' }),
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  port = (front.address() as AddressInfo).port;
});
after(async () => {
  front.close();
  upstream.destroy();
  daemon.close();
  rmSync(dir, { recursive: true, force: true });
});

function send(
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('pipeline', () => {
  it('lists the stages in order', () => {
    assert.deepEqual(
      [...STAGES],
      ['admit', 'identify', 'canonicalize', 'decide', 'own', 'record', 'forward'],
    );
  });

  it('forwards a bodiless request on the pool, canonical target, and records decision then completion', async () => {
    seen.length = 0;
    decisions.length = 0;
    completions.length = 0;
    identityOu = 'admin';
    const r = await send('GET', '/v%31.41/_ping', undefined, { 'X-Forwarded-For': '198.18.0.9' });
    assert.deepEqual(r, { status: 200, text: 'OK' });
    assert.equal(seen[0]!.url, '/v1.41/_ping');
    assert.equal(seen[0]!.headers['x-forwarded-for'], undefined);
    assert.equal(decisions[0]!.decision, 'allow');
    await waitUntil(() => completions.length === 1);
    assert.equal(completions[0]!.status, 200);
  });

  it('forwards the canonical body the policy checked, not the client bytes', async () => {
    seen.length = 0;
    identityOu = 'operator';
    const raw = '{ "Image" : "busybox",   "Cmd": ["true"] }';
    const r = await send('POST', '/containers/create', raw, { 'Content-Type': 'application/json' });
    assert.equal(r.status, 200);
    const sent = seen[0]!.body.toString();
    assert.notEqual(sent, raw);
    assert.equal(JSON.parse(sent).Image, 'busybox');
    assert.equal(seen[0]!.headers['content-length'], String(Buffer.byteLength(sent)));
  });

  it('refuses a denied request without reaching upstream, and records the denial', async () => {
    seen.length = 0;
    decisions.length = 0;
    identityOu = 'operator';
    const r = await send('POST', '/containers/create', '{"Image":"x","HostConfig":{"Privileged":true}}', {
      'Content-Type': 'application/json',
    });
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.text).message, /^dockward: denied by /);
    assert.equal(seen.length, 0);
    assert.equal(decisions[0]!.decision, 'deny');
  });

  it('streams an upload of unknown size (chunked) at the socket pace', async () => {
    seen.length = 0;
    identityOu = 'admin';
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    const r = await send('POST', '/images/load', body, { 'Transfer-Encoding': 'chunked' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).got, body.length);
    assert.equal(seen[0]!.body.length, body.length);
  });

  it('hijacks an upgrade: its body through the one reader, then bytes both ways', async () => {
    seen.length = 0;
    identityOu = 'admin';
    const s = connect(port, '127.0.0.1');
    const body = '{"Detach":false,"Tty":false}';
    s.write(
      `POST /v1.41/exec/abc/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    let text = '';
    s.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await waitUntil(() => text.includes('\r\n\r\n'));
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.equal(seen[0]!.body.toString(), body);
    s.write('ping');
    await waitUntil(() => text.endsWith('ping'));
    s.destroy();
  });

  it('refuses an upgrade body over the one body limit', async () => {
    const s = connect(port, '127.0.0.1');
    s.write(
      'POST /exec/abc/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 99999999\r\n\r\n',
    );
    let text = '';
    s.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await waitUntil(() => text.includes('}'));
    assert.match(text, /^HTTP\/1\.1 413 /);
    s.destroy();
  });
});

describe('check (the pure part, as policy explain runs it)', () => {
  const head = (method: string, target: string): RequestHead => ({
    method,
    target,
    rawHeaders: [],
    upgrade: false,
  });
  const deps = { routes: ROUTE_TABLE, decider: builtinDecider(), bodyLimit: 1024 };
  const operator = { cn: 'o', ou: ['operator'], serial: '', sans: [] };

  it('never reads the body of an unknown endpoint', async () => {
    const r = await check(deps, operator, head('POST', '/nope'), () => assert.fail('body read'));
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'DW_E_UNKNOWN_ENDPOINT');
  });

  it('turns a failing body read into a refusal', async () => {
    const r = await check(deps, operator, head('POST', '/containers/create'), async () => {
      throw new Error('connection ended inside the request body');
    });
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'DW_E_BAD_REQUEST');
  });

  it('gives policy explain the same verdicts', async () => {
    const v = await evaluateRequest(builtinDecider(), operator, {
      method: 'POST',
      target: '/v1.41/containers/create',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from('{"Image":"x","HostConfig":{"Privileged":true}}'),
    });
    assert.equal(v.outcome, 'deny');
    const refused = await evaluateRequest(builtinDecider(), operator, { method: 'GET', target: '/a/../b' });
    assert.equal(refused.outcome, 'refuse');
    assert.equal(refused.status, 400);
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

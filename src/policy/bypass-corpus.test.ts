/**
 * Replays test/fixtures/policy/bypass-corpus.json through Node's own HTTP parser (a server on
 * loopback, fed the raw bytes), then canonicalize + canonical body + the built-in operator
 * decider, as the gateway does. The e2e suite replays the same file through the real gateway
 * and dockerd.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { builtinDecider } from './builtin-roles.js';
import type { PolicyIdentity } from './decision.js';
import { evaluateRequest, type RequestVerdict } from '../gateway/pipeline.js';

interface CorpusCase {
  id: string;
  technique: string;
  method: string;
  target: string;
  headers: Record<string, string | string[]>;
  body: string;
  expect: 'allow' | 'deny' | 'refuse';
  status?: number;
}

const corpus = JSON.parse(
  readFileSync(new URL('../../test/fixtures/policy/bypass-corpus.json', import.meta.url), 'utf8'),
) as { identity: { cn: string; ou: string[] }; cases: CorpusCase[] };
const identity: PolicyIdentity = { serial: '01', sans: [], ...corpus.identity };
const CONTAINER_ID = 'c0ffee0123456789';

/** The bytes a replayer sends for a case, following the corpus rules. */
function rawRequest(c: CorpusCase): Buffer {
  const expand = (s: string) =>
    s
      .replaceAll('{container}', CONTAINER_ID)
      .replace(/\$\{pad:(\d+)\}/g, (_, n: string) => 'a'.repeat(Number(n)));
  const body = Buffer.from(expand(c.body), 'utf8');
  const lines = [`${c.method} ${expand(c.target)} HTTP/1.1`, 'Host: localhost'];
  const names = Object.keys(c.headers).map((h) => h.toLowerCase());
  for (const [name, value] of Object.entries(c.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  if (!names.includes('content-length') && !names.includes('transfer-encoding') && body.length > 0) {
    lines.push(`Content-Length: ${body.length}`);
  }
  if (!names.includes('connection')) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

const decider = builtinDecider();

async function verdictOf(req: IncomingMessage): Promise<RequestVerdict> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  return evaluateRequest(decider, identity, {
    method: req.method ?? '',
    target: req.url ?? '',
    headers,
    body: Buffer.concat(chunks),
  });
}

function answer(socket: Duplex, status: number, verdict: { outcome: string; reason?: string }): void {
  const body = JSON.stringify(verdict);
  socket.end(
    `HTTP/1.1 ${status} X\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function summary(v: RequestVerdict) {
  return {
    outcome: v.outcome,
    reason: v.outcome === 'refuse' ? v.reason : `${v.decision.rule}: ${v.decision.reason}`,
  };
}

let server: Server;
let port: number;

before(async () => {
  server = createServer((req, res) => {
    void verdictOf(req).then((v) => {
      const body = JSON.stringify(summary(v));
      res.writeHead(v.status, { 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body);
    });
  });
  // An Upgrade request (h2c for /grpc) reaches 'upgrade', not 'request'.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    void verdictOf(req).then((v) => answer(socket, v.status, summary(v)));
  });
  // What the HTTP layer itself refuses (Content-Length with Transfer-Encoding, CVE-2024-41110).
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    answer(socket, 400, { outcome: 'refuse', reason: `HTTP parser: ${err.code ?? err.message}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

function send(raw: Buffer): Promise<{ status: number; outcome: string; reason: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const json = text.slice(text.indexOf('\r\n\r\n') + 4);
      const parsed = json
        ? (JSON.parse(json) as { outcome: string; reason: string })
        : { outcome: '?', reason: text };
      resolve({ status, ...parsed });
    });
    socket.end(raw);
  });
}

describe('bypass corpus (built-in operator, through the HTTP parser)', () => {
  it('has at least 30 attack techniques and a legitimate twin for the common requests, with unique ids', () => {
    const ids = new Set(corpus.cases.map((c) => c.id));
    assert.equal(ids.size, corpus.cases.length);
    assert.ok(corpus.cases.filter((c) => c.expect !== 'allow').length >= 30);
    assert.ok(corpus.cases.filter((c) => c.expect === 'allow').length >= 10);
  });

  for (const c of corpus.cases) {
    it(`${c.expect === 'allow' ? 'allows' : c.expect === 'deny' ? 'denies' : 'refuses'} ${c.id}: ${c.technique}`, async () => {
      const got = await send(rawRequest(c));
      assert.equal(got.outcome, c.expect, got.reason);
      if (c.expect === 'deny') assert.equal(got.status, 403);
      if (c.expect === 'refuse') assert.equal(got.status, c.status ?? 400, got.reason);
    });
  }
});

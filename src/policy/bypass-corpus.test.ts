/**
 * Replays test/fixtures/policy/bypass-corpus.json through the gateway's own HTTP/1.1 layer (a
 * server on loopback, fed the raw bytes), then the pipeline's check (canonicalize path + body,
 * decide, then the ownership check against a stand-in dockerd) with the built-in operator
 * decider, exactly as the gateway does. The e2e suite replays the same file through the real gateway
 * and dockerd.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { builtinDecider } from './builtin-roles.js';
import type { PolicyIdentity } from './decision.js';
import { ROUTE_TABLE } from '../docker/endpoints/index.js';
import { toHttpStatus } from '../errors.js';
import { DEFAULT_HTTP_OPTIONS, HttpConnection } from '../gateway/http/connection.js';
import { OWNER_LABEL } from '../gateway/ownership/owner-label.js';
import { Ownership } from '../gateway/ownership/ownership.js';
import { check, type RequestIO } from '../gateway/pipeline.js';
import { checkOwned } from '../gateway/stages/own.js';
import { DEFAULT_BODY_LIMIT } from './canonical-body.js';

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
/** A container of another identity (admin's). */
const OTHER_ID = 'badc0ffee0123456';

/**
 * dockerd as the ownership check sees it, for this test only (no daemon here; the e2e suite
 * replays the corpus against a real one): {container} is the operator's, {other} and every
 * network admin's, named volumes do not exist yet and are created for the operator.
 */
const ownership = new Ownership(async (method, path) => {
  if (method === 'POST' && path === '/volumes/create')
    return { status: 201, json: { Name: 'v', Labels: { [OWNER_LABEL]: identity.cn } } };
  if (path.startsWith('/volumes/')) return { status: 404, json: { message: 'no such volume' } };
  if (path.startsWith('/networks/')) return { status: 200, json: { Id: 'n1', Name: 'bridge', Labels: {} } };
  const id = /^\/containers\/([^/]+)\/json$/.exec(path)?.[1];
  if (id === CONTAINER_ID)
    return {
      status: 200,
      json: { Id: id, Name: '/mine', Config: { Labels: { [OWNER_LABEL]: identity.cn } } },
    };
  if (id === OTHER_ID)
    return { status: 200, json: { Id: id, Name: '/admins', Config: { Labels: { [OWNER_LABEL]: 'boss' } } } };
  return { status: 404, json: { message: 'No such container' } };
});

/** The bytes a replayer sends for a case, following the corpus rules. */
function rawRequest(c: CorpusCase): Buffer {
  const expand = (s: string) =>
    s
      .replaceAll('{container}', CONTAINER_ID)
      .replaceAll('{other}', OTHER_ID)
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

/** The gateway pipeline's pure part on a request the gateway's HTTP layer parsed. */
async function verdictOf(io: RequestIO): Promise<{ status: number; outcome: string; reason: string }> {
  const checked = await check(
    { routes: ROUTE_TABLE, decider, bodyLimit: DEFAULT_BODY_LIMIT },
    identity,
    io.head,
    (limit) => io.readBody(limit),
  );
  if (checked.ok) {
    const refused = await checkOwned(
      ownership,
      checked.decision,
      identity,
      checked.canonical,
      checked.body?.value,
    );
    if (refused) return { status: toHttpStatus(refused), outcome: 'deny', reason: refused.message };
    return { status: 200, outcome: 'allow', reason: `${checked.decision.rule}: ${checked.decision.reason}` };
  }
  if (checked.decision) {
    return { status: 403, outcome: 'deny', reason: `${checked.decision.rule}: ${checked.decision.reason}` };
  }
  return { status: toHttpStatus(checked.error), outcome: 'refuse', reason: checked.error.message };
}

let server: Server;
let port: number;

before(async () => {
  // Each connection goes through the gateway's own HTTP/1.1 layer, which refuses ambiguous
  // framing itself (Content-Length with Transfer-Encoding, CVE-2024-41110) before any stage.
  server = createServer((socket) => {
    new HttpConnection(
      socket,
      DEFAULT_HTTP_OPTIONS,
      (io) =>
        void verdictOf(io).then((v) => {
          const body = JSON.stringify({ outcome: v.outcome, reason: v.reason });
          const res = io.response();
          res.writeHead(v.status, undefined, ['Content-Length', String(Buffer.byteLength(body))]);
          res.end(body);
        }),
      () => undefined,
    );
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
      const body = json ? (JSON.parse(json) as { outcome?: string; reason?: string; message?: string }) : {};
      // The HTTP layer's own refusals carry dockerd's error shape.
      const parsed = body.message
        ? { outcome: 'refuse', reason: body.message }
        : { outcome: body.outcome ?? '?', reason: body.reason ?? text };
      resolve({ status, ...parsed });
    });
    socket.end(raw);
  });
}

describe('bypass corpus (built-in operator, through the gateway HTTP layer and pipeline)', () => {
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

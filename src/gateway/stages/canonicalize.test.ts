import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEndpointByName, ROUTE_TABLE } from '../../docker/endpoints/index.js';
import type { RequestHead } from '../request-context.js';
import { canonicalizeBody, canonicalizePath, hijacks } from './canonicalize.js';

const head = (method: string, target: string, extra: Partial<RequestHead> = {}): RequestHead => ({
  method,
  target,
  rawHeaders: ['Host', 'docker'],
  upgrade: false,
  ...extra,
});

describe('stage canonicalize: path', () => {
  it('decodes and strips the version prefix, and forwards the canonical target', () => {
    const r = canonicalizePath(head('GET', '/v%31.41/%63ontainers/json?all=1'), ROUTE_TABLE);
    assert.ok(r.ok);
    assert.equal(r.canonical.path, '/containers/json');
    assert.equal(r.canonical.apiVersion, '1.41');
    assert.equal(r.canonical.upstreamTarget, '/v1.41/containers/json?all=1');
    assert.equal(r.canonical.route?.endpoint.name, 'container.list');
  });

  it('refuses a non-canonical path (400) without a canonical form', () => {
    const r = canonicalizePath(head('GET', '/containers/../info'), ROUTE_TABLE);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'DW_E_BAD_REQUEST');
    assert.equal(r.canonical, undefined);
  });

  it('refuses an unknown endpoint as DW_E_UNKNOWN_ENDPOINT, keeping the canonical form for the record', () => {
    const r = canonicalizePath(head('GET', '/v1.41/nope'), ROUTE_TABLE);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'DW_E_UNKNOWN_ENDPOINT');
    assert.equal(r.canonical?.path, '/nope');
  });

  it('refuses an upgrade on an endpoint that does not hijack', () => {
    const r = canonicalizePath(head('GET', '/_ping', { upgrade: true }), ROUTE_TABLE);
    assert.ok(!r.ok);
    assert.match(r.error.message, /does not upgrade the connection/);
  });

  it('refuses a chunked body on an upgrade request', () => {
    const r = canonicalizePath(
      head('POST', '/exec/abc/start', { upgrade: true, rawHeaders: ['transfer-encoding', 'chunked'] }),
      ROUTE_TABLE,
    );
    assert.ok(!r.ok);
    assert.match(r.error.message, /chunked body on an upgrade/);
  });

  it('says which requests hand the connection over', () => {
    const exec = canonicalizePath(head('POST', '/exec/abc/start'), ROUTE_TABLE);
    const ping = canonicalizePath(head('GET', '/_ping'), ROUTE_TABLE);
    assert.ok(exec.ok && ping.ok);
    assert.equal(hijacks(head('POST', '/exec/abc/start'), exec.canonical), true);
    assert.equal(hijacks(head('GET', '/_ping'), ping.canonical), false);
  });
});

describe('stage canonicalize: body', () => {
  const create = findEndpointByName('container.create')!;
  const json = head('POST', '/containers/create', { rawHeaders: ['Content-Type', 'application/json'] });

  it('returns the canonical bytes and value', () => {
    const r = canonicalizeBody(
      create,
      Buffer.from('{"Image":"busybox","HostConfig":{"Privileged":false}}'),
      json,
      1024,
    );
    assert.ok(!(r instanceof Error));
    assert.equal(JSON.parse(r.bytes.toString('utf8')).Image, 'busybox');
    assert.equal((r.value as { Image: string }).Image, 'busybox');
  });

  it('refuses case-variant duplicate keys (dockerd would fold them)', () => {
    const r = canonicalizeBody(create, Buffer.from('{"Image":"a","image":"b"}'), json, 1024);
    assert.ok(r instanceof Error);
    assert.equal(r.code, 'DW_E_BAD_REQUEST');
  });

  it('refuses a body over the limit with 413', () => {
    const r = canonicalizeBody(create, Buffer.from(`{"Image":"${'a'.repeat(100)}"}`), json, 64);
    assert.ok(r instanceof Error);
    assert.equal(r.code, 'DW_E_BODY_TOO_LARGE');
  });
});

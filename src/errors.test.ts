import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DockwardError, ERROR_CODES, fromSystemError, toExitCode, toHttpStatus } from './errors.js';

describe('errors', () => {
  it('documents every error code in docs/errors.md, and documents no code that does not exist', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`(DW_E_[A-Z_]+)`/g)].map((m) => m[1]));
    for (const code of Object.keys(ERROR_CODES))
      assert.ok(documented.has(code), `${code} is not in docs/errors.md`);
    for (const code of documented)
      assert.ok(code! in ERROR_CODES, `docs/errors.md names unknown code ${code}`);
  });

  it('maps bad input to exit 2 and HTTP 400, and upstream failures to exit 1 and HTTP 502', () => {
    assert.equal(toExitCode(new DockwardError('DW_E_SAN_INVALID', 'x')), 2);
    assert.equal(toHttpStatus(new DockwardError('DW_E_SAN_INVALID', 'x')), 400);
    assert.equal(toExitCode(new DockwardError('DW_E_UPSTREAM', 'x')), 1);
    assert.equal(toHttpStatus(new DockwardError('DW_E_UPSTREAM', 'x')), 502);
    assert.equal(toExitCode(new Error('plain')), 1);
  });
});

describe('fromSystemError: a failed system call as an error a person can act on', () => {
  const sys = (props: Record<string, unknown>) => Object.assign(new Error(String(props['code'])), props);

  it('turns a taken port into DW_E_ADDRESS_IN_USE naming the address and how to free it', () => {
    const e = fromSystemError(
      sys({ code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 2376 }),
    );
    assert.equal(e?.code, 'DW_E_ADDRESS_IN_USE');
    assert.match(e?.message ?? '', /cannot listen on 127\.0\.0\.1:2376/);
    assert.match(e?.hint ?? '', /ss -ltnp 'sport = :2376'.*--listen/);
    assert.equal(toExitCode(e), 2);
  });

  it('brackets an IPv6 address, and tells a refused low port from a foreign address', () => {
    assert.match(
      fromSystemError(sys({ code: 'EADDRINUSE', syscall: 'listen', address: '::1', port: 80 }))?.message ??
        '',
      /\[::1\]:80/,
    );
    assert.equal(
      fromSystemError(sys({ code: 'EACCES', syscall: 'listen', address: '0.0.0.0', port: 80 }))?.code,
      'DW_E_LISTEN_DENIED',
    );
    assert.equal(
      fromSystemError(sys({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '192.0.2.1', port: 1 }))?.code,
      'DW_E_ADDRESS_UNAVAILABLE',
    );
  });

  it('names the file for permission and missing-file errors, and the peer for network errors', () => {
    const perm = fromSystemError(sys({ code: 'EACCES', syscall: 'open', path: '/etc/docker/daemon.json' }));
    assert.equal(perm?.code, 'DW_E_PERMISSION');
    assert.match(perm?.message ?? '', /\/etc\/docker\/daemon\.json/);
    const missing = fromSystemError(sys({ code: 'ENOENT', syscall: 'open', path: '/nope.pem' }));
    assert.equal(missing?.code, 'DW_E_NOT_FOUND');
    const refused = fromSystemError(
      sys({ code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 1 }),
    );
    assert.equal(refused?.code, 'DW_E_NETWORK');
    assert.match(refused?.message ?? '', /127\.0\.0\.1:1.*refused/);
    assert.equal(
      fromSystemError(sys({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nohost' }))?.code,
      'DW_E_NETWORK',
    );
  });

  it('finds the system error in a cause chain, and leaves bugs alone', () => {
    const wrapped = new Error('outer', {
      cause: sys({ code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 9 }),
    });
    assert.equal(fromSystemError(wrapped)?.code, 'DW_E_ADDRESS_IN_USE');
    assert.equal(fromSystemError(new TypeError('x is undefined')), undefined);
    assert.equal(fromSystemError('a string'), undefined);
  });
});

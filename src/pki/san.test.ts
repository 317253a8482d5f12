import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidDnsName, parseSan, parseSans } from './san.js';

describe('parseSan', () => {
  const good: [string, string, string][] = [
    ['DNS:docker.example.com', 'dns', 'docker.example.com'],
    ['dns:Docker.Example.COM', 'dns', 'docker.example.com'],
    ['DNS:*.example.com', 'dns', '*.example.com'],
    ['IP:127.0.0.1', 'ip', '127.0.0.1'],
    ['IP:::1', 'ip', '::1'],
    ['IP:[2001:db8::1]', 'ip', '2001:db8::1'],
    ['localhost', 'dns', 'localhost'],
    ['192.0.2.7', 'ip', '192.0.2.7'],
    ['::1', 'ip', '::1'],
  ];
  for (const [input, type, value] of good) {
    it(`reads ${input} as ${type} ${value}`, () => {
      assert.deepEqual(parseSan(input), { type, value });
    });
  }

  const bad = [
    'DNS:',
    'DNS:-bad.example',
    'DNS:bad_host',
    'DNS:a..b',
    'IP:999.1.1.1',
    'IP:host',
    'URI:x',
    'FOO:bar',
    'not a host',
    '',
  ];
  for (const input of bad) {
    it(`refuses ${JSON.stringify(input)} with DW_E_SAN_INVALID naming the value`, () => {
      assert.throws(
        () => parseSan(input),
        (err: { code?: string; message?: string }) =>
          err.code === 'DW_E_SAN_INVALID' && err.message!.includes(input),
      );
    });
  }

  it('drops duplicate SANs but keeps the order', () => {
    assert.deepEqual(parseSans(['DNS:a.example', 'IP:127.0.0.1', 'a.example']), [
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '127.0.0.1' },
    ]);
  });

  it('refuses names longer than 253 characters and labels longer than 63', () => {
    assert.equal(isValidDnsName(`${'a'.repeat(64)}.example`), false);
    assert.equal(isValidDnsName(Array(130).fill('ab').join('.')), false);
    assert.equal(isValidDnsName(`${'a'.repeat(63)}.example`), true);
  });
});

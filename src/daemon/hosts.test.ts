import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost, parseDaemonHost } from './hosts.js';

describe('parseDaemonHost', () => {
  const cases: Array<[string, string, boolean?]> = [
    ['fd://', 'fd://'],
    ['unix:///var/run/docker.sock', 'unix:///var/run/docker.sock'],
    ['unix://', 'unix:///var/run/docker.sock'],
    ['tcp://0.0.0.0:2376', 'tcp://0.0.0.0:2376'],
    ['0.0.0.0:2376', 'tcp://0.0.0.0:2376'],
    ['tcp://', 'tcp://127.0.0.1:2375'],
    ['tcp://', 'tcp://127.0.0.1:2376', true],
    ['tcp://:2375', 'tcp://127.0.0.1:2375'],
    ['tcp://[::1]:2376', 'tcp://[::1]:2376'],
    ['tcp://example.internal', 'tcp://example.internal:2375'],
  ];
  for (const [input, normalized, tls] of cases) {
    it(`reads ${JSON.stringify(input)}${tls ? ' with TLS' : ''} as ${normalized}`, () => {
      assert.equal(parseDaemonHost(input, { tls: tls ?? false }).normalized, normalized);
    });
  }

  it('refuses schemes dockerd does not listen on and paths in tcp addresses', () => {
    assert.throws(() => parseDaemonHost('ssh://host'), /invalid bind address/);
    assert.throws(() => parseDaemonHost('tcp://0.0.0.0:2376/path'), /no path/);
    assert.throws(() => parseDaemonHost('tcp://0.0.0.0:99999'), /invalid port/);
  });

  it('tells loopback addresses from the others', () => {
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('127.1.2.3'), true);
    assert.equal(isLoopbackHost('::1'), true);
    assert.equal(isLoopbackHost('0.0.0.0'), false);
  });
});

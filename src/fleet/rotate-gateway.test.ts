import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HostRecord } from './inventory.js';
import { crlTargets, PUSH_COMMAND } from './push-crl.js';
import { hostInstallCommand, hostRequestCommand } from './provision.js';
import { longestGap } from './rotate-gateway.js';

function host(name: string, mode?: 'native' | 'gateway'): HostRecord {
  return {
    name,
    endpoint: `tcp://198.18.0.9:2376`,
    certDir: `/tmp/${name}`,
    certSource: 'issued',
    addedAt: '2026-01-01T00:00:00.000Z',
    verified: true,
    ...(mode
      ? { provisioned: { ssh: { target: 'root@198.18.0.9' }, mode, serverCert: name, sans: [], port: 2376 } }
      : {}),
  };
}

describe('gateway-mode rotation and CRL push (pure parts)', () => {
  it('measures the downtime as the longest gap between successful pings, edges included', () => {
    assert.equal(longestGap([100, 200, 300, 1_300, 1_400], 0, 1_500), 1_000);
    assert.equal(longestGap([2_000], 0, 2_100), 2_000, 'down from the start until the first answer');
    assert.equal(longestGap([100, 200], 0, 5_000), 4_800, 'down from the last answer to the end');
    assert.equal(longestGap([], 0, 700), 700, 'never answered: down the whole time');
  });

  it('makes the new key aside in the gateway folder and installs in gateway mode with the CRL', () => {
    const req = hostRequestCommand('gw', '198.18.0.42', ['DNS:gw.example'], 'gateway');
    assert.equal(
      req,
      'dockward --json host request --name gw --tls-dir /etc/dockward/gateway --san IP:198.18.0.42 --san DNS:gw.example',
    );
    assert.match(hostRequestCommand('gw', 'gw.lan', [], 'gateway'), /--san DNS:gw\.lan$/);
    assert.doesNotMatch(hostRequestCommand('nat', '198.18.0.41', [], 'native'), /--tls-dir/);
    const install = hostInstallCommand('/tmp/dockward-rotate.abc', {
      port: 2376,
      mode: 'gateway',
      crl: true,
    });
    assert.match(install, /host install --mode gateway --cert \/tmp\/dockward-rotate\.abc\/cert\.pem/);
    assert.match(
      install,
      /--crl \/tmp\/dockward-rotate\.abc\/crl\.pem; rc=\$\?; rm -rf \/tmp\/dockward-rotate\.abc; exit \$rc$/,
    );
    // No --allow: the host keeps the allowlist its gateway runs with.
    assert.doesNotMatch(install, /--allow/);
  });

  it('pushes the CRL to gateway-mode hosts only, and says why for a named host that cannot take it', () => {
    const hosts = [host('a', 'gateway'), host('b', 'native'), host('c'), host('d', 'gateway')];
    assert.deepEqual(
      crlTargets(hosts).targets.map((h) => h.name),
      ['a', 'd'],
    );
    const named = crlTargets(hosts, ['d', 'b', 'c', 'zz']);
    assert.deepEqual(
      named.targets.map((h) => h.name),
      ['d'],
    );
    assert.deepEqual(
      named.refused.map((r) => [r.host, r.ok]),
      [
        ['b', false],
        ['c', false],
        ['zz', false],
      ],
    );
    assert.match(named.refused[0]!.detail, /dockerd cannot read a CRL/);
    assert.match(named.refused[2]!.detail, /not in the inventory/);
    // The CRL travels on stdin into a private temp folder that is removed whatever happened.
    assert.match(PUSH_COMMAND, /mktemp -d/);
    assert.match(PUSH_COMMAND, /rm -rf "\$d"; exit \$rc$/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderServiceUnit } from '../service/unit.js';
import { allowFromUnit, gatewayServiceArgs, unitRunsWith, unixOnlyConfig } from './host-gateway.js';

describe('host install --mode gateway (pure parts)', () => {
  const args = gatewayServiceArgs('/etc/dockward/gateway', { address: '0.0.0.0', port: 2376 }, [
    '198.18.0.2/32',
    '127.0.0.0/8',
    '::1/128',
  ]);
  const unit = renderServiceUnit({
    name: 'gateway',
    exec: '/usr/local/bin/dockward',
    args,
    user: 'dockward',
    groups: ['docker'],
    writable: ['/var/log/dockward'],
  });

  it('runs the gateway with the CRL and --close-revoked, so a revocation cuts open connections', () => {
    assert.ok(args.includes('--close-revoked'));
    assert.deepEqual(args.slice(args.indexOf('--crl'), args.indexOf('--crl') + 2), [
      '--crl',
      '/etc/dockward/gateway/crl.pem',
    ]);
  });

  it('reloads only when the installed unit runs with the same flags', () => {
    assert.equal(unitRunsWith(unit, args), true);
    assert.equal(unitRunsWith(unit, [...args.slice(0, -2)]), false);
    assert.equal(unitRunsWith('', args), false);
  });

  it('keeps the allowlist of the installed unit (without the loopback it adds itself)', () => {
    assert.deepEqual(allowFromUnit(unit), ['198.18.0.2/32']);
    assert.deepEqual(allowFromUnit(''), []);
  });

  it('takes dockerd back to its unix socket: tcp listeners and TLS keys go, the rest stays', () => {
    const out = unixOnlyConfig({
      hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2376'],
      tlsverify: true,
      tlscacert: '/etc/docker/tls/ca.pem',
      tlscert: '/etc/docker/tls/cert.pem',
      tlskey: '/etc/docker/tls/key.pem',
      'live-restore': true,
    });
    assert.deepEqual(out, { hosts: ['unix:///var/run/docker.sock'], 'live-restore': true });
    assert.deepEqual(unixOnlyConfig({ hosts: ['tcp://0.0.0.0:2376'] }), {});
  });
});

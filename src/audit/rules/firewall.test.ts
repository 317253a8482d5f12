import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tlsPortRestricted } from './firewall.js';
import { effective, factsWith, ok } from './test-support.js';

const configFact = (c: Parameters<typeof effective>[0]) => ok(effective(c));

const TLS = {
  hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2376'],
  tlsverify: true,
  tlscacert: '/etc/docker/tls/ca.pem',
  tlscert: '/etc/docker/tls/cert.pem',
  tlskey: '/etc/docker/tls/key.pem',
};

describe('tls-port-restricted', () => {
  it('fails when the TLS port is open to every source', () => {
    const out = tlsPortRestricted.check(
      factsWith({
        config: configFact(TLS),
        firewall: { state: 'ok', value: { source: 'nft', table: undefined } },
      }),
    );
    assert.equal(out.status, 'fail');
    assert.match(out.evidence.join('\n'), /open to every source/);
  });

  it('passes with the allowed sources shown when dockward restricts the port', () => {
    const out = tlsPortRestricted.check(
      factsWith({
        config: configFact(TLS),
        firewall: {
          state: 'ok',
          value: { source: 'nft', table: { port: 2376, allow: ['198.18.0.2/32'], rejectsOthers: true } },
        },
      }),
    );
    assert.equal(out.status, 'pass');
    assert.match(out.evidence.join('\n'), /only from 198\.18\.0\.2\/32/);
  });

  it('fails when the table guards another port', () => {
    const out = tlsPortRestricted.check(
      factsWith({
        config: configFact(TLS),
        firewall: {
          state: 'ok',
          value: { source: 'nft', table: { port: 2377, allow: [], rejectsOthers: true } },
        },
      }),
    );
    assert.equal(out.status, 'fail');
  });

  it('passes with no tcp listener, and skips when the firewall cannot be read', () => {
    assert.equal(tlsPortRestricted.check(factsWith({ config: configFact({}) })).status, 'pass');
    assert.equal(tlsPortRestricted.check(factsWith({ config: configFact(TLS) })).status, 'skip');
  });
});

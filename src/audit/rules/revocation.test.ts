import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { revocationUnenforceable } from './revocation.js';
import { effective, factsWith, ok } from './test-support.js';

const TLS = {
  hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2376'],
  tlsverify: true,
  tlscacert: '/etc/docker/tls/ca.pem',
  tlscert: '/etc/docker/tls/cert.pem',
  tlskey: '/etc/docker/tls/key.pem',
};

describe('revocation-unenforceable', () => {
  it('warns where dockerd serves TLS with client verification itself (no CRL in dockerd)', () => {
    const out = revocationUnenforceable.check(factsWith({ config: ok(effective(TLS)) }));
    assert.equal(out.status, 'warn');
    assert.match(out.evidence.join('\n'), /tcp:\/\/0\.0\.0\.0:2376.*reads no CRL/);
    assert.match(out.evidence.join('\n'), /moby#27778/);
  });

  it('passes when dockerd listens on its unix socket only (the gateway fronts the port)', () => {
    const out = revocationUnenforceable.check(
      factsWith({ config: ok(effective({ hosts: ['unix:///var/run/docker.sock'] })) }),
    );
    assert.equal(out.status, 'pass');
    assert.match(out.evidence.join('\n'), /gateway/);
  });

  it('is not applicable to a tcp listener without client verification (tls-auth fails that)', () => {
    const out = revocationUnenforceable.check(
      factsWith({ config: ok(effective({ ...TLS, tlsverify: false })) }),
    );
    assert.equal(out.status, 'skip');
  });
});

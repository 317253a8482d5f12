import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainTlsError } from './tls-errors.js';

describe('explainTlsError', () => {
  it('says in words what an OpenSSL alert means, keeping its number and code', () => {
    const text = explainTlsError({
      code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      message:
        '40C7:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 42',
    });
    assert.match(text, /^the server refused the connection because no client certificate/);
    assert.match(text, /\(TLS alert 42, ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE\)$/);
    assert.doesNotMatch(text, /rec_layer/);
  });

  it('explains certificate-required, unknown-CA and an alert it has no sentence for', () => {
    assert.match(explainTlsError({ message: 'x:SSL alert number 116' }), /requires a client certificate/);
    assert.match(explainTlsError({ message: 'x:SSL alert number 48' }), /does not trust the CA/);
    assert.match(explainTlsError({ message: 'x:SSL alert number 99' }), /sent TLS alert 99/);
  });

  it('names a plain-text port and a reset, and passes other errors through with their code', () => {
    assert.match(explainTlsError({ code: 'EPROTO', message: 'wrong version number' }), /does not speak TLS/);
    assert.match(
      explainTlsError({ code: 'ECONNRESET', message: 'read ECONNRESET' }),
      /closed the connection during the TLS handshake/,
    );
    assert.equal(explainTlsError({ code: 'EHOSTDOWN', message: 'down' }), 'EHOSTDOWN: down');
  });
});

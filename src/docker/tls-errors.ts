/**
 * OpenSSL reports TLS alerts as `...:ssl/record/rec_layer_s3.c:1601:SSL alert number 42`: true but
 * meaningless to most people. This turns the alerts a Docker TLS endpoint sends into a sentence,
 * keeping the alert number so the original can still be looked up (RFC 8446 §6).
 */
const ALERTS: Record<number, string> = {
  40: 'the server ended the handshake (handshake failure): it may require a client certificate or share no cipher with us',
  42: 'the server refused the connection because no client certificate (or an unusable one) was presented',
  43: 'the server does not accept this kind of client certificate',
  44: 'the server refused the client certificate: it is revoked',
  45: 'the server refused the client certificate: it has expired',
  46: 'the server refused the client certificate for an unspecified certificate problem',
  48: 'the server does not trust the CA that issued the client certificate',
  49: 'the server denied access for this client certificate',
  70: 'the server does not speak this TLS version',
  116: 'the server requires a client certificate and none was presented',
};

/** One sentence for a TLS/connection error message, followed by the library's words in brackets. */
export function explainTlsError(err: { code?: string; message: string }): string {
  const alert = /SSL alert number (\d+)/.exec(err.message);
  if (alert) {
    const n = Number(alert[1]);
    const sentence = ALERTS[n] ?? `the server sent TLS alert ${n} and closed the connection`;
    return `${sentence} (TLS alert ${n}${err.code ? `, ${err.code}` : ''})`;
  }
  if (err.code === 'ECONNRESET')
    return 'the server closed the connection during the TLS handshake (ECONNRESET)';
  if (err.code === 'ECONNREFUSED') return 'nothing listens there (ECONNREFUSED)';
  if (err.code === 'EPROTO' || /wrong version number/i.test(err.message)) {
    return `the other side does not speak TLS on this port (${err.code ?? 'EPROTO'})`;
  }
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

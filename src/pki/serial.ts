/**
 * A certificate serial in one form (lower-case hex, no leading zero bytes), so serials from
 * OpenSSL, Node's TLS and the CRL compare equal. Its own module: the gateway needs it without
 * loading the X.509 library.
 */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/^(00)+(?=.)/, '');
}

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { normalizeSerial } from '../pki/serial.js';
import { DockwardError, describeError } from '../errors.js';

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
  crl?: string | undefined;
}

export function tlsFilesIn(dir: string, crl?: string): TlsFiles {
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), crl };
}

/** A compiled TLS configuration: built at start and on reload, never per connection. */
export interface TlsMaterial {
  context: SecureContext;
  /** The options the context was built from (what `tls.Server#setSecureContext` takes). */
  options: SecureContextOptions;
  /** Serials (lower-case hex) on the CRL, so open connections of a revoked cert can be closed. */
  revoked: ReadonlySet<string>;
  crlNextUpdate: Date | undefined;
  serverCertNotAfter: Date;
}

/**
 * Reads the CA, server certificate, key and CRL and builds the secure context: TLS >= 1.2, the
 * client certificate checked against the CA and the CRL by OpenSSL. Throws when a file is missing
 * or unreadable, so a bad reload keeps the old material.
 */
export async function loadTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const read = async (path: string, what: string) => {
    try {
      return await fs.readFile(path);
    } catch (err) {
      throw new DockwardError('DW_E_FILE', `cannot read the gateway ${what} ${path}: ${describeError(err)}`, {
        hint: 'Check --tls-dir (ca.pem, cert.pem, key.pem) and --crl.',
        cause: err,
      });
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(files.ca, 'CA'),
    read(files.cert, 'certificate'),
    read(files.key, 'key'),
  ]);
  const crl = files.crl ? await read(files.crl, 'CRL') : undefined;
  let revoked = new Set<string>();
  let crlNextUpdate: Date | undefined;
  if (crl) {
    try {
      // The X.509 library (about 20 MB resident) is loaded only when there is a CRL to read.
      const { x509 } = await import('../pki/crypto.js');
      const parsed = new x509.X509Crl(crl.toString('utf8'));
      revoked = new Set(parsed.entries.map((e) => normalizeSerial(e.serialNumber)));
      crlNextUpdate = parsed.nextUpdate;
    } catch (err) {
      throw new DockwardError('DW_E_INPUT', `the CRL ${files.crl} cannot be parsed: ${describeError(err)}`, {
        hint: 'Regenerate it with `dockward pki crl --refresh`.',
        cause: err,
      });
    }
  }
  let serverCertNotAfter: Date;
  try {
    serverCertNotAfter = new Date(new X509Certificate(cert).validTo);
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `the gateway certificate ${files.cert} cannot be parsed`, {
      cause: err,
    });
  }
  let context: SecureContext;
  const options: SecureContextOptions = {
    ca,
    cert,
    key,
    ...(crl ? { crl } : {}),
    minVersion: 'TLSv1.2',
    // Only forward-secret AEAD suites for TLS 1.2 (TLS 1.3 suites are all fine).
    ciphers:
      'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
    honorCipherOrder: true,
  };
  try {
    context = createSecureContext(options);
  } catch (err) {
    throw new DockwardError(
      'DW_E_INPUT',
      `the gateway TLS files do not form a valid configuration: ${describeError(err)}`,
      {
        hint: 'Check that cert.pem and key.pem belong together and ca.pem is a PEM certificate.',
        cause: err,
      },
    );
  }
  return { context, options, revoked, crlNextUpdate, serverCertNotAfter };
}

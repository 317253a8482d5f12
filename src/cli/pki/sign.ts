import { promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DockwardError, describeError } from '../../errors.js';
import { signServerCsr } from '../../pki/csr.js';
import { writeFileAtomic } from '../../store/atomic-write.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';

export interface PkiSignOptions {
  csr: string;
  out: string;
  name?: string;
  days?: number;
  replace?: boolean;
}

export interface PkiSignResult {
  name: string;
  serial: string;
  sans: string[];
  notAfter: string;
  fingerprint: string;
  certPath: string;
  caPath: string;
  /** The certificate in the PKI (issued/NAME/cert.pem; no key.pem: the key is on the host). */
  pkiPath: string;
}

/** `dockward pki sign CSR --out CERT`: the certificate, and the CA certificate beside it as ca.pem. */
export async function pkiSign(ctx: CommandContext, opts: PkiSignOptions): Promise<PkiSignResult> {
  let csrPem: string;
  try {
    csrPem = await fs.readFile(opts.csr === '-' ? '/dev/stdin' : opts.csr, 'utf8');
  } catch (err) {
    throw new DockwardError('DW_E_FILE', `cannot read the request ${opts.csr}: ${describeError(err)}`, {
      cause: err,
    });
  }
  const certPath = resolve(opts.out);
  const caPath = join(dirname(certPath), 'ca.pem');
  if (caPath === certPath) {
    throw new DockwardError('DW_E_USAGE', '--out must not be named ca.pem: the CA certificate goes there', {
      hint: 'Write the certificate as cert.pem (the DOCKER_CERT_PATH layout).',
    });
  }
  // Before signing: a certificate recorded in the PKI but never written out helps no one.
  await fs.mkdir(dirname(certPath), { recursive: true });
  const r = await signServerCsr(
    ctx.paths,
    {
      csrPem,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.days ? { days: opts.days } : {}),
      ...(opts.replace ? { replace: true } : {}),
    },
    cliPassphraseSource(),
  );
  await writeFileAtomic(certPath, r.certPem, { mode: 0o644 });
  await writeFileAtomic(caPath, r.caPem, { mode: 0o644 });
  return {
    name: r.record.name,
    serial: r.record.serial,
    sans: r.record.sans,
    notAfter: r.record.notAfter,
    fingerprint: r.record.fingerprint,
    certPath,
    caPath,
    pkiPath: r.certPath,
  };
}

export function renderPkiSign(r: PkiSignResult): string {
  return [
    `signed server certificate ${r.name} (serial ${r.serial})`,
    `  SANs         ${r.sans.join(', ')}`,
    `  expires      ${r.notAfter}`,
    `  certificate  ${r.certPath}`,
    `  CA           ${r.caPath}`,
    `  recorded     ${r.pkiPath} (no key: it stays on the host)`,
    `next, on the host: dockward host install --cert cert.pem --ca ca.pem`,
  ].join('\n');
}

// Certificates dockward would never issue (expired, not yet valid), made with the real openssl and
// signed by a dockward CA: fixtures for the refusals the gateway must make.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../harness/index.js';
import type { Pki } from './gateway-fixture.js';

async function openssl(args: string[]): Promise<void> {
  const res = await runCommand('openssl', args, { timeoutMs: 30_000 });
  if (res.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
}

/** openssl's `ca -startdate/-enddate` form: YYMMDDHHMMSSZ in UTC. */
function asn1Time(d: Date): string {
  return `${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
}

export interface OpensslLeaf {
  cn: string;
  ou?: string;
  notBefore: Date;
  notAfter: Date;
  /** The extended key usage; default clientAuth. */
  eku?: 'clientAuth' | 'serverAuth';
}

/**
 * Signs a leaf with the PKI's CA key (`pki/ca-key.pem`, unencrypted) using `openssl ca`, and
 * writes `ca.pem cert.pem key.pem` into `dir` (the DOCKER_CERT_PATH layout).
 */
export async function signLeafWithOpenssl(pki: Pki, dir: string, leaf: OpensslLeaf): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'dw-e2e-openssl-'));
  try {
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(join(work, 'serial'), '01\n'); // -rand_serial picks the real one
    writeFileSync(
      join(work, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = dw',
        '[dw]',
        `database = ${join(work, 'index.txt')}`,
        `new_certs_dir = ${work}`,
        `serial = ${join(work, 'serial')}`,
        'default_md = sha256',
        'policy = any',
        'unique_subject = no',
        'copy_extensions = none',
        '[any]',
        'organizationalUnitName = optional',
        'commonName = supplied',
        '[leaf]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `extendedKeyUsage = ${leaf.eku ?? 'clientAuth'}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    const key = join(dir, 'key.pem');
    const csr = join(work, 'leaf.csr');
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    const subject = `${leaf.ou ? `/OU=${leaf.ou}` : ''}/CN=${leaf.cn}`;
    await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
    await openssl([
      'ca',
      '-batch',
      '-config',
      join(work, 'ca.cnf'),
      '-cert',
      pki.caCert,
      '-keyfile',
      join(pki.home, 'pki', 'ca-key.pem'),
      '-in',
      csr,
      '-out',
      join(dir, 'cert.pem'),
      '-startdate',
      asn1Time(leaf.notBefore),
      '-enddate',
      asn1Time(leaf.notAfter),
      '-extensions',
      'leaf',
      '-rand_serial',
      '-notext',
      '-preserveDN',
    ]);
    await openssl(['x509', '-in', pki.caCert, '-out', join(dir, 'ca.pem')]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Certificate signing requests: a host makes its own key and a CSR (`host request`), the admin
 * machine signs the CSR (`pki sign`), and only certificates travel. The private key never leaves
 * the host that made it, the CA key never leaves the admin machine.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { DockwardError, describeError } from '../errors.js';
import type { StatePaths } from '../store/paths.js';
import { createLeafCertificate, fingerprintSha256, normalizeSerial } from './certificate.js';
import { subtle, x509 } from './crypto.js';
import { assertDays } from './init-ca.js';
import { type CertRecord, currentRecord } from './index-file.js';
import { DEFAULT_DAYS } from './issue.js';
import { type KeyType, keyAlgorithm, keyTypeOf, signingAlgorithm } from './keys.js';
import { formatSan, parseSans, type San } from './san.js';
import {
  assertValidName,
  loadCa,
  loadIndex,
  type PassphraseSource,
  withPkiLock,
  writeIndex,
  writeIssuedCertificate,
} from './store.js';

/** A CSR read and checked: its signature verified, its names parsed. */
export interface ParsedCsr {
  cn: string | undefined;
  sans: San[];
  keyType: KeyType;
  /** SHA-256 of the public key (DER SubjectPublicKeyInfo), hex: what `host install` matches. */
  publicKeyFingerprint: string;
  publicKey: CryptoKey;
}

/** SHA-256 hex of a public key's DER SubjectPublicKeyInfo (the same for a key, its CSR and its certificate). */
export function spkiFingerprint(key: KeyObject): string {
  return sha256Hex(key.export({ format: 'der', type: 'spki' }));
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Makes a PEM CSR for `key` (the host's private key) naming `cn` and `sans`. */
export async function createCsr(params: {
  keys: CryptoKeyPair;
  keyType: KeyType;
  cn: string;
  sans: readonly San[];
}): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [params.cn] }],
    keys: params.keys,
    signingAlgorithm: signingAlgorithm(params.keyType),
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        params.sans.map(
          (s): x509.JsonGeneralName => ({ type: s.type === 'dns' ? 'dns' : 'ip', value: s.value }),
        ),
        false,
      ),
    ],
  });
  return `${csr.toString('pem')}\n`;
}

/** Parses a PEM CSR and verifies its self-signature (proof that its maker holds the key). */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem.trim());
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `not a PEM certificate request: ${describeError(err)}`, {
      hint: 'Give the file `dockward host request` printed (-----BEGIN CERTIFICATE REQUEST-----).',
      cause: err,
    });
  }
  if (!(await csr.verify())) {
    throw new DockwardError('DW_E_INPUT', 'the certificate request is not signed by its own key', {
      hint: 'The CSR was altered after it was made: run `dockward host request` on the host again.',
    });
  }
  const der = Buffer.from(csr.publicKey.rawData);
  const keyObject = createPublicKey({ key: der, format: 'der', type: 'spki' });
  const keyType = keyTypeOf(keyObject);
  const algorithm =
    keyType === 'ecdsa-p256' ? keyAlgorithm(keyType) : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const publicKey = await subtle.importKey('spki', der, algorithm, true, ['verify']);
  const ext = csr.extensions.find(
    (e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension,
  );
  const raw = (ext?.names.items ?? []).map((n) => {
    if (n.type !== 'dns' && n.type !== 'ip') {
      throw new DockwardError('DW_E_SAN_INVALID', `the request asks for a ${n.type} name (${n.value})`, {
        hint: 'A dockerd server certificate carries DNS and IP names only.',
      });
    }
    return `${n.type === 'ip' ? 'IP' : 'DNS'}:${n.value}`;
  });
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(csr.subject)?.[1]?.trim();
  return { cn, sans: parseSans(raw), keyType, publicKeyFingerprint: sha256Hex(der), publicKey };
}

/**
 * The SANs a server certificate may carry: at least one, no wildcard (one host, one key), no
 * unspecified or multicast address (no client dials them; a CSR naming one is a mistake or a trick).
 */
export function checkServerSans(sans: readonly San[]): void {
  if (sans.length === 0) {
    throw new DockwardError('DW_E_SAN_INVALID', 'the certificate request names no host (no SAN)', {
      hint: 'TLS clients ignore the CN: run `dockward host request --san DNS:host.example.com --san IP:192.0.2.10`.',
    });
  }
  for (const s of sans) {
    if (s.type === 'dns' && s.value.startsWith('*')) {
      throw new DockwardError('DW_E_SAN_INVALID', `the request asks for the wildcard ${formatSan(s)}`, {
        hint: 'A host key signs for that host only: name the host itself.',
      });
    }
    if (s.type === 'ip' && isUnusableAddress(s.value)) {
      throw new DockwardError(
        'DW_E_SAN_INVALID',
        `the request asks for ${formatSan(s)}, which no client dials`,
        {
          hint: 'Leave out unspecified (0.0.0.0, ::) and multicast addresses.',
        },
      );
    }
  }
}

function isUnusableAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const first = Number(ip.split('.')[0]);
    return ip === '0.0.0.0' || (first >= 224 && first <= 239) || ip === '255.255.255.255';
  }
  const v = ip.toLowerCase();
  return v === '::' || v.startsWith('ff');
}

export interface SignOptions {
  csrPem: string;
  /** Name in the PKI (default: the CSR's CN). */
  name?: string;
  days?: number;
  /** Replace a current server certificate of that name (a host re-enrolling or rotating its key). */
  replace?: boolean;
}

export interface SignResult {
  record: CertRecord;
  certPem: string;
  caPem: string;
  certPath: string;
  caPath: string;
}

/**
 * `pki sign`: signs a server CSR with the CA and records it in the index like an issued
 * certificate (`keyOnHost`: the PKI never had its key, so `pki renew` will not make one).
 */
export async function signServerCsr(
  paths: StatePaths,
  options: SignOptions,
  passphrase: PassphraseSource,
): Promise<SignResult> {
  const csr = await parseCsr(options.csrPem);
  const name = options.name ?? csr.cn;
  if (name === undefined) {
    throw new DockwardError('DW_E_USAGE', 'the request has no CN to name the certificate by', {
      hint: 'Pass --name NAME.',
    });
  }
  assertValidName(name);
  checkServerSans(csr.sans);
  const days = options.days ?? DEFAULT_DAYS.server;
  assertDays(days);
  return withPkiLock(paths, async () => {
    const index = await loadIndex(paths);
    const existing = currentRecord(index, name);
    if (existing && !existing.revokedAt && !(options.replace && existing.kind === 'server')) {
      throw new DockwardError(
        'DW_E_CERT_EXISTS',
        `a ${existing.kind} certificate named "${name}" exists already`,
        {
          hint:
            existing.kind === 'server'
              ? 'Pass --replace to sign the new request in its place (the old one stays in the history).'
              : 'Pass --name with another name.',
        },
      );
    }
    const ca = await loadCa(paths, passphrase);
    const cert = await createLeafCertificate({
      kind: 'server',
      cn: name,
      sans: csr.sans,
      publicKey: csr.publicKey,
      leafKeyType: csr.keyType,
      days,
      ca,
    });
    const record: CertRecord = {
      name,
      kind: 'server',
      serial: normalizeSerial(cert.serialNumber),
      subject: cert.subject,
      sans: csr.sans.map(formatSan),
      keyType: csr.keyType,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      issuedAt: new Date().toISOString(),
      fingerprint: fingerprintSha256(cert),
      state: 'current',
      keyOnHost: true,
    };
    const pems = { ca: ca.cert.toString('pem'), cert: cert.toString('pem') };
    if (existing) {
      existing.state = 'superseded';
      if (!existing.revokedAt) record.renewedFrom = existing.serial;
    }
    const files = await writeIssuedCertificate(paths, name, pems, existing?.serial ?? 'previous');
    index.certs.push(record);
    await writeIndex(paths.index, index);
    return { record, certPem: pems.cert, caPem: pems.ca, certPath: files.cert, caPath: files.ca };
  });
}

/**
 * The host's half of enrolment without moving a private key: `host request` makes the server key
 * (0400, root) in dockerd's TLS folder and a CSR; `host install` takes the certificate the admin
 * machine signed, checks it belongs to that key and to the CA given, installs it (0444) and applies
 * the remote-tls profile with the same restart, verification and rollback as `dockward init`.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { DockwardError, describeError } from '../errors.js';
import { dialAddress, probeTlsListener } from '../docker/engine-client.js';
import { sansOf as certificateSans } from '../pki/certificate.js';
import { createCsr, spkiFingerprint } from '../pki/csr.js';
import { x509 } from '../pki/crypto.js';
import { exportPrivateKeyPem, generateKeyPair, type KeyType } from '../pki/keys.js';
import { formatSan, parseSans } from '../pki/san.js';
import { ensureDir, MODE_PRIVATE_DIR, writeFileAtomic } from '../store/atomic-write.js';
import { type ApplyResult, applyDaemonConfig, type VerifyCheck } from './apply.js';
import { DEFAULT_CONFIG_FILE } from './effective-config.js';
import { applyFirewall, parseCidr, restoreFirewall } from './firewall.js';
import {
  DEFAULT_LISTEN,
  defaultSans,
  installServerFiles,
  parseListen,
  serverNameFor,
  verifyServedCertificate,
} from './host-init.js';
import { DEFAULT_CERT_DIR } from './profiles.js';
import type { RestartMode } from './restart.js';

/** The key `host request` made, waiting for its certificate; `host install` makes it key.pem. */
export const REQUEST_KEY_FILE = 'request-key.pem';

export interface RequestOptions {
  sans?: readonly string[];
  /** Add the host name and its addresses to `sans` (default true). */
  hostSans?: boolean;
  name?: string;
  tlsDir?: string;
  keyType?: KeyType;
}

export interface RequestResult {
  name: string;
  sans: string[];
  keyPath: string;
  /** SHA-256 of the key's public half: the signed certificate must carry the same. */
  publicKeyFingerprint: string;
  csr: string;
}

/** Makes the host's server key (never printed, never copied) and a CSR for it. */
export async function requestCertificate(options: RequestOptions): Promise<RequestResult> {
  const host = osHostname();
  const wanted = [...(options.sans ?? []), ...(options.hostSans === false ? [] : defaultSans(host))];
  const sans = parseSans(wanted);
  if (sans.length === 0) {
    throw new DockwardError('DW_E_SAN_INVALID', 'the request would name no host', {
      hint: 'Pass --san DNS:host.example.com or --san IP:192.0.2.10 (or drop --no-host-sans).',
    });
  }
  const name = options.name ?? serverNameFor(host);
  const tlsDir = (options.tlsDir ?? DEFAULT_CERT_DIR).replace(/\/+$/, '');
  const keyType = options.keyType ?? 'ecdsa-p256';
  const keys = await generateKeyPair(keyType);
  const keyPem = await exportPrivateKeyPem(keys.privateKey);
  await ensureDir(tlsDir, MODE_PRIVATE_DIR);
  const keyPath = join(tlsDir, REQUEST_KEY_FILE);
  // 0400 from the first byte (writeFileAtomic sets the mode before writing): dockerd runs as root.
  await writeFileAtomic(keyPath, keyPem, { mode: 0o400 });
  if (process.getuid?.() === 0) await fs.chown(keyPath, 0, 0);
  const csr = await createCsr({ keys, keyType, cn: name, sans });
  return {
    name,
    sans: sans.map(formatSan),
    keyPath,
    publicKeyFingerprint: spkiFingerprint(createPublicKey(createPrivateKey(keyPem))),
    csr,
  };
}

export interface InstallOptions {
  certPath: string;
  caPath: string;
  tlsDir?: string;
  configPath?: string;
  listen?: string;
  restart?: RestartMode | 'auto';
  pidfile?: string;
  root?: string;
  host?: string;
  startTimeoutMs?: number;
  /** `--allow`: sources let through to the TLS port (nftables table inet dockward); none = firewall untouched. */
  allow?: readonly string[];
  progress?: (line: string) => void;
}

export interface InstallResult {
  tlsDir: string;
  /** Which key the certificate belongs to: the one `host request` made, or the key.pem in place. */
  keyPath: string;
  fingerprint: string;
  notAfter: string;
  sans: string[];
  apply: ApplyResult;
  checks: VerifyCheck[];
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new DockwardError('DW_E_FILE', `cannot read the ${what} ${path}: ${describeError(err)}`, {
      cause: err,
    });
  }
}

function parseCert(pem: string, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `${path} is not a PEM certificate`, {
      hint: 'Give the files `dockward pki sign` wrote (--cert cert.pem --ca ca.pem).',
      cause: err,
    });
  }
}

/**
 * Checks the certificate against the CA and the host's own key, then installs and applies it.
 * Nothing is written when a check fails.
 */
export interface SignedCertificate {
  certPem: string;
  caPem: string;
  cert: X509Certificate;
  /** The host-held key the certificate belongs to. */
  keyPath: string;
}

/**
 * The checks every install makes before writing anything: signed by the CA given, not expired,
 * and for a key this host holds in `tlsDir` (the one `host request` made, or one in use).
 */
export async function checkSignedCertificate(
  options: { certPath: string; caPath: string },
  tlsDir: string,
  keyFiles: readonly string[] = [REQUEST_KEY_FILE, 'key.pem'],
): Promise<SignedCertificate> {
  const certPem = await readPem(options.certPath, 'certificate');
  const caPem = await readPem(options.caPath, 'CA certificate');
  const cert = parseCert(certPem, options.certPath);
  const ca = parseCert(caPem, options.caPath);
  if (!ca.ca || !cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new DockwardError(
      'DW_E_INPUT',
      `${options.certPath} is not signed by the CA in ${options.caPath}`,
      {
        hint: 'Give the ca.pem that `dockward pki sign` wrote next to the certificate.',
      },
    );
  }
  if (Date.parse(cert.validTo) <= Date.now()) {
    throw new DockwardError('DW_E_INPUT', `${options.certPath} expired on ${cert.validTo}`, {
      hint: 'Sign a new request: dockward host request, then dockward pki sign on the admin machine.',
    });
  }
  const certKey = spkiFingerprint(cert.publicKey);
  // The key it belongs to: the one waiting from `host request`, or (a re-install) the one in use.
  let keyPath: string | undefined;
  const candidates = [
    ...keyFiles.map((f) => join(tlsDir, f)),
    // Going back to the previous certificate (a rotation undone): its key is in a backup.
    ...(await previousKeys(tlsDir)),
  ];
  for (const candidate of candidates) {
    const pem = await fs.readFile(candidate, 'utf8').catch(() => undefined);
    if (pem === undefined) continue;
    let fp: string | undefined;
    try {
      fp = spkiFingerprint(createPublicKey(createPrivateKey(pem)));
    } catch {
      fp = undefined;
    }
    if (fp === certKey) {
      keyPath = candidate;
      break;
    }
  }
  if (keyPath === undefined) {
    throw new DockwardError(
      'DW_E_HOST_CERT_MISMATCH',
      `${options.certPath} does not belong to a key this host holds in ${tlsDir}`,
      {
        hint: 'Sign the CSR that `dockward host request` printed on this host (a newer request replaces the key of an older one).',
      },
    );
  }
  return { certPem, caPem, cert, keyPath };
}

export async function installCertificate(options: InstallOptions): Promise<InstallResult> {
  const progress = options.progress ?? (() => undefined);
  const tlsDir = (options.tlsDir ?? DEFAULT_CERT_DIR).replace(/\/+$/, '');
  const listen = parseListen(options.listen ?? DEFAULT_LISTEN);
  // Checked before anything changes: a typo in --allow must not leave a half-secured host.
  const allow = (options.allow ?? []).map(parseCidr);
  const { certPem, caPem, cert, keyPath } = await checkSignedCertificate(options, tlsDir);
  const files = [
    { path: join(tlsDir, 'ca.pem'), mode: 0o444, from: options.caPath },
    { path: join(tlsDir, 'cert.pem'), mode: 0o444, from: options.certPath },
    { path: join(tlsDir, 'key.pem'), mode: 0o400, from: keyPath },
  ];
  // A failed apply leaves the host as it was: the previous TLS files come back with daemon.json.
  const written: { path: string; backup: string | undefined; mode: number }[] = [];
  let restored = false;
  const restoreTlsFiles = async (): Promise<void> => {
    if (restored) return;
    restored = true;
    for (const w of written.reverse()) {
      if (w.backup) await writeFileAtomic(w.path, await fs.readFile(w.backup), { mode: w.mode });
      else await fs.rm(w.path, { force: true });
    }
    if (written.length > 0) progress(`put back the previous ${written.map((w) => w.path).join(', ')}`);
  };
  let replaced: string[];
  try {
    replaced = await installServerFiles(tlsDir, files, progress, (path, backup) => {
      written.push({ path, backup, mode: files.find((f) => f.path === path)!.mode });
    });
  } catch (err) {
    await restoreTlsFiles();
    throw err;
  }
  // As in init: the firewall goes first and is put back if the daemon apply fails.
  let firewall: Awaited<ReturnType<typeof applyFirewall>> | undefined;
  try {
    firewall =
      allow.length > 0
        ? await applyFirewall(listen.port, allow, {
            ...(options.root !== undefined ? { root: options.root } : {}),
            progress,
          })
        : undefined;
    const result = await applyInstalled();
    if (keyPath !== files[2]!.path && !keyPath.endsWith('.bak')) await fs.rm(keyPath, { force: true });
    return result;
  } catch (err) {
    await restoreTlsFiles().catch((e: unknown) =>
      progress(`could not put back the previous TLS files: ${describeError(e)}`),
    );
    if (firewall) {
      await restoreFirewall(firewall);
      progress('firewall: put back as it was (the daemon configuration was rolled back)');
    }
    throw err;
  }

  async function applyInstalled(): Promise<InstallResult> {
    const sans = sansOf(certPem);
    let checks: VerifyCheck[] = [];
    const verify = async (): Promise<VerifyCheck[]> => {
      checks = await verifyServedCertificate(certPem, listen, sans);
      // No admin certificate is on the host (it stays with the admin machine): the check here is
      // that a client without one is refused; `hosts provision` connects with one from outside.
      const address = dialAddress(listen.address);
      const probe = await probeTlsListener(address, listen.port, caPem);
      checks.push({
        what: `TLS on ${address}:${listen.port} without a client certificate`,
        ok: probe.reachable && !probe.answeredWithoutClientCert,
        expected: 'refused',
        actual: probe.answeredWithoutClientCert ? 'answered' : `refused (${probe.detail})`,
      });
      return checks;
    };
    const apply = await applyDaemonConfig({
      configPath: options.configPath ?? DEFAULT_CONFIG_FILE,
      profile: 'remote-tls',
      profileOptions: { certDir: tlsDir, listenAddress: listen.address, port: listen.port },
      restart: options.restart ?? 'auto',
      ...(options.pidfile !== undefined ? { pidfile: options.pidfile } : {}),
      ...(options.root !== undefined ? { root: options.root } : {}),
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
      ...(replaced.length > 0
        ? { restartReason: `${replaced.join(', ')} changed (dockerd reads them only at start)` }
        : {}),
      restoreOnRollback: restoreTlsFiles,
      verify,
      progress,
    });
    if (!apply.changed) await verify();
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      throw new DockwardError(
        'DW_E_UPSTREAM',
        `dockerd runs but the TLS check failed: ${failed.map((c) => `${c.what}: ${c.actual}`).join('; ')}`,
        { hint: 'Compare tlscacert/tlscert/tlskey in daemon.json with the files installed.' },
      );
    }
    return {
      tlsDir,
      keyPath,
      fingerprint: cert.fingerprint256,
      notAfter: new Date(cert.validTo).toISOString(),
      sans,
      apply,
      checks,
    };
  }
}

/** Backups of key.pem, newest first (backupFile names them key.pem.STAMP[.N].bak). */
async function previousKeys(tlsDir: string): Promise<string[]> {
  const names = await fs.readdir(tlsDir).catch(() => [] as string[]);
  return names
    .filter((n) => /^key\.pem\..+\.bak$/.test(n))
    .sort()
    .reverse()
    .map((n) => join(tlsDir, n));
}

/** `DNS:x` / `IP:y` of a certificate, IPv6 in its short form (Node's subjectAltName spells out every group). */
export function sansOf(certPem: string): string[] {
  return parseSans(certificateSans(new x509.X509Certificate(certPem))).map(formatSan);
}

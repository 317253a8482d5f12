import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { DockwardError } from '../errors.js';
import { MODE_PRIVATE_FILE, writeFileAtomic } from '../store/atomic-write.js';
import type { StatePaths } from '../store/paths.js';
import { certSerial, findHost, type HostRecord, readClientTls, updateInventory } from './inventory.js';
import type { ClientTls } from './probe.js';
import { gzipTar } from './tar.js';

export const BUNDLE_FORMATS = ['tar', 'env'] as const;
export type BundleFormat = (typeof BUNDLE_FORMATS)[number];

/** Validates a `--format` value. */
export function parseBundleFormat(value: string): BundleFormat {
  if ((BUNDLE_FORMATS as readonly string[]).includes(value)) return value as BundleFormat;
  throw new DockwardError('DW_E_USAGE', `unknown bundle format "${value}"`, {
    hint: `Use one of: ${BUNDLE_FORMATS.join(', ')}.`,
  });
}

interface CertFacts {
  serial: string;
  subject: string;
  notAfter: string;
}

function certFacts(tls: ClientTls): CertFacts {
  const c = new X509Certificate(tls.cert);
  return {
    serial: certSerial(tls.cert),
    subject: c.subject.replaceAll('\n', ', '),
    notAfter: new Date(c.validTo).toISOString(),
  };
}

/** The README.md inside a tar bundle: what the files are and the DOCKER_* variables that use them. */
export function renderBundleReadme(host: Pick<HostRecord, 'name' | 'endpoint'>, facts: CertFacts): string {
  return `# Docker TLS bundle for host ${host.name}

Written by dockward for \`${host.endpoint}\`.
Client certificate ${facts.subject}, serial ${facts.serial}, valid until ${facts.notAfter}.

| file | what |
| --- | --- |
| \`ca.pem\` | the CA that signed the host's server certificate and this client certificate |
| \`cert.pem\` | the client certificate |
| \`key.pem\` | its private key (mode 0600): keep it secret, store it as a CI secret |

## Use

\`\`\`sh
mkdir -p "$HOME/.docker-${host.name}" && chmod 700 "$HOME/.docker-${host.name}"
tar -xzf BUNDLE.tar.gz -C "$HOME/.docker-${host.name}"
export DOCKER_HOST=${host.endpoint}
export DOCKER_TLS_VERIFY=1
export DOCKER_CERT_PATH="$HOME/.docker-${host.name}"
docker info
\`\`\`

\`DOCKER_TLS_VERIFY=1\` makes the docker CLI verify the host against \`ca.pem\` and present
\`cert.pem\`/\`key.pem\`; \`DOCKER_CERT_PATH\` is the folder holding the three files.

## Renewal

\`dockward hosts renew\` rewrites this bundle file where it was written with the new
certificate; copy the new file to wherever this one went (a CI secret store keeps the old one).
See docs/ci-bundles.md for GitHub Actions and GitLab CI.
`;
}

function b64(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

/** The `--format env` bundle: dotenv lines for a CI secret store, the PEMs as one-line base64. */
export function renderEnvBundle(
  host: Pick<HostRecord, 'name' | 'endpoint'>,
  tls: ClientTls,
  facts: CertFacts,
): string {
  return `# dockward CI bundle for host ${host.name} (${host.endpoint}).
# Client certificate ${facts.subject}, serial ${facts.serial}, valid until ${facts.notAfter}.
# It holds a private key: store each variable as a masked CI secret, never commit this file.
#
# Before docker commands, write the certificates to files and point the docker CLI at them:
#   d="$HOME/.docker-tls"; mkdir -p "$d"; chmod 700 "$d"
#   printf '%s' "$DOCKWARD_CA_PEM_B64" | base64 -d > "$d/ca.pem"
#   printf '%s' "$DOCKWARD_CERT_PEM_B64" | base64 -d > "$d/cert.pem"
#   (umask 077; printf '%s' "$DOCKWARD_KEY_PEM_B64" | base64 -d > "$d/key.pem")
#   export DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH="$d"
#   docker info
# \`dockward hosts renew\` rewrites this file with the new certificate: update the secrets then.
DOCKER_HOST=${host.endpoint}
DOCKER_TLS_VERIFY=1
DOCKWARD_CA_PEM_B64=${b64(tls.ca)}
DOCKWARD_CERT_PEM_B64=${b64(tls.cert)}
DOCKWARD_KEY_PEM_B64=${b64(tls.key)}
`;
}

/** The bytes of a bundle in either format. */
export async function buildBundle(
  host: Pick<HostRecord, 'name' | 'endpoint'>,
  tls: ClientTls,
  format: BundleFormat,
): Promise<{ data: Buffer | string; serial: string }> {
  const facts = certFacts(tls);
  if (format === 'env') return { data: renderEnvBundle(host, tls, facts), serial: facts.serial };
  const data = await gzipTar([
    { name: 'ca.pem', mode: 0o644, data: tls.ca },
    { name: 'cert.pem', mode: 0o644, data: tls.cert },
    { name: 'key.pem', mode: MODE_PRIVATE_FILE, data: tls.key },
    { name: 'README.md', mode: 0o644, data: renderBundleReadme(host, facts) },
  ]);
  return { data, serial: facts.serial };
}

/** Writes a bundle file 0600 atomically (the temp file is never readable by others either). */
export async function writeBundleFile(path: string, data: Buffer | string): Promise<void> {
  await writeFileAtomic(path, data, { mode: MODE_PRIVATE_FILE });
}

export interface BundleOptions {
  out: string;
  format: BundleFormat;
  force?: boolean;
}

export interface BundleResult {
  host: string;
  path: string;
  format: BundleFormat;
  serial: string;
}

/**
 * `hosts bundle NAME --out FILE`: the host's certificates for CI, as a tarball or env file,
 * written 0600 and recorded in hosts.json so `hosts renew` can rewrite it.
 */
export async function bundleHost(
  paths: StatePaths,
  name: string,
  options: BundleOptions,
): Promise<BundleResult> {
  const path = resolve(options.out);
  return updateInventory(paths, async (inv) => {
    const h = findHost(inv, name);
    const exists = await fs
      .lstat(path)
      .then(() => true)
      .catch(() => false);
    if (exists && !options.force) {
      throw new DockwardError('DW_E_FILE_EXISTS', `${path} exists already`, {
        hint: 'Pass --force to replace it, or choose another --out.',
      });
    }
    const { data, serial } = await buildBundle(h, await readClientTls(h.certDir), options.format);
    await writeBundleFile(path, data);
    // A path holds one bundle: an older record of it (for any host) is now wrong.
    for (const other of inv.hosts) {
      if (other.bundles) other.bundles = other.bundles.filter((b) => b.path !== path);
    }
    h.bundles = [
      ...(h.bundles ?? []),
      { path, format: options.format, serial, writtenAt: new Date().toISOString() },
    ];
    return { host: h.name, path, format: options.format, serial };
  });
}

/**
 * Semantic checks of an effective dockerd configuration: the combinations dockerd refuses at
 * start (or that leave it open), found before a restart. `--validate` (dockerd >= 23) sees none
 * of the command-line ones and not icc/iptables.
 *
 * `checkConfig` is pure. `checkFiles` reads TLS files and /etc/subuid through an injected reader,
 * so it stays testable without touching the machine.
 */
import { readFile } from 'node:fs/promises';
import { type EffectiveConfig, tlsMode } from './effective-config.js';
import { isLoopbackHost, parseDaemonHost } from './hosts.js';

/** One problem found. `code` is stable (scripts and tests match on it). */
export interface Finding {
  code: string;
  severity: 'error' | 'warning';
  /** The daemon.json key concerned. */
  key: string;
  message: string;
  hint: string;
}

export interface CheckOptions {
  /** The node is in an active swarm: live-restore is then an error, not a warning. */
  swarmActive?: boolean;
  /** The user explicitly accepts a tcp listener without TLS verification (the seeds say never). */
  allowInsecureTcp?: boolean;
  /** More certificates than this in tlscacert means a trust bundle, not a private CA (default 10). */
  maxCaCertificates?: number;
  /** Where subordinate ids live (default /etc/subuid, /etc/subgid). */
  subuidPath?: string;
  subgidPath?: string;
}

/** The slice of `fs` the file checks need. Errors carry Node's `code` (ENOENT, EACCES). */
export interface CheckFs {
  readFile(path: string): Promise<string>;
}

/** The real file system, for callers outside tests. */
export const nodeCheckFs: CheckFs = { readFile: (path) => readFile(path, 'utf8') };

/** Paths where distributions keep the system's public trust bundle. */
export const SYSTEM_TRUST_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/ssl/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/pki/tls/certs/ca-bundle.trust.crt',
  '/etc/pki/tls/cert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/usr/local/share/certs/ca-root-nss.crt',
  '/usr/share/ssl/certs/ca-bundle.crt',
];

const DEFAULT_MAX_CA_CERTS = 10;

/** The pure checks over the effective configuration. */
export function checkConfig(effective: EffectiveConfig, options: CheckOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const c = effective.config;

  for (const conflict of effective.conflicts) {
    if (conflict.topKey === 'hosts') {
      findings.push({
        code: 'hosts-conflict',
        severity: 'error',
        key: 'hosts',
        message: `daemon.json sets "hosts" while the command line passes ${conflict.flagText.join(', ')}: ${conflict.message}`,
        hint: 'Add a systemd drop-in that clears ExecStart and starts dockerd without -H (dockward daemon apply writes it), then systemctl daemon-reload.',
      });
    } else {
      findings.push({
        code: 'flag-file-conflict',
        severity: 'error',
        key: conflict.key,
        message: conflict.message,
        hint: `Keep "${conflict.key}" in one place: remove ${conflict.flag} from the command line or the key from daemon.json.`,
      });
    }
  }

  if (c.icc === false && c.iptables === false) {
    findings.push({
      code: 'icc-needs-iptables',
      severity: 'error',
      key: 'icc',
      message:
        'icc is false but iptables is false: dockerd needs iptables rules to block inter-container traffic and refuses to start',
      hint: 'Remove "iptables": false (or set it true), or drop "icc": false.',
    });
  }
  if (c.icc === false && c.ipv6 === true && c.ip6tables === false) {
    findings.push({
      code: 'icc-needs-ip6tables',
      severity: 'error',
      key: 'icc',
      message:
        'icc is false with ipv6 on but ip6tables is false: IPv6 traffic between containers cannot be blocked',
      hint: 'Set "ip6tables": true, or turn ipv6 off.',
    });
  }
  if (c.bridge !== undefined && c.bridge !== '' && c.bip !== undefined && c.bip !== '') {
    findings.push({
      code: 'bridge-bip-conflict',
      severity: 'error',
      key: 'bip',
      message: `"bridge" (${c.bridge}) and "bip" (${c.bip}) are mutually exclusive; dockerd refuses to start`,
      hint: 'bip configures the default docker0 bridge; with your own bridge, configure its address on the bridge itself and drop "bip".',
    });
  }
  if (c.bridge !== undefined && c.bridge !== '' && c.bip6 !== undefined && c.bip6 !== '') {
    findings.push({
      code: 'bridge-bip6-conflict',
      severity: 'error',
      key: 'bip6',
      message: `"bridge" (${c.bridge}) and "bip6" (${c.bip6}) are mutually exclusive`,
      hint: 'Drop "bip6" when you attach containers to your own bridge.',
    });
  }
  if (c['live-restore'] === true) {
    findings.push({
      code: 'live-restore-swarm',
      severity: options.swarmActive ? 'error' : 'warning',
      key: 'live-restore',
      message: options.swarmActive
        ? 'live-restore is on but this node is in a swarm: dockerd rejects live-restore in swarm mode'
        : 'live-restore is incompatible with swarm mode: `docker swarm init/join` will fail while it is on',
      hint: options.swarmActive
        ? 'Leave the swarm first or drop "live-restore".'
        : 'Fine on a standalone host; turn it off before joining a swarm.',
    });
  }

  findings.push(...checkListeners(effective, options));
  findings.push(...checkTlsPaths(effective));

  if (c['userns-remap'] !== undefined && c['userns-remap'] !== '') {
    findings.push({
      code: 'userns-remap-storage',
      severity: 'warning',
      key: 'userns-remap',
      message: `userns-remap is "${c['userns-remap']}": images and containers move under <data-root>/<uid>.<gid>, so existing ones disappear from view until remapping is turned off; --privileged, --pid=host and --net=host then need --userns=host`,
      hint: 'Plan to re-pull or re-load images after enabling it.',
    });
  }
  return findings;
}

function checkListeners(effective: EffectiveConfig, options: CheckOptions): Finding[] {
  const findings: Finding[] = [];
  const tls = tlsMode(effective);
  const hosts = effective.config.hosts ?? [];
  for (const raw of hosts) {
    let host: ReturnType<typeof parseDaemonHost>;
    try {
      host = parseDaemonHost(raw, { tls: tls.tls });
    } catch (err) {
      findings.push({
        code: 'invalid-host',
        severity: 'error',
        key: 'hosts',
        message: `hosts entry "${raw}": ${(err as Error).message}`,
        hint: 'Write unix:///path, tcp://host:port or fd://.',
      });
      continue;
    }
    if (host.scheme !== 'tcp') continue;
    const scope = isLoopbackHost(host.host ?? '') ? 'every local user' : 'anyone who can reach it';
    if (!tls.tls || !tls.verify) {
      const what = tls.tls
        ? `TLS without client verification (tlsverify is false): ${scope} gets root on this host with no certificate`
        : `no TLS: ${scope} gets root on this host with no credentials at all`;
      findings.push({
        code: tls.tls ? 'tcp-tls-without-verify' : 'tcp-without-tls',
        severity: options.allowInsecureTcp ? 'warning' : 'error',
        key: 'hosts',
        message: `dockerd listens on ${host.normalized} with ${what}`,
        hint: options.allowInsecureTcp
          ? 'Accepted because the insecure-tcp override was given; never do this outside a lab.'
          : 'Set "tlsverify": true with tlscacert, tlscert and tlskey (dockward daemon harden --profile remote-tls), or remove the tcp listener.',
      });
    }
  }
  return findings;
}

function checkTlsPaths(effective: EffectiveConfig): Finding[] {
  const findings: Finding[] = [];
  const tls = tlsMode(effective);
  const entry = (key: string) => effective.entries.find((e) => e.key === key);
  const ca = entry('tlscacert');
  if (
    ca &&
    ca.kind !== 'default' &&
    typeof ca.value === 'string' &&
    SYSTEM_TRUST_BUNDLES.includes(ca.value)
  ) {
    findings.push(systemBundleFinding(ca.value, 'is the system trust bundle'));
  }
  if (!tls.tls) return findings;
  const needed = tls.verify ? ['tlscacert', 'tlscert', 'tlskey'] : ['tlscert', 'tlskey'];
  for (const key of needed) {
    const e = entry(key);
    if (!e || e.kind === 'default') {
      findings.push({
        code: 'tls-default-path',
        severity: 'warning',
        key,
        message: `TLS is on but ${key} is not set: dockerd falls back to ${String(e?.value ?? `~/.docker/${key}`)} of the user it runs as ($DOCKER_CERT_PATH or ~/.docker)`,
        hint: `Set "${key}" to an explicit path, e.g. /etc/docker/tls/${key === 'tlscacert' ? 'ca' : key === 'tlscert' ? 'cert' : 'key'}.pem.`,
      });
    }
  }
  return findings;
}

function systemBundleFinding(path: string, why: string): Finding {
  return {
    code: 'tlscacert-system-bundle',
    severity: 'error',
    key: 'tlscacert',
    message: `tlscacert ${path} ${why}: any certificate from any public CA would be accepted as a client and get root on this host`,
    hint: 'Point tlscacert at your own CA (dockward pki init), never at the system bundle.',
  };
}

interface FsError {
  code?: string;
}

async function readOrFinding(
  fs: CheckFs,
  path: string,
  key: string,
  what: string,
): Promise<{ text?: string; finding?: Finding }> {
  try {
    return { text: await fs.readFile(path) };
  } catch (err) {
    const code = (err as FsError).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return {
        finding: {
          code: 'tls-file-missing',
          severity: 'error',
          key,
          message: `${key} ${path} does not exist: dockerd cannot load the ${what} and refuses to start`,
          hint: `Install the file (dockward init does it) or fix the path in "${key}".`,
        },
      };
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return {
        finding: {
          code: 'tls-file-unreadable',
          severity: 'warning',
          key,
          message: `${key} ${path} cannot be read by dockward (permission denied); dockerd runs as root and may still read it, but it was not checked`,
          hint: 'Run the check as root to verify the file.',
        },
      };
    }
    return {
      finding: {
        code: 'tls-file-unreadable',
        severity: 'error',
        key,
        message: `${key} ${path} cannot be read: ${(err as Error).message}`,
        hint: `Fix the path in "${key}".`,
      },
    };
  }
}

/** Counts PEM certificates in a text. */
export function countPemCertificates(text: string): number {
  return (text.match(/-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----/g) ?? []).length;
}

/** True when a PEM private key is passphrase-protected (PKCS#8 encrypted or legacy Proc-Type). */
export function isEncryptedPemKey(text: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /Proc-Type:\s*4,ENCRYPTED/.test(text);
}

/** The checks that read files: TLS material and subordinate id ranges. */
export async function checkFiles(
  effective: EffectiveConfig,
  fs: CheckFs,
  options: CheckOptions = {},
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const tls = tlsMode(effective);
  const explicit = (key: string): string | undefined => {
    const e = effective.entries.find((x) => x.key === key);
    return e && e.kind !== 'default' && typeof e.value === 'string' && e.value !== '' ? e.value : undefined;
  };

  const caPath = explicit('tlscacert');
  if (caPath && (tls.verify || tls.tls)) {
    const { text, finding } = await readOrFinding(fs, caPath, 'tlscacert', 'client CA');
    if (finding) findings.push(finding);
    if (text !== undefined) {
      const count = countPemCertificates(text);
      const max = options.maxCaCertificates ?? DEFAULT_MAX_CA_CERTS;
      if (count === 0) {
        findings.push(invalidPem('tlscacert', caPath, 'holds no PEM certificate'));
      } else if (count > max && !SYSTEM_TRUST_BUNDLES.includes(caPath)) {
        findings.push(systemBundleFinding(caPath, `holds ${count} certificates, like a public trust bundle`));
      }
    }
  }
  const certPath = explicit('tlscert');
  if (certPath && tls.tls) {
    const { text, finding } = await readOrFinding(fs, certPath, 'tlscert', 'server certificate');
    if (finding) findings.push(finding);
    if (text !== undefined && countPemCertificates(text) === 0) {
      findings.push(invalidPem('tlscert', certPath, 'holds no PEM certificate'));
    }
  }
  const keyPath = explicit('tlskey');
  if (keyPath && tls.tls) {
    const { text, finding } = await readOrFinding(fs, keyPath, 'tlskey', 'server key');
    if (finding) findings.push(finding);
    if (text !== undefined) {
      if (isEncryptedPemKey(text)) {
        findings.push({
          code: 'tls-key-encrypted',
          severity: 'error',
          key: 'tlskey',
          message: `tlskey ${keyPath} is encrypted with a passphrase: dockerd cannot prompt for it and refuses encrypted keys`,
          hint: 'Install an unencrypted key readable only by root (mode 0600).',
        });
      } else if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(text)) {
        findings.push(invalidPem('tlskey', keyPath, 'holds no PEM private key'));
      }
    }
  }

  const remap = effective.config['userns-remap'];
  if (typeof remap === 'string' && remap !== '') {
    findings.push(...(await checkSubordinateIds(remap, fs, options)));
  }
  return findings;
}

function invalidPem(key: string, path: string, why: string): Finding {
  return {
    code: 'tls-file-invalid',
    severity: 'error',
    key,
    message: `${key} ${path} ${why}; dockerd refuses to start`,
    hint: `Point "${key}" at the right PEM file.`,
  };
}

/** `userns-remap` → the user and group whose subordinate ranges dockerd needs. */
export function remapIdentity(value: string): { user: string; group: string; isDefault: boolean } {
  if (value === 'default') return { user: 'dockremap', group: 'dockremap', isDefault: true };
  const [user, group] = value.split(':');
  return { user: user!, group: group || user!, isDefault: false };
}

async function checkSubordinateIds(remap: string, fs: CheckFs, options: CheckOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const { user, group, isDefault } = remapIdentity(remap);
  const files = [
    { path: options.subuidPath ?? '/etc/subuid', name: user, kind: 'subuid' },
    { path: options.subgidPath ?? '/etc/subgid', name: group, kind: 'subgid' },
  ];
  for (const f of files) {
    let text: string;
    try {
      text = await fs.readFile(f.path);
    } catch (err) {
      const code = (err as FsError).code;
      findings.push({
        code: 'userns-remap-subids',
        severity: isDefault ? 'warning' : 'error',
        key: 'userns-remap',
        message:
          code === 'ENOENT'
            ? `${f.path} does not exist: userns-remap needs a ${f.kind} range for "${f.name}"`
            : `${f.path} cannot be read (${code ?? (err as Error).message}); the ${f.kind} range of "${f.name}" was not checked`,
        hint: isDefault
          ? `dockerd creates "dockremap" and tries to add ranges with usermod; if that fails add "${f.name}:100000:65536" to ${f.path}.`
          : `Add a line "${f.name}:100000:65536" to ${f.path} (the range must not overlap other users').`,
      });
      continue;
    }
    const entries = text
      .split(/\r?\n/)
      .map((l) => l.trim().split(':'))
      .filter((p) => p.length >= 3 && p[0] === f.name);
    if (entries.length === 0) {
      findings.push({
        code: 'userns-remap-subids',
        severity: isDefault ? 'warning' : 'error',
        key: 'userns-remap',
        message: `${f.path} has no range for "${f.name}": dockerd fails with "No ${f.kind} ranges found"${isDefault ? ' unless it can add one itself' : ''}`,
        hint: `Add a line "${f.name}:100000:65536" to ${f.path} (the range must not overlap other users').`,
      });
      continue;
    }
    const total = entries.reduce((sum, p) => sum + (Number(p[2]) || 0), 0);
    if (total < 65536) {
      findings.push({
        code: 'userns-remap-subids',
        severity: 'warning',
        key: 'userns-remap',
        message: `${f.path} gives "${f.name}" only ${total} ids; images with uids above that fail to unpack`,
        hint: `Give "${f.name}" at least 65536 ids in ${f.path}.`,
      });
    }
  }
  return findings;
}

/** Every check: the pure ones, then the file ones when a reader is given. */
export async function runChecks(
  effective: EffectiveConfig,
  options: CheckOptions & { fs?: CheckFs } = {},
): Promise<Finding[]> {
  const findings = checkConfig(effective, options);
  if (options.fs) findings.push(...(await checkFiles(effective, options.fs, options)));
  return findings;
}

/**
 * `dockward init --mode gateway`: dockerd keeps only its unix socket and `dockward gateway` runs
 * as a systemd service on the TLS port. Unlike native TLS this enforces revocation (the gateway
 * checks the CRL on every handshake and reloads it on `systemctl reload`; dockerd has no CRL
 * support, moby#27778) and records every request in a hash-chained audit log.
 */
import { promises as fs } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockwardError } from '../errors.js';
import { ensureCa } from '../pki/bootstrap.js';
import { currentRecord } from '../pki/index-file.js';
import { issueCertificate } from '../pki/issue.js';
import { caExists, issuedFiles, loadIndex, type PassphraseSource } from '../pki/store.js';
import {
  defaultIo,
  ensureUser,
  type InstallResult,
  installService,
  type ServiceIo,
} from '../service/manage.js';
import { SERVICE_LOG_DIR } from '../service/unit.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import type { StatePaths } from '../store/paths.js';
import type { VerifyCheck } from './apply.js';
import { parseCidr } from './firewall.js';
import {
  type ConnectInstructions,
  connectInstructions,
  DEFAULT_LISTEN,
  dedupeSans,
  defaultSans,
  parseListen,
  serverNameFor,
  verifyTlsAccess,
} from './host-init.js';
import { dialAddress } from '../docker/engine-client.js';

export const GATEWAY_TLS_DIR = '/etc/dockward/gateway';
export const GATEWAY_AUDIT_LOG = `${SERVICE_LOG_DIR}/gateway.log`;

export interface GatewayInitOptions {
  paths: StatePaths;
  passphrase: PassphraseSource;
  sans?: readonly string[];
  serverName?: string;
  listen?: string;
  configPath?: string;
  /** Client sources the gateway accepts (its own --allow); default every address. */
  allow?: readonly string[];
  exec?: string;
  progress?: (line: string) => void;
  io?: ServiceIo;
}

export interface GatewayInitResult {
  mode: 'gateway';
  hostname: string;
  listen: { address: string; port: number };
  sans: string[];
  server: string;
  admin: string;
  tlsDir: string;
  auditLog: string;
  allow: string[];
  service: InstallResult;
  tls: VerifyCheck[];
  connect: ConnectInstructions;
}

/**
 * The `hosts` of daemon.json, if it opens a tcp listener: gateway mode leaves daemon.json alone
 * and refuses rather than run the gateway beside a second, unguarded way in.
 */
export async function tcpHostsIn(configPath: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(configPath, 'utf8');
  } catch {
    return [];
  }
  if (text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `${configPath} is not valid JSON: ${(err as Error).message}`, {
      hint: 'Fix the file first (dockerd would not start with it either).',
    });
  }
  const hosts = (parsed as { hosts?: unknown }).hosts;
  return Array.isArray(hosts)
    ? hosts.filter((h): h is string => typeof h === 'string' && h.startsWith('tcp://'))
    : [];
}

export async function initGatewayHost(options: GatewayInitOptions): Promise<GatewayInitResult> {
  const progress = options.progress ?? (() => undefined);
  const io = options.io ?? defaultIo(progress);
  const host = osHostname();
  const listen = parseListen(options.listen ?? DEFAULT_LISTEN);
  // The gateway's allowlist; loopback is always in it so this check and local health checks work.
  const allow = (options.allow && options.allow.length > 0 ? options.allow : ['0.0.0.0/0', '::/0']).map(
    (a) => parseCidr(a).text,
  );
  const gatewayAllow = [...new Set([...allow, '127.0.0.0/8', '::1/128'])];
  const configPath = options.configPath ?? '/etc/docker/daemon.json';
  const tcp = await tcpHostsIn(configPath);
  if (tcp.length > 0) {
    throw new DockwardError(
      'DW_E_USAGE',
      `${configPath} opens ${tcp.join(', ')}: gateway mode keeps dockerd on its unix socket`,
      {
        hint: 'Remove the tcp:// entries from "hosts" (and any drop-in that adds -H tcp://), restart docker, then run init --mode gateway again.',
      },
    );
  }
  const wanted = [...(options.sans ?? defaultSans(host)), 'IP:127.0.0.1'];
  if (listen.address !== '0.0.0.0' && listen.address !== '::') wanted.push(`IP:${listen.address}`);
  const sans = dedupeSans(wanted);
  const serverName = options.serverName ?? `${serverNameFor(host)}-gateway`;
  const adminName = `${serverNameFor(host)}-admin`;
  const { paths } = options;

  if (await ensureCa(paths, options.passphrase)) progress(`created the CA in ${paths.pki}`);
  const index = (await caExists(paths)) ? await loadIndex(paths) : undefined;
  const usable = (name: string, kind: 'server' | 'client'): boolean => {
    const r = index ? currentRecord(index, name) : undefined;
    return (
      r !== undefined &&
      !r.revokedAt &&
      r.kind === kind &&
      Date.parse(r.notAfter) > Date.now() &&
      (kind === 'client' || sans.every((s) => r.sans.includes(s)))
    );
  };
  if (!usable(serverName, 'server')) {
    await issueCertificate(paths, { kind: 'server', name: serverName, sans }, options.passphrase);
    progress(`issued gateway certificate ${serverName} (${sans.join(', ')})`);
  }
  if (!usable(adminName, 'client')) {
    await issueCertificate(paths, { kind: 'client', name: adminName, ou: 'admin' }, options.passphrase);
    progress(`issued admin client certificate ${adminName}`);
  }

  // The service user reads the key through its group; nobody else can (0640 root:dockward).
  const warnings: string[] = [];
  const { user } = await ensureUser(io, warnings);
  for (const w of warnings) progress(`warning: ${w}`);
  const group = user ?? 'root';
  const tlsDir = join(io.root, GATEWAY_TLS_DIR);
  // /etc/dockward itself must stay traversable (0755) for the service user: only the gateway's
  // folder below it is closed to others.
  await fs.mkdir(join(io.root, 'etc/dockward'), { recursive: true, mode: 0o755 });
  await fs.mkdir(tlsDir, { recursive: true, mode: 0o750 });
  await fs.chmod(tlsDir, 0o750);
  const serverDir = issuedFiles(paths, serverName).dir;
  const copies: Array<[string, string, number]> = [
    [join(serverDir, 'ca.pem'), 'ca.pem', 0o444],
    [join(serverDir, 'cert.pem'), 'cert.pem', 0o444],
    [join(serverDir, 'key.pem'), 'key.pem', 0o440],
    [paths.crl, 'crl.pem', 0o444],
  ];
  for (const [from, to, mode] of copies) {
    await writeFileAtomic(join(tlsDir, to), await fs.readFile(from), { mode });
  }
  const chown = await io.run('chown', ['-R', `root:${group}`, tlsDir]);
  if (chown.code !== 0)
    throw new DockwardError('DW_E_FILE', `chown ${tlsDir} failed: ${chown.stderr.trim()}`);
  progress(`installed the gateway's ca.pem, cert.pem, key.pem and crl.pem in ${GATEWAY_TLS_DIR}`);

  const shownListen = listen.address.includes(':')
    ? `[${listen.address}]:${listen.port}`
    : `${listen.address}:${listen.port}`;
  const service = await installService(
    'gateway',
    [
      '--listen',
      shownListen,
      '--tls-dir',
      GATEWAY_TLS_DIR,
      '--crl',
      `${GATEWAY_TLS_DIR}/crl.pem`,
      '--audit-log',
      GATEWAY_AUDIT_LOG,
      '--close-revoked',
      ...gatewayAllow.flatMap((a) => ['--allow', a]),
    ],
    { ...(options.exec ? { exec: options.exec } : {}), io },
  );

  const adminDir = issuedFiles(paths, adminName).dir;
  const adminTls = {
    ca: await fs.readFile(join(adminDir, 'ca.pem'), 'utf8'),
    cert: await fs.readFile(join(adminDir, 'cert.pem'), 'utf8'),
    key: await fs.readFile(join(adminDir, 'key.pem'), 'utf8'),
  };
  // The service is active before it listens (node starts, opens the audit log, reads the TLS
  // files): the check is retried for a while, and its last result counts.
  let tls: VerifyCheck[] = [];
  for (const deadline = Date.now() + 30_000; ; ) {
    tls = await verifyTlsAccess(dialAddress(listen.address), listen.port, adminTls, adminName);
    if (tls.every((c) => c.ok) || Date.now() > deadline) break;
    await sleep(1_000);
  }
  const failed = tls.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DockwardError(
      'DW_E_UPSTREAM',
      `the gateway runs but the TLS check failed: ${failed.map((c) => `${c.what}: ${c.actual}`).join('; ')}`,
      { hint: 'See dockward service status gateway (its journal says why).' },
    );
  }
  return {
    mode: 'gateway',
    hostname: host,
    listen,
    sans,
    server: serverName,
    admin: adminName,
    tlsDir: GATEWAY_TLS_DIR,
    auditLog: GATEWAY_AUDIT_LOG,
    allow,
    service,
    tls,
    connect: connectInstructions(sans, listen.port, adminDir, host),
  };
}

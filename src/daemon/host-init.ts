/**
 * `dockward init`: one host end to end. The PKI if missing, a server certificate with the host's
 * names, its files installed root-only for dockerd (never the CA key), the `remote-tls` profile
 * applied with a restart, and a real TLS connection with a fresh admin client certificate to prove
 * it; then how to connect. `--dry-run` prints the plan and changes nothing.
 */
import { runAudit } from '../audit/audit.js';
import { summaryLine } from '../audit/format/table.js';
import { DEFAULT_SOCKET } from './host-state.js';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { basename, join } from 'node:path';
import { DockwardError } from '../errors.js';
import { ensureCa } from '../pki/bootstrap.js';
import { currentRecord } from '../pki/index-file.js';
import { issueCertificate } from '../pki/issue.js';
import { formatSan, isValidDnsName, parseSans } from '../pki/san.js';
import { caExists, issuedFiles, loadIndex, NAME_PATTERN, type PassphraseSource } from '../pki/store.js';
import { backupFile, ensureDir, MODE_PRIVATE_DIR, writeFileAtomic } from '../store/atomic-write.js';
import type { StatePaths } from '../store/paths.js';
import { type ApplyResult, applyDaemonConfig, planApply, type VerifyCheck } from './apply.js';
import { dialAddress, engineGet, probeTlsListener } from '../docker/engine-client.js';
import { explainTlsError } from '../docker/tls-errors.js';
import { DEFAULT_CONFIG_FILE } from './effective-config.js';
import { DEFAULT_CERT_DIR } from './profiles.js';
import { detectRestartMode, type RestartMode } from './restart.js';
import type { ProgramRunner } from './systemd-io.js';
import { applyFirewall, parseCidr, restoreFirewall } from './firewall.js';

export const DEFAULT_LISTEN = '0.0.0.0:2376';
const CERT_FILE_NAME = 'cert.pem';

export interface InitOptions {
  paths: StatePaths;
  passphrase: PassphraseSource;
  /** SANs of the server certificate (default: the host name, its addresses and 127.0.0.1). */
  sans?: readonly string[];
  /** Name of the server certificate in the PKI (default: the host name). */
  serverName?: string;
  /** Where dockerd's TLS files go (default /etc/docker/tls). */
  tlsDir?: string;
  configPath?: string;
  /** The TLS listener, `HOST:PORT` (default 0.0.0.0:2376). */
  listen?: string;
  restart?: RestartMode | 'auto';
  pidfile?: string;
  root?: string;
  host?: string;
  logFile?: string;
  startTimeoutMs?: number;
  dryRun?: boolean;
  progress?: (line: string) => void;
  run?: ProgramRunner;
  /** `--allow`: sources allowed to the TLS port (nftables table inet dockward); none = no firewall. */
  allow?: readonly string[];
}

/** A file init installs for dockerd. */
export interface InstalledFile {
  path: string;
  mode: number;
  /** Copied from this PKI file. */
  from: string;
}

export interface InitPlan {
  hostname: string;
  listen: { address: string; port: number };
  sans: string[];
  ca: { exists: boolean; path: string };
  server: { name: string; action: 'issue' | 'reuse' };
  admin: { name: string; action: 'issue' | 'reuse' };
  tlsDir: string;
  files: InstalledFile[];
  configPath: string;
  restart: string;
  diff: string;
  dropIn: { fileName: string; content: string } | undefined;
  warnings: string[];
  connect: ConnectInstructions;
  /** The sources `--allow` lets reach the TLS port (empty: init leaves the firewall alone). */
  allow: string[];
}

export interface ConnectInstructions {
  host: string;
  env: string[];
  context: string;
}

export interface InitResult {
  dryRun: boolean;
  plan: InitPlan;
  createdCa: boolean;
  apply: ApplyResult | undefined;
  /** The TLS checks with the admin certificate (also run inside apply, before it counts as done). */
  tls: VerifyCheck[];
  audit: string;
}

/** Parses `--listen HOST:PORT` (`[::]:2376` for IPv6). */
export function parseListen(value: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const address = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || address === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DockwardError('DW_E_USAGE', `--listen "${value}" is not HOST:PORT`, {
      hint: 'Write it as 0.0.0.0:2376, 127.0.0.1:2376 or [::]:2376.',
    });
  }
  if (isIP(address) === 0) {
    throw new DockwardError('DW_E_USAGE', `--listen "${value}": dockerd binds an IP address, not a name`, {
      hint: 'Write the address to bind, e.g. 0.0.0.0:2376.',
    });
  }
  return { address, port };
}

/**
 * The server certificate's default SANs: the host name, every address of its interfaces (not
 * link-local IPv6, which needs a zone), and 127.0.0.1, which init itself connects through.
 */
export function defaultSans(
  host: string = osHostname(),
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string[] {
  const sans: string[] = [];
  if (isValidDnsName(host)) sans.push(`DNS:${host.toLowerCase()}`);
  for (const list of Object.values(interfaces)) {
    for (const addr of list ?? []) {
      if (addr.family === 'IPv6' && /^fe[89ab]/i.test(addr.address)) continue;
      sans.push(`IP:${addr.address}`);
    }
  }
  sans.push('IP:127.0.0.1');
  return dedupeSans(sans);
}

export function dedupeSans(sans: readonly string[]): string[] {
  return [...new Set(parseSans(sans).map(formatSan))];
}

/** A PKI name from the host name (`web-1.example.com` → `web-1.example.com`, else `dockerd`). */
export function serverNameFor(host: string): string {
  const name = host.toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
  return NAME_PATTERN.test(name) ? name : 'dockerd';
}

/** Where clients dial: the first DNS SAN, else the first non-loopback address, else 127.0.0.1. */
export function connectInstructions(
  sans: readonly string[],
  port: number,
  certDir: string,
  contextName: string,
): ConnectInstructions {
  const dns = sans.find((s) => s.startsWith('DNS:'))?.slice(4);
  const ip = sans
    .filter((s) => s.startsWith('IP:'))
    .map((s) => s.slice(3))
    .find((a) => !a.startsWith('127.') && a !== '::1');
  const host = dns ?? ip ?? '127.0.0.1';
  const url = `tcp://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  // docker context names: ^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$
  let context = contextName.replace(/[^a-zA-Z0-9_.+-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
  if (context.length < 2) context = `${context || 'dockward'}-tls`;
  return {
    host: url,
    env: [`export DOCKER_HOST=${url}`, 'export DOCKER_TLS_VERIFY=1', `export DOCKER_CERT_PATH=${certDir}`],
    context: `docker context create ${context} --docker "host=${url},ca=${certDir}/ca.pem,cert=${certDir}/cert.pem,key=${certDir}/key.pem"`,
  };
}

/** Plans, and unless `dryRun`, carries out the whole set-up of one host. */
export async function initHost(options: InitOptions): Promise<InitResult> {
  const progress = options.progress ?? (() => undefined);
  const host = osHostname();
  const listen = parseListen(options.listen ?? DEFAULT_LISTEN);
  // Checked before anything changes: a typo in --allow must not leave a half-secured host.
  const allow = (options.allow ?? []).map(parseCidr);
  const wanted = [...(options.sans ?? defaultSans(host)), 'IP:127.0.0.1'];
  // init dials the listener itself: its address must be in the certificate.
  if (listen.address !== '0.0.0.0' && listen.address !== '::') wanted.push(`IP:${listen.address}`);
  const sans = dedupeSans(wanted);
  const serverName = options.serverName ?? serverNameFor(host);
  const adminName = `${serverName}-admin`;
  const tlsDir = (options.tlsDir ?? DEFAULT_CERT_DIR).replace(/\/+$/, '');
  const configPath = options.configPath ?? DEFAULT_CONFIG_FILE;
  const { paths } = options;

  const hasCa = await caExists(paths);
  const index = hasCa ? await loadIndex(paths) : undefined;
  const existingServer = index ? currentRecord(index, serverName) : undefined;
  const existingAdmin = index ? currentRecord(index, adminName) : undefined;
  const usable = (r: typeof existingServer, kind: 'server' | 'client'): boolean =>
    r !== undefined && !r.revokedAt && r.kind === kind && Date.parse(r.notAfter) > Date.now();
  if (existingServer && usable(existingServer, 'server')) {
    const missing = sans.filter((s) => !existingServer.sans.includes(s));
    if (missing.length > 0) {
      throw new DockwardError(
        'DW_E_CERT_EXISTS',
        `server certificate "${serverName}" exists without ${missing.join(', ')}`,
        {
          hint: `Revoke it (dockward pki revoke ${serverName}) so init issues a new one, pass --name for another, or --san to match it.`,
        },
      );
    }
  }
  const serverAction = existingServer && usable(existingServer, 'server') ? 'reuse' : 'issue';
  const adminAction = existingAdmin && usable(existingAdmin, 'client') ? 'reuse' : 'issue';
  const serverDir = issuedFiles(paths, serverName).dir;
  const adminDir = issuedFiles(paths, adminName).dir;
  const files: InstalledFile[] = [
    // Read-only, as CIS 3.10/3.12/3.14 ask (0444 certificates, 0400 key): root rewrites them by rename.
    { path: join(tlsDir, 'ca.pem'), mode: 0o444, from: join(serverDir, 'ca.pem') },
    { path: join(tlsDir, 'cert.pem'), mode: 0o444, from: join(serverDir, 'cert.pem') },
    { path: join(tlsDir, 'key.pem'), mode: 0o400, from: join(serverDir, 'key.pem') },
  ];
  const connect = connectInstructions(sans, listen.port, adminDir, host);
  const applyBase = {
    configPath,
    profile: 'remote-tls' as const,
    profileOptions: { certDir: tlsDir, listenAddress: listen.address, port: listen.port },
    ...(options.pidfile !== undefined ? { pidfile: options.pidfile } : {}),
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.logFile !== undefined ? { logFile: options.logFile } : {}),
    ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
    ...(options.run ? { run: options.run } : {}),
  };

  // What the plan says in a dry run and after the real run alike.
  const planBase: Pick<
    InitPlan,
    'hostname' | 'listen' | 'sans' | 'server' | 'admin' | 'tlsDir' | 'files' | 'allow'
  > = {
    hostname: host,
    listen,
    sans,
    server: { name: serverName, action: serverAction },
    admin: { name: adminName, action: adminAction },
    tlsDir,
    files,
    allow: allow.map((c) => c.text),
  };

  if (options.dryRun) {
    // Plan with the files as they will be, so the TLS checks pass on what init is about to install.
    const placeholder = '-----BEGIN CERTIFICATE-----\n(to be issued)\n-----END CERTIFICATE-----\n';
    const overlay = {
      [files[0]!.path]: placeholder,
      [files[1]!.path]: placeholder,
      [files[2]!.path]: '-----BEGIN PRIVATE KEY-----\n(to be issued)\n-----END PRIVATE KEY-----\n',
    };
    let restart: RestartMode | 'auto' = options.restart ?? 'auto';
    let restartText: string;
    if (restart === 'auto') {
      try {
        const detected = await detectRestartMode({
          root: options.root ?? '/',
          pidfile: options.pidfile ?? '/var/run/docker.pid',
        });
        restart = detected.mode;
        restartText = `${detected.mode} (${detected.why})`;
      } catch (err) {
        restart = 'none';
        restartText = `cannot tell: ${(err as Error).message}`;
      }
    } else {
      restartText = `${restart} (asked for with --restart)`;
    }
    const plan = await planApply({ ...applyBase, restart, overlay });
    return {
      dryRun: true,
      plan: {
        ...planBase,
        ca: { exists: hasCa, path: paths.caCert },
        configPath: plan.state.file.path,
        restart: restartText,
        diff: plan.diff,
        dropIn: plan.dropIn ? { fileName: plan.dropIn.fileName, content: plan.dropIn.content } : undefined,
        warnings: plan.warnings,
        connect,
      },
      createdCa: false,
      apply: undefined,
      tls: [],
      audit: 'not run (dry run)',
    };
  }

  const createdCa = await ensureCa(paths, options.passphrase);
  if (createdCa) progress(`created the CA in ${paths.pki}`);
  if (serverAction === 'issue') {
    await issueCertificate(paths, { kind: 'server', name: serverName, sans }, options.passphrase);
    progress(`issued server certificate ${serverName} (${sans.join(', ')})`);
  } else {
    progress(`using server certificate ${serverName}`);
  }
  if (adminAction === 'issue') {
    await issueCertificate(paths, { kind: 'client', name: adminName, ou: 'admin' }, options.passphrase);
    progress(`issued admin client certificate ${adminName}`);
  }
  const replaced = await installServerFiles(tlsDir, files, progress);
  const servedPem = await fs.readFile(files[1]!.path, 'utf8');

  const adminTls = {
    ca: await fs.readFile(join(adminDir, 'ca.pem'), 'utf8'),
    cert: await fs.readFile(join(adminDir, 'cert.pem'), 'utf8'),
    key: await fs.readFile(join(adminDir, 'key.pem'), 'utf8'),
  };
  let tls: VerifyCheck[] = [];
  const verify = async (): Promise<VerifyCheck[]> => {
    tls = await verifyTlsAccess(dialAddress(listen.address), listen.port, adminTls, adminName);
    // dockerd serves the certificate just installed, also where clients connect from outside
    // (127.0.0.1 alone cannot tell an old certificate that also names it from the new one).
    tls.push(...(await verifyServedCertificate(servedPem, listen, sans)));
    return tls;
  };
  // The firewall goes first and is put back if the daemon apply fails: the two change together.
  const firewall =
    allow.length > 0
      ? await applyFirewall(listen.port, allow, {
          ...(options.root !== undefined ? { root: options.root } : {}),
          ...(options.run ? { run: options.run } : {}),
          progress,
        })
      : undefined;
  let apply: ApplyResult;
  try {
    apply = await applyDaemonConfig({
      ...applyBase,
      restart: options.restart ?? 'auto',
      ...(replaced.length > 0
        ? { restartReason: `${replaced.join(', ')} changed (dockerd reads them only at start)` }
        : {}),
      verify,
      progress,
    });
  } catch (err) {
    if (firewall) {
      await restoreFirewall(firewall, options.run ? { run: options.run } : {});
      progress('firewall: put back as it was (the daemon configuration was rolled back)');
    }
    throw err;
  }
  if (!apply.changed) await verify();
  const failed = tls.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DockwardError(
      'DW_E_UPSTREAM',
      `dockerd runs with ${configPath} but the TLS check failed: ${failed.map((c) => `${c.what}: ${c.actual}`).join('; ')}`,
      { hint: 'Compare tlscacert/tlscert/tlskey in daemon.json with the files init installed.' },
    );
  }
  return {
    dryRun: false,
    plan: {
      ...planBase,
      ca: { exists: true, path: paths.caCert },
      configPath: apply.configPath,
      restart: `${apply.mode} (${apply.modeReason})`,
      diff: apply.diff,
      dropIn: apply.dropIn ? { fileName: apply.dropIn.path, content: apply.dropIn.content } : undefined,
      warnings: apply.warnings,
      connect,
    },
    createdCa,
    apply,
    tls,
    audit: await auditSummary(options.host ?? `unix://${apply.sockets[0]?.path ?? DEFAULT_SOCKET}`),
  };
}

/** The audit of the freshly configured daemon, as one summary line (details: `dockward audit`). */
async function auditSummary(host: string): Promise<string> {
  const report = await runAudit({ kind: 'local', host });
  const failing = report.findings.filter((f) => f.status === 'fail').map((f) => f.id);
  return `${summaryLine(report.summary)}${failing.length > 0 ? `; failing: ${failing.join(', ')}` : ''} (details: dockward audit --host ${host})`;
}

/**
 * Copies the server's ca.pem, cert.pem and key.pem into the TLS folder (0700), keeping a backup of
 * any file it replaces. Returns the files whose content changed (dockerd must restart to serve them).
 */
export async function installServerFiles(
  tlsDir: string,
  files: readonly InstalledFile[],
  progress: (line: string) => void,
  /** Told of each file written and its backup (undefined: there was none), so a caller can put it back. */
  written?: (path: string, backup: string | undefined) => void,
): Promise<string[]> {
  await ensureDir(tlsDir, MODE_PRIVATE_DIR);
  const replaced: string[] = [];
  for (const f of files) {
    const data = await fs.readFile(f.from);
    const old = await fs.readFile(f.path).catch(() => undefined);
    if (old?.equals(data)) {
      await fs.chmod(f.path, f.mode);
      continue;
    }
    let backup: string | undefined;
    if (old !== undefined) {
      backup = await backupFile(f.path);
      if (backup) progress(`backed up ${f.path} to ${backup}`);
      replaced.push(f.path);
    }
    written?.(f.path, backup);
    await writeFileAtomic(f.path, data, { mode: f.mode });
    if (process.getuid?.() === 0) await fs.chown(f.path, 0, 0);
  }
  progress(
    `installed ${files.map((f) => `${basename(f.path)} (${f.mode.toString(8).padStart(4, '0')})`).join(', ')} in ${tlsDir} (the CA key stays in the PKI)`,
  );
  return replaced;
}

/**
 * The addresses of this host a client would dial: the certificate's IP SANs that are this host's
 * own non-loopback interface addresses and that the listener accepts (all of them for 0.0.0.0/::).
 */
export function externalAddresses(
  sans: readonly string[],
  listen: { address: string },
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string[] {
  const local = new Set<string>();
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (!a.internal && !(a.family === 'IPv6' && /^fe[89ab]/i.test(a.address))) local.add(a.address);
    }
  }
  const wildcard = listen.address === '0.0.0.0' || listen.address === '::';
  return sans
    .filter((s) => s.startsWith('IP:'))
    .map((s) => s.slice(3))
    .filter((a) => local.has(a) && (wildcard || a === listen.address))
    .filter((a) => listen.address !== '0.0.0.0' || isIP(a) === 4)
    .slice(0, 4);
}

/** Connects to the listener on the local address and each external address and compares the served certificate's SHA-256 fingerprint with the installed one. */
export async function verifyServedCertificate(
  certPem: string,
  listen: { address: string; port: number },
  sans: readonly string[],
): Promise<VerifyCheck[]> {
  const expected = new X509Certificate(certPem).fingerprint256;
  const addresses = [dialAddress(listen.address), ...externalAddresses(sans, listen)];
  const checks: VerifyCheck[] = [];
  for (const address of [...new Set(addresses)]) {
    const probe = await probeTlsListener(address, listen.port, undefined);
    const shown = `${isIP(address) === 6 ? `[${address}]` : address}:${listen.port}`;
    checks.push({
      what: `certificate served on ${shown}`,
      ok: probe.peerFingerprint256 === expected,
      expected: `SHA-256 ${expected} (${CERT_FILE_NAME} just installed)`,
      actual:
        probe.peerFingerprint256 === undefined
          ? `no certificate (${probe.detail})`
          : `SHA-256 ${probe.peerFingerprint256}`,
    });
  }
  return checks;
}

/** `/_ping` and `/version` over TLS with the admin certificate, and a refusal without one. */
export async function verifyTlsAccess(
  address: string,
  port: number,
  tls: { ca: string; cert: string; key: string },
  adminName: string,
): Promise<VerifyCheck[]> {
  const checks: VerifyCheck[] = [];
  const endpoint = { kind: 'tcp' as const, host: address, port, tls };
  const shown = `${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
  try {
    const res = await engineGet(endpoint, '/_ping', 10_000);
    checks.push({
      what: `TLS /_ping on ${shown} with ${adminName}`,
      ok: res.status === 200 && res.body === 'OK',
      expected: '200 OK',
      actual: `${res.status} ${res.body.trim()}`,
    });
  } catch (err) {
    checks.push({
      what: `TLS /_ping on ${shown} with ${adminName}`,
      ok: false,
      expected: '200 OK',
      actual: explainTlsError(err as NodeJS.ErrnoException),
    });
  }
  const probe = await probeTlsListener(address, port, tls.ca);
  checks.push({
    what: `TLS on ${shown} without a client certificate`,
    ok: probe.reachable && !probe.answeredWithoutClientCert,
    expected: 'refused',
    actual: probe.answeredWithoutClientCert ? 'answered' : `refused (${probe.detail})`,
  });
  return checks;
}

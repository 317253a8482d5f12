/**
 * `dockward host install --mode gateway` and `dockward host crl`: the host's half of gateway-mode
 * enrolment without a CA key on the host. The key `host request --tls-dir /etc/dockward/gateway`
 * made stays there; the certificate the admin machine signed and its CRL are installed beside it;
 * dockerd keeps only its unix socket and `dockward gateway` serves the TLS port as a service.
 * Certificates and CRL change by `systemctl reload` (SIGHUP): open connections stay up, and with
 * `--close-revoked` the ones of newly revoked certificates end at once.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialAddress, type ListenerProbe, probeTlsListener } from '../docker/engine-client.js';
import { DockwardError, describeError } from '../errors.js';
import { x509 } from '../pki/crypto.js';
import {
  defaultIo,
  ensureUser,
  findExecutable,
  installService,
  type ServiceIo,
  serviceStatus,
  UNIT_DIR,
} from '../service/manage.js';
import { quoteExecArg, unitName } from '../service/unit.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { type ApplyResult, applyDaemonConfig } from './apply.js';
import { parseCidr } from './firewall.js';
import { checkSignedCertificate, REQUEST_KEY_FILE, sansOf } from './host-enrol.js';
import { DEFAULT_LISTEN, parseListen } from './host-init.js';
import { GATEWAY_AUDIT_LOG, GATEWAY_TLS_DIR, tcpHostsIn } from './host-init-gateway.js';
import type { RestartMode } from './restart.js';

/** The key the gateway served before the last install: lets the admin put the old pair back. */
export const PREVIOUS_KEY_FILE = 'previous-key.pem';

export interface CrlInfo {
  path: string;
  thisUpdate: string;
  nextUpdate: string | undefined;
  revoked: number;
}

export interface GatewayInstallOptions {
  certPath: string;
  caPath: string;
  /** The CA's CRL (`pki crl` on the admin machine); needed unless one is installed already. */
  crlPath?: string;
  tlsDir?: string;
  listen?: string;
  /** Client sources the gateway accepts (its --allow); loopback is always added. Default: all. */
  allow?: readonly string[];
  configPath?: string;
  restart?: RestartMode | 'auto';
  pidfile?: string;
  startTimeoutMs?: number;
  exec?: string;
  progress?: (line: string) => void;
  io?: ServiceIo;
}

export interface GatewayInstallResult {
  mode: 'gateway';
  tlsDir: string;
  keyPath: string;
  fingerprint: string;
  notAfter: string;
  sans: string[];
  crl: CrlInfo;
  listen: { address: string; port: number };
  allow: string[];
  /** The tcp listeners removed from daemon.json (dockerd then restarted), if it had any. */
  removedTcp: string[];
  dockerd: ApplyResult | undefined;
  /** `reloaded`: the running service took the new files on SIGHUP; `started`: (re)installed and started. */
  service: { unit: string; action: 'reloaded' | 'started' };
  served: string;
  warnings: string[];
}

/** Reads a CRL, checks the CA signed it, and says what it holds. */
export async function readCrl(crlPem: string, caPem: string, path: string): Promise<x509.X509Crl> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(crlPem);
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `${path} is not a PEM CRL: ${describeError(err)}`, {
      hint: 'Give the crl.pem of the admin machine’s PKI (dockward pki crl shows where it is).',
      cause: err,
    });
  }
  const ca = new x509.X509Certificate(caPem);
  if (!(await crl.verify({ publicKey: ca.publicKey }))) {
    throw new DockwardError('DW_E_INPUT', `${path} is not signed by the CA this host trusts`, {
      hint: 'Give the crl.pem of the same PKI that signed the gateway certificate.',
    });
  }
  return crl;
}

function crlInfo(crl: x509.X509Crl, path: string): CrlInfo {
  return {
    path,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate?.toISOString(),
    revoked: crl.entries.length,
  };
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  return fs.readFile(path).catch(() => undefined);
}

/** The group the gateway's user reads its TLS files through (the folder's group). */
async function groupOf(path: string): Promise<number> {
  return (await fs.stat(path)).gid;
}

/**
 * Checks, then installs a CRL in the gateway's folder; an older CRL than the one in place is
 * refused (a replayed file must not un-revoke anything). Reloads a running gateway.
 */
export async function installGatewayCrl(options: {
  crlPath: string;
  tlsDir?: string;
  io?: ServiceIo;
  progress?: (line: string) => void;
}): Promise<CrlInfo & { reloaded: boolean }> {
  const progress = options.progress ?? (() => undefined);
  const io = options.io ?? defaultIo(progress);
  const tlsDir = (options.tlsDir ?? GATEWAY_TLS_DIR).replace(/\/+$/, '');
  const caPem = await fs.readFile(join(tlsDir, 'ca.pem'), 'utf8').catch((err: unknown) => {
    throw new DockwardError('DW_E_FILE', `no gateway CA in ${tlsDir}: ${describeError(err)}`, {
      hint: 'Install the gateway first: dockward host install --mode gateway.',
      cause: err,
    });
  });
  const crlPem = await readCrlFile(options.crlPath);
  const crl = await readCrl(crlPem, caPem, options.crlPath);
  const target = join(tlsDir, 'crl.pem');
  await writeCrl(target, crl, crlPem, tlsDir);
  progress(`installed ${target} (${crl.entries.length} revoked, issued ${crl.thisUpdate.toISOString()})`);
  const unit = unitName('gateway');
  const status = await serviceStatus(unit, io, 0);
  let reloaded = false;
  if (status.active === 'active') {
    await reloadGateway(unit, io, 'the CRL is in place for its next start');
    reloaded = true;
    progress(`reloaded ${unit} (SIGHUP): revoked certificates are refused, their open connections closed`);
  } else {
    progress(`${unit} is ${status.active}: the CRL takes effect when it starts`);
  }
  return { ...crlInfo(crl, target), reloaded };
}

async function writeCrl(target: string, crl: x509.X509Crl, pem: string, tlsDir: string): Promise<void> {
  await assertNotOlder(target, crl);
  await writeFileAtomic(target, pem, { mode: 0o444 });
  if (process.getuid?.() === 0) await fs.chown(target, 0, await groupOf(tlsDir));
}

async function assertNotOlder(target: string, crl: x509.X509Crl): Promise<void> {
  const installed = await readIfExists(target);
  if (installed !== undefined) {
    let current: x509.X509Crl | undefined;
    try {
      current = new x509.X509Crl(installed.toString('utf8'));
    } catch {
      current = undefined; // an unreadable CRL in place is replaced
    }
    if (current && current.thisUpdate.getTime() > crl.thisUpdate.getTime()) {
      throw new DockwardError(
        'DW_E_INPUT',
        `the CRL given was issued ${crl.thisUpdate.toISOString()}, before the one installed (${current.thisUpdate.toISOString()})`,
        {
          hint: 'Give the newest crl.pem of the admin machine (an older one could un-revoke a certificate).',
        },
      );
    }
  }
}

/** The gateway service's flags for this folder, listener and allowlist. */
export function gatewayServiceArgs(
  tlsDir: string,
  listen: { address: string; port: number },
  allow: readonly string[],
): string[] {
  const shownListen = listen.address.includes(':')
    ? `[${listen.address}]:${listen.port}`
    : `${listen.address}:${listen.port}`;
  return [
    '--listen',
    shownListen,
    '--tls-dir',
    tlsDir,
    '--crl',
    `${tlsDir}/crl.pem`,
    '--audit-log',
    GATEWAY_AUDIT_LOG,
    '--close-revoked',
    ...allow.flatMap((a) => ['--allow', a]),
  ];
}

/** True when the unit file starts the gateway with exactly these flags (a reload is then enough). */
export function unitRunsWith(unitText: string, args: readonly string[]): boolean {
  const exec = /^ExecStart=(.*)$/m.exec(unitText)?.[1];
  return exec?.endsWith(` gateway ${args.map(quoteExecArg).join(' ')}`) === true;
}

const LOOPBACK_ALLOW = ['127.0.0.0/8', '::1/128'];

/** The --allow values of an installed gateway unit, without the loopback ones install adds itself. */
export function allowFromUnit(unitText: string): string[] {
  const exec = /^ExecStart=(.*)$/m.exec(unitText)?.[1] ?? '';
  return [...exec.matchAll(/--allow (\S+)/g)].map((m) => m[1]!).filter((a) => !LOOPBACK_ALLOW.includes(a));
}

/** The daemon.json without its tcp listeners and TLS keys: dockerd on its unix socket only. */
export function unixOnlyConfig(parsed: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (['tls', 'tlsverify', 'tlscacert', 'tlscert', 'tlskey'].includes(k)) continue;
    if (k === 'hosts' && Array.isArray(v)) {
      const kept = v.filter((h) => !(typeof h === 'string' && h.startsWith('tcp://')));
      if (kept.length > 0) out[k] = kept;
      continue;
    }
    out[k] = v;
  }
  return out;
}

async function servedBy(listen: { address: string; port: number }, caPem: string): Promise<ListenerProbe> {
  return probeTlsListener(dialAddress(listen.address), listen.port, caPem, 5_000);
}

/** Installs the signed gateway certificate (and CRL), frees dockerd of tcp, and runs or reloads the gateway. */
export async function installGatewayCertificate(
  options: GatewayInstallOptions,
): Promise<GatewayInstallResult> {
  const progress = options.progress ?? (() => undefined);
  const io = options.io ?? defaultIo(progress);
  const tlsDir = (options.tlsDir ?? GATEWAY_TLS_DIR).replace(/\/+$/, '');
  const listen = parseListen(options.listen ?? DEFAULT_LISTEN);
  const unit = unitName('gateway');
  const unitText = await fs.readFile(join(io.root, UNIT_DIR, unit), 'utf8').catch(() => '');
  // Without --allow a re-install keeps the running gateway's allowlist (a rotation must not open it).
  const kept = allowFromUnit(unitText);
  const given =
    options.allow && options.allow.length > 0
      ? options.allow
      : kept.length > 0
        ? kept
        : ['0.0.0.0/0', '::/0'];
  // Checked before anything changes.
  const allow = given.map((a) => parseCidr(a).text);
  const gatewayAllow = [...new Set([...allow, ...LOOPBACK_ALLOW])];
  const signed = await checkSignedCertificate(options, tlsDir, [
    REQUEST_KEY_FILE,
    'key.pem',
    PREVIOUS_KEY_FILE,
  ]);
  const crlTarget = join(tlsDir, 'crl.pem');
  let crlPem: string;
  if (options.crlPath) {
    crlPem = await readCrlFile(options.crlPath);
  } else {
    const installed = await readIfExists(crlTarget);
    if (installed === undefined) {
      // Fail closed: a gateway without a CRL could not refuse a revoked certificate.
      throw new DockwardError(
        'DW_E_USAGE',
        `no CRL in ${tlsDir}: gateway mode needs one to enforce revocation`,
        {
          hint: 'Copy the admin machine’s pki/crl.pem here and pass --crl FILE (hosts provision does it for you).',
        },
      );
    }
    crlPem = installed.toString('utf8');
  }
  const crl = await readCrl(crlPem, signed.caPem, options.crlPath ?? crlTarget);
  await assertNotOlder(crlTarget, crl);
  const warnings: string[] = [];
  const { user } = await ensureUser(io, warnings);
  for (const w of warnings) progress(`warning: ${w}`);

  // dockerd must let go of the port before the gateway can take it, and keep no second way in.
  const configPath = options.configPath ?? '/etc/docker/daemon.json';
  const removedTcp = await tcpHostsIn(configPath);
  let dockerd: ApplyResult | undefined;
  if (removedTcp.length > 0) {
    const parsed = JSON.parse((await fs.readFile(configPath, 'utf8')).replace(/^\uFEFF/, '')) as Record<
      string,
      unknown
    >;
    const candidate = join(await fs.mkdtemp(join(tmpdir(), 'dockward-gw-')), 'daemon.json');
    await writeFileAtomic(candidate, `${JSON.stringify(unixOnlyConfig(parsed), null, 2)}\n`, { mode: 0o600 });
    progress(`daemon.json opens ${removedTcp.join(', ')}: removing it (dockerd keeps its unix socket only)`);
    try {
      dockerd = await applyDaemonConfig({
        configPath,
        from: candidate,
        restart: options.restart ?? 'auto',
        ...(options.pidfile !== undefined ? { pidfile: options.pidfile } : {}),
        ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
        progress,
      });
    } finally {
      await fs.rm(join(candidate, '..'), { recursive: true, force: true });
    }
  }

  // /etc/dockward stays traversable for the service user; the gateway's folder is root:dockward 0750.
  // (`host request` may have made it 0700 along with the gateway's folder.)
  await fs.mkdir(join(tlsDir, '..'), { recursive: true, mode: 0o755 });
  const parent = await fs.stat(join(tlsDir, '..'));
  if (parent.uid === 0 && (parent.mode & 0o005) !== 0o005)
    await fs.chmod(join(tlsDir, '..'), parent.mode | 0o055);
  await fs.mkdir(tlsDir, { recursive: true, mode: 0o750 });
  await fs.chmod(tlsDir, 0o750);
  const group = user ?? 'root';
  const chownDir = await io.run('chown', [`root:${group}`, tlsDir]);
  if (chownDir.code !== 0)
    throw new DockwardError('DW_E_FILE', `chown ${tlsDir} failed: ${chownDir.stderr.trim()}`, {
      hint: `Run it as root, and check that the group ${group} exists (dockward service install gateway creates it).`,
    });
  const gid = await groupOf(tlsDir);
  const names = ['ca.pem', 'cert.pem', 'key.pem', 'crl.pem', PREVIOUS_KEY_FILE] as const;
  const before = new Map<string, Buffer | undefined>();
  for (const n of names) before.set(n, await readIfExists(join(tlsDir, n)));
  const keyPem = await fs.readFile(signed.keyPath);
  const write = async (name: string, data: Buffer | string, mode: number): Promise<void> => {
    await writeFileAtomic(join(tlsDir, name), data, { mode });
    if (process.getuid?.() === 0) await fs.chown(join(tlsDir, name), 0, name === PREVIOUS_KEY_FILE ? 0 : gid);
  };
  const oldKey = before.get('key.pem');
  // The key served until now stays (root only) so the old pair can be put back if the new one is not served.
  if (oldKey !== undefined && !oldKey.equals(keyPem)) await write(PREVIOUS_KEY_FILE, oldKey, 0o400);
  await write('ca.pem', signed.caPem, 0o444);
  await write('cert.pem', signed.certPem, 0o444);
  await write('key.pem', keyPem, 0o440);
  await write('crl.pem', crlPem, 0o444);
  if (signed.keyPath !== join(tlsDir, 'key.pem') && signed.keyPath !== join(tlsDir, PREVIOUS_KEY_FILE)) {
    await fs.rm(signed.keyPath, { force: true });
  }
  progress(
    `installed ca.pem, cert.pem (0444), key.pem (0440 root:${group}) and crl.pem in ${tlsDir}; no CA key here`,
  );

  const restore = async (): Promise<void> => {
    for (const n of names) {
      const old = before.get(n);
      if (old === undefined) await fs.rm(join(tlsDir, n), { force: true });
      else await write(n, old, n === 'key.pem' ? 0o440 : n === PREVIOUS_KEY_FILE ? 0o400 : 0o444);
    }
  };

  const args = gatewayServiceArgs(tlsDir, listen, gatewayAllow);
  const status = await serviceStatus(unit, io, 0);
  let action: 'reloaded' | 'started';
  try {
    if (status.active === 'active' && unitRunsWith(unitText, args)) {
      await reloadGateway(unit, io, 'the new files are in place for its next start');
      action = 'reloaded';
      progress(`reloaded ${unit} (SIGHUP): new certificate and CRL, open connections kept`);
    } else {
      const exec = options.exec ?? (await findExecutable());
      await installService('gateway', args, { exec, io });
      action = 'started';
    }
  } catch (err) {
    await restore();
    throw err;
  }

  // Served is the certificate just installed (a reload is asynchronous: wait for it a while).
  let probe: ListenerProbe = await servedBy(listen, signed.caPem);
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(500)) {
    probe = await servedBy(listen, signed.caPem);
    if (probe.peerFingerprint256 === signed.cert.fingerprint256) break;
  }
  if (probe.peerFingerprint256 !== signed.cert.fingerprint256 || probe.answeredWithoutClientCert) {
    await restore();
    await io.run('systemctl', [action === 'reloaded' ? 'reload' : 'restart', unit]);
    throw new DockwardError(
      'DW_E_UPSTREAM',
      `the gateway on ${listen.port} serves ${probe.peerFingerprint256 ?? `nothing (${probe.detail})`}${probe.answeredWithoutClientCert ? ' and answers without a client certificate' : ''}, not ${signed.cert.fingerprint256}: the previous files were put back`,
      { hint: 'See dockward service status gateway (its journal says why).' },
    );
  }
  progress(
    `the gateway serves the new certificate (SHA-256 ${signed.cert.fingerprint256}) and refuses clients without one`,
  );
  return {
    mode: 'gateway',
    tlsDir,
    keyPath: signed.keyPath,
    fingerprint: signed.cert.fingerprint256,
    notAfter: new Date(signed.cert.validTo).toISOString(),
    sans: sansOf(signed.certPem),
    crl: crlInfo(crl, crlTarget),
    listen,
    allow,
    removedTcp,
    dockerd,
    service: { unit, action },
    served: signed.cert.fingerprint256,
    warnings,
  };
}

/** The CRL file given with --crl, or an error that says which file and how to get one. */
async function readCrlFile(path: string): Promise<string> {
  return fs.readFile(path, 'utf8').catch((err: unknown) => {
    throw new DockwardError('DW_E_FILE', `cannot read the CRL ${path}: ${describeError(err)}`, {
      hint: 'Copy crl.pem from the admin machine (`dockward pki crl --refresh` writes it), or let `dockward hosts push-crl` send it.',
      cause: err,
    });
  });
}

/** `systemctl reload` of the gateway unit (SIGHUP: files reread, connections kept). */
async function reloadGateway(unit: string, io: ServiceIo, meanwhile: string): Promise<void> {
  const res = await io.run('systemctl', ['reload', unit]);
  if (res.code !== 0) {
    throw new DockwardError('DW_E_UPSTREAM', `systemctl reload ${unit} failed: ${res.stderr.trim()}`, {
      hint: `See dockward service status gateway; ${meanwhile}.`,
    });
  }
}

import { promises as fs } from 'node:fs';
import { DockwardError, describeError } from '../errors.js';
import { currentRecord } from '../pki/index-file.js';
import { renewCertificates } from '../pki/renew.js';
import { revokeCertificate } from '../pki/revoke.js';
import { loadIndex, type PassphraseSource } from '../pki/store.js';
import type { StatePaths } from '../store/paths.js';
import { buildBundle, writeBundleFile } from './bundle.js';
import { dockerContextExists, writeDockerContext } from '../docker/context.js';
import { findHost, type HostRecord, loadInventory, readClientTls, updateInventory } from './inventory.js';
import { DAY_MS, EXPIRING_DAYS } from '../pki/status.js';
import { rotateGatewayServerCert } from './rotate-gateway.js';
import { rotateNativeServerCert } from './rotate-native.js';
import type { RotateServerCert, ServerRotation } from './server-rotation.js';

export const DEFAULT_RENEW_WINDOW_MS = EXPIRING_DAYS * DAY_MS;

export interface RenewHostsOptions {
  /** Hosts to consider; empty or undefined for every host. */
  names?: readonly string[];
  /** Renew a client certificate whose notAfter falls within this window from now. */
  withinMs: number;
  /** Renew the named hosts whatever their expiry. */
  force?: boolean;
  /** Report what would change; write nothing. */
  dryRun?: boolean;
  /** Leave the superseded certificate valid (not revoked, not in the CRL). */
  keepOld?: boolean;
  /** Validity of the new certificate in days (default: as long as the old one). */
  days?: number;
  /** How long a host may take to serve again after its server certificate is installed (ms). */
  serverTimeoutMs?: number;
  progress?: (line: string) => void;
}

/** One host's outcome: a renewal (done or planned) with every copy rewritten, or why not. */
export interface HostRenewal {
  host: string;
  action: 'renewed' | 'would-renew' | 'skipped';
  reason?: string;
  certName?: string;
  notAfter?: string;
  oldSerial?: string;
  newSerial?: string;
  newNotAfter?: string;
  /** Docker contexts (name @ $DOCKER_CONFIG) rewritten with the new files. */
  contexts: string[];
  /** Bundle files rewritten with the new certificate. */
  bundles: string[];
  /** Copies that could not be rewritten (gone, or a write failed); their records are dropped when gone. */
  problems: string[];
  /** `revoked` (the CRL now lists the old serial), `kept` (--keep-old, or a copy still holds it). */
  oldCert?: 'revoked' | 'kept';
  /** A copy could not be written: the old certificate stays valid until it is. */
  incomplete?: boolean;
  /** The host's server certificate (hosts enrolled by `hosts provision` only). */
  server?: ServerRenewal;
}

/** What happened to a provisioned host's server certificate. */
export interface ServerRenewal {
  action: 'rotated' | 'would-rotate' | 'skipped' | 'rolled-back' | 'failed';
  mode: 'native' | 'gateway';
  certName: string;
  notAfter?: string;
  reason?: string;
  rotation?: ServerRotation;
}

/** The rotation each enrolment mode uses: dockerd restarted (native) or the gateway reloaded. */
const SERVER_ROTATIONS: Record<'native' | 'gateway', RotateServerCert> = {
  native: rotateNativeServerCert,
  gateway: rotateGatewayServerCert,
};

/** Asks for the CA passphrase once for the whole renewal (renew, then one revocation per host). */
function memoPassphrase(source: PassphraseSource): PassphraseSource {
  let unlock: Promise<string | undefined> | undefined;
  return (purpose) => {
    if (purpose !== 'unlock') return source(purpose);
    unlock ??= source('unlock');
    return unlock;
  };
}

const IMPORTED =
  'imported certificate files (--ca/--cert/--key): renew them with their issuer, then `hosts remove` and `hosts add` again';

/**
 * `hosts renew`: new client certificates for hosts whose certificate (issued by this PKI) expires
 * within the window, every docker context and bundle that copied the old one rewritten, then
 * the old one revoked (CRL refreshed) unless `keepOld`. Hosts are handled one at a time.
 */
export async function renewHosts(
  paths: StatePaths,
  options: RenewHostsOptions,
  passphraseSource: PassphraseSource,
): Promise<HostRenewal[]> {
  const passphrase = memoPassphrase(passphraseSource);
  const inv = await loadInventory(paths);
  const named = options.names !== undefined && options.names.length > 0;
  // Every name is checked before anything changes: a typo renews nothing.
  const hosts = named ? options.names!.map((n) => findHost(inv, n)) : inv.hosts;
  if (named) {
    const imported = hosts.filter((h) => h.certSource !== 'issued');
    if (imported.length > 0) {
      throw new DockwardError('DW_E_USAGE', `${imported.map((h) => h.name).join(', ')}: ${IMPORTED}`, {
        hint: 'Name only hosts whose certificate dockward issued (see `dockward hosts list`).',
      });
    }
  }
  const index = hosts.some((h) => h.certSource === 'issued') ? await loadIndex(paths) : undefined;
  const now = Date.now();
  const out: HostRenewal[] = [];
  for (const h of hosts) {
    const row: HostRenewal = { host: h.name, action: 'skipped', contexts: [], bundles: [], problems: [] };
    out.push(row);
    await renewClient(h, row);
    if (h.provisioned && index)
      row.server = await renewServer(paths, h, index, named, options, passphrase, now);
  }
  return out;

  async function renewClient(h: HostRecord, row: HostRenewal): Promise<void> {
    if (h.certSource !== 'issued' || !h.certName || !index) {
      row.reason = IMPORTED;
      return;
    }
    row.certName = h.certName;
    const record = currentRecord(index, h.certName);
    if (!record) {
      row.reason = `${h.certName} is not in the PKI index`;
      return;
    }
    row.notAfter = record.notAfter;
    row.oldSerial = record.serial;
    if (record.revokedAt) {
      row.reason = `${h.certName} is revoked: add the host again for a new certificate`;
      return;
    }
    const inWindow = Date.parse(record.notAfter) - now <= options.withinMs;
    if (!inWindow && !(named && options.force)) {
      row.reason = `expires ${record.notAfter.slice(0, 10)}, outside the window`;
      return;
    }
    if (options.dryRun) {
      row.action = 'would-renew';
      row.contexts = (h.contexts ?? []).map((c) => `${c.name} @ ${c.dockerConfig}`);
      row.bundles = (h.bundles ?? []).map((b) => b.path);
      row.oldCert = options.keepOld ? 'kept' : 'revoked';
      return;
    }
    await renewOne(paths, h, row, options, passphrase);
  }
}

/** The server half: rotate a provisioned host's server certificate when it expires within the window. */
async function renewServer(
  paths: StatePaths,
  h: HostRecord,
  index: Awaited<ReturnType<typeof loadIndex>>,
  named: boolean,
  options: RenewHostsOptions,
  passphrase: PassphraseSource,
  now: number,
): Promise<ServerRenewal> {
  const p = h.provisioned!;
  const out: ServerRenewal = { action: 'skipped', mode: p.mode, certName: p.serverCert };
  const record = currentRecord(index, p.serverCert);
  if (!record) {
    out.reason = `${p.serverCert} is not in the PKI index`;
    return out;
  }
  out.notAfter = record.notAfter;
  if (Date.parse(record.notAfter) - now > options.withinMs && !(named && options.force)) {
    out.reason = `server certificate expires ${record.notAfter.slice(0, 10)}, outside the window`;
    return out;
  }
  const rotate = SERVER_ROTATIONS[p.mode];
  if (options.dryRun) {
    out.action = 'would-rotate';
    return out;
  }
  try {
    out.rotation = await rotate({
      paths,
      host: h,
      passphrase,
      timeoutMs: options.serverTimeoutMs ?? 120_000,
      ...(options.days ? { days: options.days } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
    });
    out.action = out.rotation.rolledBack ? 'rolled-back' : 'rotated';
  } catch (err) {
    out.action = 'failed';
    out.reason = describeError(err);
  }
  return out;
}

async function renewOne(
  paths: StatePaths,
  h: HostRecord,
  row: HostRenewal,
  options: RenewHostsOptions,
  passphrase: PassphraseSource,
): Promise<void> {
  const certName = h.certName!;
  const res = await renewCertificates(
    paths,
    { name: certName, ...(options.days ? { days: options.days } : {}) },
    passphrase,
  );
  const renewed = res.renewed[0];
  if (!renewed) {
    row.reason = res.skipped[0]?.reason ?? 'not renewed';
    return;
  }
  row.action = 'renewed';
  row.oldSerial = renewed.oldSerial;
  row.newSerial = renewed.record.serial;
  row.newNotAfter = renewed.record.notAfter;
  // The issued folder now holds the new files (the host's certDir points at it).
  const tls = await readClientTls(h.certDir);
  const writtenAt = new Date().toISOString();
  const gone = { contexts: new Set<string>(), bundles: new Set<string>() };
  let failed = false;

  for (const c of h.contexts ?? []) {
    const label = `${c.name} @ ${c.dockerConfig}`;
    if (!(await dockerContextExists(c.name, c.dockerConfig))) {
      gone.contexts.add(label);
      row.problems.push(`context ${label} is gone (docker context rm?): not rewritten`);
      continue;
    }
    try {
      await writeDockerContext({
        name: c.name,
        host: h.endpoint,
        certDir: h.certDir,
        description: `dockward host ${h.name}`,
        dockerConfig: c.dockerConfig,
      });
      row.contexts.push(label);
    } catch (err) {
      failed = true;
      row.problems.push(`context ${label}: ${describeError(err)}`);
    }
  }
  for (const b of h.bundles ?? []) {
    const exists = await fs
      .lstat(b.path)
      .then(() => true)
      .catch(() => false);
    // A bundle file deleted after upload stays deleted: never recreate a key file someone removed.
    if (!exists) {
      gone.bundles.add(b.path);
      row.problems.push(`bundle ${b.path} is gone: not rewritten`);
      continue;
    }
    try {
      await writeBundleFile(b.path, (await buildBundle(h, tls, b.format)).data);
      row.bundles.push(b.path);
    } catch (err) {
      failed = true;
      row.problems.push(`bundle ${b.path}: ${describeError(err)}`);
    }
  }

  // Revoking while a copy still holds the old certificate would cut that copy off.
  if (options.keepOld || failed) {
    row.oldCert = 'kept';
    if (failed) row.incomplete = true;
    if (failed) row.problems.push(`old certificate ${renewed.oldSerial} kept valid: a copy still holds it`);
  } else {
    await revokeCertificate(
      paths,
      { name: certName, serial: renewed.oldSerial, reason: 'superseded' },
      passphrase,
    );
    row.oldCert = 'revoked';
  }

  await updateInventory(paths, (inv) => {
    const rec = inv.hosts.find((x) => x.name === h.name);
    if (!rec) return;
    if (rec.contexts) {
      rec.contexts = rec.contexts
        .filter((c) => !gone.contexts.has(`${c.name} @ ${c.dockerConfig}`))
        .map((c) =>
          row.contexts.includes(`${c.name} @ ${c.dockerConfig}`)
            ? { ...c, serial: row.newSerial!, writtenAt }
            : c,
        );
    }
    if (rec.bundles) {
      rec.bundles = rec.bundles
        .filter((b) => !gone.bundles.has(b.path))
        .map((b) => (row.bundles.includes(b.path) ? { ...b, serial: row.newSerial!, writtenAt } : b));
    }
  });
}

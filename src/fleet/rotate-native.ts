/**
 * Rotation of a native-TLS host's server certificate (dockerd serves TLS itself): over SSH a new key
 * and CSR are made on the host beside the live pair (`host request` writes request-key.pem; key.pem
 * is untouched until install), signed here, installed with `host install` (systemd restart, rollback
 * of daemon.json and the TLS files on a failed start), then checked from this side. When the new
 * certificate is not the one served, the old pair is installed again. The API downtime is measured
 * by polling TLS `GET /_ping` from here during the restart.
 */
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type EngineEndpoint, type EngineInfo, engineGet, engineJson } from '../docker/engine-client.js';
import { dialAddress, probeTlsListener } from '../docker/engine-client.js';
import { DEFAULT_CERT_DIR } from '../daemon/profiles.js';
import { DockwardError, describeError } from '../errors.js';
import { normalizeSerial } from '../pki/certificate.js';
import { signServerCsr } from '../pki/csr.js';
import { parseEndpoint } from './probe.js';
import { readClientTls } from './inventory.js';
import {
  hostInstallCommand,
  hostRequestCommand,
  parseJsonOutput,
  remoteTempDir,
  runSsh,
  type SshOptions,
  sshAddress,
  sshOptionsOf,
} from './provision.js';
import type { RotateServerCert, ServerRotation, ServerRotationOptions } from './server-rotation.js';

/** How often the downtime poller asks `/_ping` (ms). */
export const PING_INTERVAL_MS = 25;

/** Polls TLS `/_ping` until stopped; the longest gap between two successes is the downtime. */
export function startPingPoller(endpoint: EngineEndpoint, intervalMs = PING_INTERVAL_MS) {
  const successes: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      try {
        const res = await engineGet(endpoint, '/_ping', 1_000);
        if (res.status === 200) successes.push(Date.now());
      } catch {
        // down: the gap grows until the next success
      }
      const left = intervalMs - (Date.now() - t);
      if (left > 0) await sleep(left);
    }
  })();
  return {
    successes,
    /** Stops after the next success (or `graceMs`), and returns the longest gap in ms. */
    async stop(graceMs = 30_000): Promise<number> {
      const count = successes.length;
      const until = Date.now() + graceMs;
      while (successes.length === count && Date.now() < until) await sleep(intervalMs);
      running = false;
      await loop;
      return longestGap(successes);
    },
  };
}

export function longestGap(times: readonly number[]): number {
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

interface ContainerState {
  id: string;
  name: string;
  startedAt: string;
}

async function runningContainers(endpoint: EngineEndpoint): Promise<ContainerState[]> {
  const list = await engineJson<{ Id: string; Names?: string[] }[]>(endpoint, '/containers/json');
  const out: ContainerState[] = [];
  for (const c of list) {
    const inspect = await engineJson<{ State?: { StartedAt?: string } }>(
      endpoint,
      `/containers/${c.Id}/json`,
    );
    out.push({
      id: c.Id,
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      startedAt: inspect.State?.StartedAt ?? '',
    });
  }
  return out;
}

export const rotateNativeServerCert: RotateServerCert = async (
  options: ServerRotationOptions,
): Promise<ServerRotation> => {
  const { host, paths } = options;
  const progress = options.progress ?? (() => undefined);
  const p = host.provisioned;
  if (p?.mode !== 'native') {
    throw new DockwardError('DW_E_USAGE', `${host.name} was not provisioned in native mode`, {
      hint: 'Only hosts enrolled with `dockward hosts provision` have their server certificate rotated.',
    });
  }
  const ssh: SshOptions = sshOptionsOf(p);
  const remote = (command: string, input?: string) => {
    progress(`ssh ${ssh.target}: ${command.length > 160 ? `${command.slice(0, 160)}...` : command}`);
    return runSsh(ssh, command, input);
  };
  const tls = await readClientTls(host.certDir);
  const ep = parseEndpoint(host.endpoint);
  const endpoint: EngineEndpoint = { kind: 'tcp', host: ep.host, port: ep.port, tls };
  const warnings: string[] = [];

  // Before: what runs, whether live-restore keeps it running, and which certificate is served.
  const info = await engineJson<EngineInfo>(endpoint, '/info');
  if (info.LiveRestoreEnabled !== true) {
    warnings.push(
      'live-restore is off on this host: restarting dockerd stops its containers (set "live-restore": true in daemon.json)',
    );
  } else {
    progress('live-restore is on: containers keep running while dockerd restarts');
  }
  const before = await runningContainers(endpoint);
  const oldCertPem = (await remote(`cat ${DEFAULT_CERT_DIR}/cert.pem`)).stdout;
  const oldCert = new X509Certificate(oldCertPem);
  const oldFingerprint = oldCert.fingerprint256;

  // A new key beside the live one (request-key.pem) and its CSR; only the CSR comes back.
  const address = sshAddress(ssh.target);
  const request = parseJsonOutput<{ csr: string }>(
    await remote(hostRequestCommand(p.serverCert, address, p.sans, 'native')),
    'dockward host request',
  );
  const signed = await signServerCsr(
    paths,
    {
      csrPem: request.csr,
      name: p.serverCert,
      replace: true,
      ...(options.days ? { days: options.days } : {}),
    },
    options.passphrase,
  );
  const newFingerprint = new X509Certificate(signed.certPem).fingerprint256;
  progress(`signed ${p.serverCert} serial ${signed.record.serial} (SHA-256 ${newFingerprint})`);

  const install = async (certPem: string, caPem: string): Promise<string | undefined> => {
    const dir = await remoteTempDir(remote, 'rotate');
    await remote(`cat > ${dir}/cert.pem`, certPem);
    await remote(`cat > ${dir}/ca.pem`, caPem);
    try {
      await remote(hostInstallCommand(dir, { port: p.port, mode: 'native' }));
      return undefined;
    } catch (err) {
      return describeError(err);
    }
  };

  const served = async (): Promise<string> =>
    (await probeTlsListener(dialAddress(ep.host), ep.port, signed.caPem)).peerFingerprint256 ?? '';

  const poller = startPingPoller(endpoint);
  const installFailure = await install(signed.certPem, signed.caPem);
  let downtimeMs = await poller.stop(options.timeoutMs);
  let servedFingerprint = await served();
  let rolledBack = false;
  if (installFailure !== undefined) {
    // host install rolled itself back (daemon.json and the TLS files) and restarted dockerd.
    rolledBack = true;
    warnings.push(`host install failed and rolled back on the host: ${installFailure}`);
  } else if (servedFingerprint !== newFingerprint) {
    rolledBack = true;
    warnings.push(
      `${host.endpoint} serves ${servedFingerprint || 'nothing'} after the install, not the new certificate: putting the old pair back`,
    );
    const again = startPingPoller(endpoint);
    const back = await install(oldCertPem, signed.caPem);
    downtimeMs = Math.max(downtimeMs, await again.stop(options.timeoutMs));
    if (back !== undefined) warnings.push(`putting the old pair back failed too: ${back}`);
    servedFingerprint = await served();
  }
  if (rolledBack) {
    warnings.push(
      `the PKI records serial ${signed.record.serial} for ${p.serverCert}, but the host serves ${servedFingerprint === oldFingerprint ? 'the old certificate' : servedFingerprint}`,
    );
  }

  const after = await runningContainers(endpoint).catch((err: unknown) => {
    warnings.push(`could not list the containers after the restart: ${describeError(err)}`);
    return [] as ContainerState[];
  });
  const kept = before.filter((b) => after.some((a) => a.id === b.id && a.startedAt === b.startedAt));
  const stopped = before.filter((b) => !kept.includes(b)).map((b) => b.name || b.id.slice(0, 12));
  if (stopped.length > 0)
    warnings.push(`containers stopped or restarted by the dockerd restart: ${stopped.join(', ')}`);

  return {
    host: host.name,
    mode: 'native',
    oldSerial: normalizeSerial(oldCert.serialNumber),
    newSerial: signed.record.serial,
    newNotAfter: signed.record.notAfter,
    oldFingerprint,
    servedFingerprint,
    rolledBack,
    downtimeMs,
    containersKept: kept.length,
    containersStopped: stopped,
    warnings,
  };
};

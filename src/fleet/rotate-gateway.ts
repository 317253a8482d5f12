/**
 * Server-certificate rotation for a gateway-mode host (`RotateServerCert`, see server-rotation.ts):
 * the host makes a new key and CSR beside the live pair (`host request` writes request-key.pem,
 * never over key.pem), the CA here signs, `host install --mode gateway` swaps the pair in and
 * reloads the gateway (SIGHUP: no restart, open connections kept). Meanwhile this side polls TLS
 * `/_ping` to measure the downtime; afterwards it checks which certificate is served and, if it is
 * not the new one, installs the old certificate again (the host kept the old key as
 * previous-key.pem for exactly that).
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { engineGet, probeTlsListener } from '../docker/engine-client.js';
import { DockwardError, describeError } from '../errors.js';
import { signServerCsr } from '../pki/csr.js';
import { currentRecord } from '../pki/index-file.js';
import { issuedFiles, loadIndex } from '../pki/store.js';
import { type ClientTls, parseEndpoint } from './probe.js';
import { readClientTls } from './inventory.js';
import {
  hostInstallCommand,
  hostRequestCommand,
  parseJsonOutput,
  remoteTempDir,
  runSsh,
  type SshOptions,
  type SshRun,
  sshOptionsOf,
} from './provision.js';
import type { RotateServerCert, ServerRotation } from './server-rotation.js';

/**
 * The API downtime seen by a poller: the longest gap between two successful pings (or between the
 * start and the first, or the last and the end, when those are longer), in ms.
 */
export function longestGap(successes: readonly number[], start: number, end: number): number {
  if (successes.length === 0) return Math.max(0, end - start);
  let gap = Math.max(0, successes[0]! - start, end - successes[successes.length - 1]!);
  for (let i = 1; i < successes.length; i++) gap = Math.max(gap, successes[i]! - successes[i - 1]!);
  return gap;
}

/** Polls TLS /_ping until stopped; `stop()` returns the longest gap between two answers. */
function startPinger(
  host: string,
  port: number,
  tls: ClientTls,
  intervalMs = 100,
): { stop: () => Promise<number> } {
  const start = Date.now();
  const ok: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const res = await engineGet({ kind: 'tcp', host, port, tls }, '/_ping', 2_000);
        if (res.status === 200) ok.push(Date.now());
      } catch {
        // a failed ping is the downtime being measured
      }
      await sleep(intervalMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return longestGap(ok, start, Date.now());
    },
  };
}

async function runningContainers(host: string, port: number, tls: ClientTls): Promise<string[]> {
  const res = await engineGet({ kind: 'tcp', host, port, tls }, '/containers/json', 10_000);
  if (res.status !== 200) return [];
  return (JSON.parse(res.body) as { Id: string }[]).map((c) => c.Id);
}

export const rotateGatewayServerCert: RotateServerCert = async (options): Promise<ServerRotation> => {
  const { paths, host, passphrase } = options;
  const progress = options.progress ?? (() => undefined);
  const p = host.provisioned;
  if (p?.mode !== 'gateway') {
    throw new DockwardError('DW_E_USAGE', `${host.name} is not a gateway-mode host`, {
      hint: 'Native-TLS hosts rotate by a dockerd restart (hosts renew picks the right way).',
    });
  }
  const ssh: SshOptions = sshOptionsOf(p);
  const remote = (command: string, input?: string): Promise<SshRun> => {
    progress(`ssh ${ssh.target}: ${command.split(';')[0]}`);
    return runSsh(ssh, command, input, Math.max(options.timeoutMs, 120_000));
  };
  const ep = parseEndpoint(host.endpoint);
  const tls = await readClientTls(host.certDir);
  const index = await loadIndex(paths);
  const old = currentRecord(index, p.serverCert);
  if (old?.kind !== 'server') {
    throw new DockwardError(
      'DW_E_NOT_FOUND',
      `no server certificate ${p.serverCert} in the PKI for ${host.name}`,
      {
        hint: 'Provision the host again: dockward hosts provision NAME --mode gateway.',
      },
    );
  }
  const oldCertPem = await fs.readFile(issuedFiles(paths, p.serverCert).cert, 'utf8');
  const oldFingerprint = new X509Certificate(oldCertPem).fingerprint256;
  const before: string[] = await runningContainers(ep.host, ep.port, tls).catch(() => []);

  // 1. The new key is made aside (request-key.pem); the live key.pem keeps being served.
  const address = ep.host;
  const request = parseJsonOutput<{ csr: string }>(
    await remote(hostRequestCommand(p.serverCert, address, p.sans, 'gateway')),
    'dockward host request',
  );
  const signed = await signServerCsr(
    paths,
    {
      csrPem: request.csr,
      name: p.serverCert,
      ...(options.days ? { days: options.days } : {}),
      replace: true,
    },
    passphrase,
  );
  const newFingerprint = new X509Certificate(signed.certPem).fingerprint256;
  progress(`signed ${p.serverCert} serial ${signed.record.serial} here`);

  const push = async (certPem: string): Promise<void> => {
    const dir = await remoteTempDir(remote, 'rotate');
    await remote(`cat > ${dir}/cert.pem`, certPem);
    await remote(`cat > ${dir}/ca.pem`, signed.caPem);
    await remote(`cat > ${dir}/crl.pem`, await fs.readFile(paths.crl, 'utf8'));
    await remote(hostInstallCommand(dir, { port: ep.port, mode: 'gateway', crl: true }));
  };
  const served = async (): Promise<string> =>
    (await probeTlsListener(ep.host, ep.port, signed.caPem, 5_000)).peerFingerprint256 ?? '';

  // 2. Install + reload while this side pings: the longest gap is the downtime.
  const pinger = startPinger(ep.host, ep.port, tls);
  let installError: unknown;
  try {
    await push(signed.certPem);
  } catch (err) {
    installError = err;
  }
  const downtimeMs = await pinger.stop();
  let servedFingerprint = await served();
  let rolledBack = false;
  const warnings: string[] = [];
  if (servedFingerprint !== newFingerprint) {
    // 3. The new pair is not served: the old certificate goes back (its key is previous-key.pem there).
    progress(
      `${host.endpoint} serves ${servedFingerprint || 'nothing'}, not the new ${newFingerprint}${installError ? ` (${describeError(installError)})` : ''}: putting the old pair back`,
    );
    if (servedFingerprint !== oldFingerprint) {
      try {
        await push(oldCertPem);
      } catch (err) {
        warnings.push(`putting the old pair back failed: ${describeError(err)}`);
      }
      servedFingerprint = await served();
    }
    rolledBack = true;
    warnings.push(
      `the PKI records serial ${signed.record.serial} as ${p.serverCert}, but the host serves ${servedFingerprint === oldFingerprint ? 'the old certificate again' : servedFingerprint || 'nothing'}: revoke it (dockward pki revoke ${p.serverCert} --serial ${signed.record.serial}) once the cause is fixed and renew again`,
    );
  } else {
    progress(
      `${host.endpoint} serves the new certificate (SHA-256 ${newFingerprint}); downtime ${downtimeMs} ms`,
    );
  }
  const after: string[] = await runningContainers(ep.host, ep.port, tls).catch(() => []);
  const stopped = before.filter((id) => !after.includes(id));
  return {
    host: host.name,
    mode: 'gateway',
    oldSerial: old.serial,
    newSerial: signed.record.serial,
    newNotAfter: signed.record.notAfter,
    oldFingerprint,
    servedFingerprint,
    rolledBack,
    downtimeMs,
    containersKept: before.length - stopped.length,
    containersStopped: stopped,
    warnings,
  };
};

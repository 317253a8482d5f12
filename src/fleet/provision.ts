/**
 * `hosts provision`: enrols a host over SSH the way `host request` / `pki sign` / `host install`
 * do by hand. The system `ssh` runs every step (BatchMode, StrictHostKeyChecking=yes: a host whose
 * key is not in known_hosts is refused, never trusted on first use). Only the CSR comes back and
 * only certificates go out: the host's key and the CA key stay where they were made.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { dialAddress, probeTlsListener } from '../docker/engine-client.js';
import { GATEWAY_TLS_DIR } from '../daemon/host-init-gateway.js';
import { parseCidr } from '../daemon/firewall.js';
import { DockwardError } from '../errors.js';
import { signServerCsr } from '../pki/csr.js';
import { currentRecord } from '../pki/index-file.js';
import { loadIndex, type PassphraseSource } from '../pki/store.js';
import type { StatePaths } from '../store/paths.js';
import { type AddHostResult, addHost, type HostContextResult, writeHostContext } from './hosts.js';
import { assertFreeName, assertHostName, loadInventory, type ProvisionedRecord } from './inventory.js';

export interface SshOptions {
  /** `user@host` (or a bare host). */
  target: string;
  knownHosts?: string;
  identity?: string;
  port?: number;
  /** The ssh program (tests point it elsewhere); default `ssh` from PATH. */
  program?: string;
}

export interface ProvisionOptions {
  name: string;
  ssh: SshOptions;
  sans?: readonly string[];
  role?: string;
  /** dockerd's TLS port on the host (default 2376). */
  port?: number;
  /** `native` (default): dockerd serves TLS; `gateway`: the dockward gateway service does. */
  mode?: 'native' | 'gateway';
  /** Sources allowed to the TLS port (native: nftables; gateway: the gateway's allowlist). */
  allow?: readonly string[];
  days?: number;
  timeoutMs: number;
  dockerConfig?: string;
  progress?: (line: string) => void;
}

export interface ProvisionResult {
  name: string;
  mode: 'native' | 'gateway';
  endpoint: string;
  /** Every command run on the host, as run. */
  ran: string[];
  remoteVersion: string;
  server: { name: string; serial: string; sans: string[]; notAfter: string; fingerprint: string };
  served: { fingerprint: string; matches: boolean };
  added: AddHostResult;
  context: HostContextResult;
}

/** Single-quotes a word for the remote POSIX shell ssh hands the command to. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The address part of `user@host`, `user@[v6]` or `host`. */
export function sshAddress(target: string): string {
  const host = target.includes('@') ? target.slice(target.lastIndexOf('@') + 1) : target;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === '' || /[\s/]/.test(bare)) {
    throw new DockwardError('DW_E_USAGE', `--ssh "${target}" is not USER@HOST`, {
      hint: 'Write it as root@192.0.2.10 or root@host.example.com.',
    });
  }
  return bare;
}

/**
 * A fresh folder in the host's /tmp for the files `host install` reads, checked to be one: what
 * `hostInstallCommand` later removes with `rm -rf` must be that folder and nothing else.
 */
export async function remoteTempDir(
  remote: (command: string) => Promise<SshRun>,
  purpose: 'enrol' | 'rotate',
): Promise<string> {
  const dir = (await remote(`mktemp -d /tmp/dockward-${purpose}.XXXXXXXX`)).stdout.trim();
  if (!new RegExp(`^/tmp/dockward-${purpose}\\.[A-Za-z0-9]+$`).test(dir)) {
    throw new DockwardError('DW_E_SSH', `mktemp on the host printed "${dir.slice(0, 80)}"`, {
      hint: 'The host needs a POSIX mktemp and a writable /tmp.',
    });
  }
  return dir;
}

/** How to reach a provisioned host over SSH again, as `hosts provision` did. */
export function sshOptionsOf(p: ProvisionedRecord): SshOptions {
  return {
    target: p.ssh.target,
    ...(p.ssh.knownHosts ? { knownHosts: p.ssh.knownHosts } : {}),
    ...(p.ssh.identity ? { identity: p.ssh.identity } : {}),
    ...(p.ssh.port ? { port: p.ssh.port } : {}),
  };
}

/**
 * The remote `dockward host request`: a new key made on the host (beside the live one) and its CSR
 * for the host's address and the SANs asked for; in gateway mode in the gateway's folder.
 */
export function hostRequestCommand(
  name: string,
  address: string,
  sans: readonly string[],
  mode: 'native' | 'gateway',
): string {
  const addressSan = isIP(address) === 0 ? `DNS:${address}` : `IP:${address}`;
  return [
    'dockward',
    '--json',
    'host',
    'request',
    '--name',
    name,
    ...(mode === 'gateway' ? ['--tls-dir', GATEWAY_TLS_DIR] : []),
    ...[addressSan, ...sans].flatMap((s) => ['--san', s]),
  ]
    .map(shellQuote)
    .join(' ');
}

/**
 * The remote `dockward host install` of the cert.pem and ca.pem (and crl.pem) written to `dir` on
 * the host, then the folder removed whatever happened: provision and both rotations send this.
 */
export function hostInstallCommand(
  dir: string,
  o: { port: number; mode: 'native' | 'gateway'; crl?: boolean; allow?: readonly string[] },
): string {
  const install = [
    'dockward',
    '--json',
    'host',
    'install',
    ...(o.mode === 'gateway' ? ['--mode', 'gateway'] : []),
    '--cert',
    `${dir}/cert.pem`,
    '--ca',
    `${dir}/ca.pem`,
    '--listen',
    `0.0.0.0:${o.port}`,
    ...(o.mode === 'gateway' ? ['--tls-dir', GATEWAY_TLS_DIR] : []),
    ...(o.crl ? ['--crl', `${dir}/crl.pem`] : []),
    ...(o.allow ?? []).flatMap((a) => ['--allow', a]),
  ]
    .map(shellQuote)
    .join(' ');
  return `${install}; rc=$?; rm -rf ${dir}; exit $rc`;
}

/** ssh's arguments: no prompts, host key checked against known_hosts, nothing forwarded. */
export function sshArgs(options: SshOptions, command: string): string[] {
  const args = [
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ConnectTimeout=15',
    '-o',
    'ForwardAgent=no',
    '-o',
    'ClearAllForwardings=yes',
  ];
  if (options.knownHosts) args.push('-o', `UserKnownHostsFile=${options.knownHosts}`);
  if (options.identity) args.push('-i', options.identity, '-o', 'IdentitiesOnly=yes');
  if (options.port) args.push('-p', String(options.port));
  sshAddress(options.target); // refuses a malformed target before ssh sees it
  // ssh takes user@fd00::1 as it is; brackets are for URLs only.
  args.push(options.target.replace(/\[|\]/g, ''), '--', command);
  return args;
}

/** What a failed ssh run means: an unknown host key, dockward missing there, or the command failing. */
export function sshFailure(
  options: SshOptions,
  command: string,
  code: number | null,
  stderr: string,
): DockwardError {
  const host = sshAddress(options.target);
  const said = stderr.trim().split('\n').slice(-6).join('\n');
  if (
    code === 255 &&
    /Host key verification failed|No (?:\S+ )?host key is known|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(
      stderr,
    )
  ) {
    const file = options.knownHosts ?? '~/.ssh/known_hosts';
    return new DockwardError(
      'DW_E_SSH_HOST_KEY',
      `the SSH host key of ${host} is not in ${file} (or differs from it): ${said}`,
      {
        hint: `Fetch it with \`ssh-keyscan ${options.port ? `-p ${options.port} ` : ''}${host} > /tmp/${host}.keys\`, compare \`ssh-keygen -lf /tmp/${host}.keys\` with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` run on the host's console, and only then append it to ${file}.`,
      },
    );
  }
  if (code === 255) {
    return new DockwardError('DW_E_SSH', `ssh ${options.target} failed: ${said}`, {
      hint: 'Check that sshd runs there and that your key is in its authorized_keys (BatchMode: no password prompt).',
    });
  }
  if (code === 127 && /dockward/.test(stderr)) {
    return new DockwardError('DW_E_DEPENDENCY', `dockward is not installed on ${host}`, {
      hint: 'Install it there first (npm install -g dockward, or copy the self-contained file to /usr/local/bin/dockward); provision installs nothing by itself.',
    });
  }
  return new DockwardError(
    'DW_E_SSH',
    `on ${host}, \`${command}\` failed (exit ${code ?? 'signal'}): ${said}`,
    {
      hint: 'The lines above are the host’s own output.',
    },
  );
}

export interface SshRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one command on the host; throws the classified failure on a non-zero exit. */
export function runSsh(
  options: SshOptions,
  command: string,
  input?: string,
  timeoutMs = 300_000,
): Promise<SshRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.program ?? 'ssh', sshArgs(options, command), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(
        new DockwardError('DW_E_DEPENDENCY', `cannot run ssh: ${err.message}`, {
          hint: 'Install the OpenSSH client (apt-get install openssh-client).',
          cause: err,
        }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ code, stdout, stderr });
      else reject(sshFailure(options, command, code, stderr));
    });
    child.stdin.on('error', () => undefined); // ssh may exit before reading stdin (refused host key)
    child.stdin.end(input ?? '');
  });
}

/** The JSON a `dockward --json ...` run on the host printed, or DW_E_SSH naming what it printed. */
export function parseJsonOutput<T>(run: SshRun, what: string): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new DockwardError('DW_E_SSH', `${what} did not print JSON: ${run.stdout.slice(0, 200)}`, {
      hint: 'Check the dockward version on the host (`dockward --version`): it needs `host request` and `host install`.',
    });
  }
}

/** Enrols one host over SSH and records it in the inventory with a client certificate and a docker context. */
export async function provisionHost(
  paths: StatePaths,
  options: ProvisionOptions,
  passphrase: PassphraseSource,
): Promise<ProvisionResult> {
  const progress = options.progress ?? (() => undefined);
  assertHostName(options.name);
  assertFreeName(await loadInventory(paths), options.name);
  for (const a of options.allow ?? []) parseCidr(a); // a typo is refused before anything runs there
  const address = sshAddress(options.ssh.target);
  const port = options.port ?? 2376;
  const endpoint = `tcp://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
  const ran: string[] = [];
  const remote = async (command: string, input?: string): Promise<SshRun> => {
    progress(`ssh ${options.ssh.target}: ${command}`);
    ran.push(command);
    return runSsh(options.ssh, command, input);
  };

  const version = await remote(
    'command -v dockward >/dev/null 2>&1 || { echo "dockward: not installed (not on PATH)" >&2; exit 127; }; dockward --version',
  );
  const mode = options.mode ?? 'native';
  // Gateway mode: the key is made in the gateway's folder, where only the service's group reads it.
  const request = parseJsonOutput<{ csr: string; name: string }>(
    await remote(hostRequestCommand(options.name, address, options.sans ?? [], mode)),
    'dockward host request',
  );
  const existing = currentRecord(await loadIndex(paths), options.name);
  const signed = await signServerCsr(
    paths,
    {
      csrPem: request.csr,
      name: options.name,
      ...(options.days ? { days: options.days } : {}),
      // Re-provisioning a host replaces its own host-held certificate, nothing else.
      replace: existing?.kind === 'server' && existing.keyOnHost === true,
    },
    passphrase,
  );
  progress(`signed ${options.name} (${signed.record.sans.join(', ')}) with the CA here`);

  const dir = await remoteTempDir(remote, 'enrol');
  await remote(`cat > ${dir}/cert.pem`, signed.certPem);
  await remote(`cat > ${dir}/ca.pem`, signed.caPem);
  if (mode === 'gateway') await remote(`cat > ${dir}/crl.pem`, await fs.readFile(paths.crl, 'utf8'));
  await remote(
    hostInstallCommand(dir, {
      port,
      mode,
      crl: mode === 'gateway',
      ...(options.allow ? { allow: options.allow } : {}),
    }),
  );

  // From here, as a client: the certificate dockerd serves is the one just signed, by fingerprint.
  const expected = new X509Certificate(signed.certPem).fingerprint256;
  const probe = await probeTlsListener(dialAddress(address), port, signed.caPem);
  const served = {
    fingerprint: probe.peerFingerprint256 ?? '',
    matches: probe.peerFingerprint256 === expected,
  };
  if (!served.matches) {
    throw new DockwardError(
      'DW_E_HOST_CERT_MISMATCH',
      `${endpoint} serves ${probe.peerFingerprint256 ?? `no certificate (${probe.detail})`}, not the certificate just signed (${expected})`,
      {
        hint: 'Another listener may hold the port, or the host is reached through a proxy: check `ss -tlnp` there.',
      },
    );
  }
  progress(`${endpoint} serves the signed certificate (SHA-256 ${expected})`);
  const added = await addHost(
    paths,
    {
      name: options.name,
      endpoint,
      ...(options.role ? { role: options.role } : {}),
      verify: true,
      timeoutMs: options.timeoutMs,
      provisioned: {
        ssh: {
          target: options.ssh.target,
          ...(options.ssh.knownHosts ? { knownHosts: resolve(options.ssh.knownHosts) } : {}),
          ...(options.ssh.identity ? { identity: resolve(options.ssh.identity) } : {}),
          ...(options.ssh.port ? { port: options.ssh.port } : {}),
        },
        mode,
        serverCert: signed.record.name,
        sans: [...(options.sans ?? [])],
        port,
      },
    },
    passphrase,
  );
  const context = await writeHostContext(
    paths,
    options.name,
    options.dockerConfig ? { dockerConfig: options.dockerConfig } : {},
  );
  return {
    name: options.name,
    mode,
    endpoint,
    ran,
    remoteVersion: version.stdout.trim(),
    server: {
      name: signed.record.name,
      serial: signed.record.serial,
      sans: signed.record.sans,
      notAfter: signed.record.notAfter,
      fingerprint: expected,
    },
    served,
    added,
    context,
  };
}

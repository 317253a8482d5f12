import { accessSync, constants, openSync, readSync, closeSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runCommand } from './run.js';

/** The Debian packages that bring every tool the e2e suites need. */
export const E2E_APT_PACKAGES = ['docker.io', 'busybox-static', 'iptables'] as const;

/** The static busybox the test image is built from. */
export const BUSYBOX_PATH = '/bin/busybox';

/** The docker CLI 28 that the machine image ships; `DOCKWARD_TEST_DOCKER_CLI` overrides it. */
export const DOCKER_CLI_28 = '/usr/local/bin/docker';

/** The docker CLI 20.10 from Debian's docker.io, for tests that need the old client. */
export const DOCKER_CLI_20 = '/usr/bin/docker';

/** What ensureDockerTools found: the absolute path of each tool. */
export interface DockerTools {
  dockerd: string;
  dockerCli: string;
  busybox: string;
  iptables: string;
}

/** True when e2e suites must run and fail loudly rather than skip (CI=true). */
export function e2eMustRun(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ['true', '1', 'yes'].includes(ci.toLowerCase());
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of a program on PATH (sbin folders included, where dockerd and iptables live), if any. */
export function findProgram(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const extra of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(extra)) dirs.push(extra);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The docker CLI the suites run: `DOCKWARD_TEST_DOCKER_CLI`, else CLI 28, else `docker` on PATH. */
export function dockerCliPath(): string | undefined {
  const override = process.env.DOCKWARD_TEST_DOCKER_CLI;
  if (override !== undefined && override !== '') return isExecutable(override) ? override : undefined;
  if (isExecutable(DOCKER_CLI_28)) return DOCKER_CLI_28;
  return findProgram('docker');
}

/**
 * True when the file is an ELF executable without a program interpreter, i.e. statically linked:
 * a dynamic busybox would not run inside an image that has no libc.
 */
export function isStaticElf(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 64 || head.readUInt32BE(0) !== 0x7f454c46) return false;
    if (head[4] !== 2 || head[5] !== 1) return false; // only 64-bit little-endian is expected here
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) {
      const PT_INTERP = 3;
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Which tools are missing, as human-readable names, and the paths of those found. */
function inspectTools(): { missing: string[]; tools: Partial<DockerTools> } {
  const missing: string[] = [];
  const dockerd = findProgram('dockerd');
  const dockerCli = dockerCliPath();
  const iptables = findProgram('iptables');
  const busyboxOk = isStaticElf(BUSYBOX_PATH);
  if (dockerd === undefined) missing.push('dockerd');
  if (dockerCli === undefined) {
    const override = process.env.DOCKWARD_TEST_DOCKER_CLI;
    missing.push(override ? `docker (CLI) at DOCKWARD_TEST_DOCKER_CLI=${override}` : 'docker (CLI)');
  }
  if (!busyboxOk) missing.push(`a static busybox at ${BUSYBOX_PATH}`);
  if (iptables === undefined) missing.push('iptables');
  return { missing, tools: { dockerd, dockerCli, iptables, busybox: busyboxOk ? BUSYBOX_PATH : undefined } };
}

const INSTALL_HINT = `apt-get update && apt-get install -y ${E2E_APT_PACKAGES.join(' ')}`;
let installOnce: Promise<void> | undefined;

async function installWithApt(): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt run on the machine holds the lock for a while: wait for it instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  const update = await runCommand('apt-get', [...lock, 'update'], { env, timeoutMs: 600_000 });
  if (update.code !== 0) throw new Error(`apt-get update failed:\n${tail(update.stderr || update.stdout)}`);
  const install = await runCommand('apt-get', [...lock, 'install', '-y', ...E2E_APT_PACKAGES], {
    env,
    timeoutMs: 900_000,
  });
  if (install.code !== 0) {
    throw new Error(
      `apt-get install ${E2E_APT_PACKAGES.join(' ')} failed:\n${tail(install.stderr || install.stdout)}`,
    );
  }
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Makes sure dockerd, the docker CLI, a static busybox and iptables are present. As root it installs
 * what is missing with apt-get (once per process); otherwise it throws saying what to install.
 */
export async function ensureDockerTools(): Promise<DockerTools> {
  let { missing, tools } = inspectTools();
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) {
      throw new Error(`e2e tools missing: ${missing.join(', ')}. Install them as root with: ${INSTALL_HINT}`);
    }
    installOnce ??= installWithApt();
    await installOnce;
    ({ missing, tools } = inspectTools());
    if (missing.length > 0) {
      throw new Error(`e2e tools still missing after ${INSTALL_HINT}: ${missing.join(', ')}`);
    }
  }
  return tools as DockerTools;
}

/**
 * Why an e2e suite that needs a private dockerd cannot run here, or undefined when it can.
 * Under CI=true it never returns a reason: it throws, so the suite fails instead of skipping.
 * Use it as `describe(name, { skip: await e2eSkipReason() }, ...)`.
 */
export async function e2eSkipReason(): Promise<string | undefined> {
  let reason: string | undefined;
  try {
    await ensureDockerTools();
    // dockerd needs root for its mounts, namespaces and iptables.
    if (process.getuid?.() !== 0) reason = 'a private dockerd needs root';
  } catch (err) {
    reason = err instanceof Error ? err.message : String(err);
  }
  if (reason === undefined) return undefined;
  if (e2eMustRun()) throw new Error(`CI=true: e2e suites must run, but: ${reason}`);
  return `dockerd unavailable: ${reason}`;
}

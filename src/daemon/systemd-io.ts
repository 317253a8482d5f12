/**
 * The I/O half of docker.service handling: find the unit and its drop-ins under a root folder
 * (`/` on a host, a fixture tree in tests), read its EnvironmentFile=s, write dockward's drop-in
 * atomically (and put back what was there), and run `systemctl`.
 * The parsing and the drop-in's content are pure, in `systemd-unit.ts`.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { DockwardError, describeError } from '../errors.js';
import { backupFile, MODE_PUBLIC_FILE, writeFileAtomic } from '../store/atomic-write.js';
import {
  type EffectiveService,
  effectiveService,
  parseEnvironmentFile,
  type UnitSource,
} from './systemd-unit.js';

/** Where systemd looks for units, highest priority first (systemd.unit(5), system manager). */
export const UNIT_DIRS: readonly string[] = [
  'etc/systemd/system',
  'run/systemd/system',
  'usr/local/lib/systemd/system',
  'lib/systemd/system',
  'usr/lib/systemd/system',
];

/** The folder dockward writes its drop-in to: the admin's layer, above the packaged unit. */
export const DROP_IN_DIR = 'etc/systemd/system/docker.service.d';

export const DOCKER_UNIT = 'docker.service';
/** The socket unit of Debian's and Docker's packages, which passes `fd://` to dockerd. */
export const DOCKER_SOCKET_UNIT = 'docker.socket';

/** docker.service as found on disk. */
export interface DockerServiceFiles {
  /** The root folder the paths below are relative to (`/` on a host). */
  root: string;
  unit: UnitSource;
  dropIns: UnitSource[];
  /** Values read from the EnvironmentFile= files that exist. */
  env: Record<string, string>;
  /** The service with drop-ins and environment applied. */
  service: EffectiveService;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new DockwardError('DW_E_FILE', `cannot read ${path}: ${describeError(err)}`, { cause: err });
  }
}

async function listConf(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((n) => n.endsWith('.conf')).sort();
  } catch {
    return [];
  }
}

/** Reads docker.service, its drop-ins (every unit folder, priority order) and its environment files. */
export async function readDockerService(
  root = '/',
  unitName: string = DOCKER_UNIT,
): Promise<DockerServiceFiles | undefined> {
  let unit: UnitSource | undefined;
  for (const dir of UNIT_DIRS) {
    const path = join(root, dir, unitName);
    const text = await readText(path);
    if (text !== undefined) {
      unit = { path, text };
      break;
    }
  }
  if (!unit) return undefined;
  const dropIns: UnitSource[] = [];
  const seen = new Set<string>();
  for (const dir of UNIT_DIRS) {
    const dropDir = join(root, dir, `${unitName}.d`);
    for (const name of await listConf(dropDir)) {
      const path = join(dropDir, name);
      const real = await fs.realpath(path).catch(() => path);
      if (seen.has(real)) continue; // /lib -> /usr/lib on merged-usr systems: the same file once
      seen.add(real);
      const text = await readText(path);
      if (text !== undefined) dropIns.push({ path, text });
    }
  }
  // EnvironmentFile= values feed $VAR in ExecStart (Debian's /etc/default/docker: $DOCKER_OPTS).
  const first = effectiveService(unit, dropIns);
  const env: Record<string, string> = {};
  for (const f of first.environmentFiles) {
    const text = await readText(join(root, f.path));
    if (text !== undefined) Object.assign(env, parseEnvironmentFile(text));
  }
  const service = Object.keys(env).length > 0 ? effectiveService(unit, dropIns, { env }) : first;
  return { root, unit, dropIns, env, service };
}

/** What writing a drop-in replaced, so a rollback can put it back. */
export interface WrittenDropIn {
  path: string;
  /** The previous content, or undefined when the file did not exist. */
  previous: string | undefined;
  /** Where the previous file was copied (it ends in `.bak`, which systemd ignores). */
  backup: string | undefined;
}

/** Writes `<root>/etc/systemd/system/docker.service.d/<fileName>` atomically (0644), after a backup. */
export async function writeDropIn(root: string, fileName: string, content: string): Promise<WrittenDropIn> {
  if (!/^[A-Za-z0-9_.@-]+\.conf$/.test(fileName)) {
    throw new DockwardError('DW_E_USAGE', `invalid drop-in file name "${fileName}"`, {
      hint: 'A drop-in is a plain NAME.conf file.',
    });
  }
  const dir = join(root, DROP_IN_DIR);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const path = join(dir, fileName);
  const previous = await readText(path);
  const backup = previous === undefined ? undefined : await backupFile(path);
  await writeFileAtomic(path, content, { mode: MODE_PUBLIC_FILE });
  return { path, previous, backup };
}

/** Puts back what `writeDropIn` replaced (or removes the file it created). */
export async function restoreDropIn(written: WrittenDropIn): Promise<void> {
  if (written.previous === undefined) {
    await fs.rm(written.path, { force: true });
  } else {
    await writeFileAtomic(written.path, written.previous, { mode: MODE_PUBLIC_FILE });
  }
}

/** The outcome of a program run. */
export interface ProgramResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell); tests inject their own. Never rejects on a non-zero exit. */
export type ProgramRunner = (
  program: string,
  args: readonly string[],
  options?: { timeoutMs?: number },
) => Promise<ProgramResult>;

/** The real runner: execFile with a time limit; a missing program gives code null and the reason. */
export const runProgram: ProgramRunner = (program, args, options = {}) =>
  new Promise((resolve) => {
    execFile(
      program,
      [...args],
      { timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          // ENOENT and friends: the program could not be started.
          resolve({ code: null, stdout: '', stderr: `${program}: ${err.message}` });
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });

/** True when this machine was booted with systemd (its own test: /run/systemd/system exists). */
export async function isSystemdBooted(root = '/'): Promise<boolean> {
  try {
    if ((await fs.stat(join(root, 'run/systemd/system'))).isDirectory()) return true;
  } catch {
    // not booted with systemd, or not visible from here
  }
  const comm = await readText(join(root, 'proc/1/comm'));
  return comm?.trim() === 'systemd';
}

/** Runs `systemctl ARGS`; throws DW_E_DEPENDENCY when systemctl cannot run at all. */
export async function systemctl(
  args: readonly string[],
  run: ProgramRunner = runProgram,
  timeoutMs = 120_000,
): Promise<ProgramResult> {
  const res = await run('systemctl', args, { timeoutMs });
  if (res.code === null) {
    throw new DockwardError('DW_E_DEPENDENCY', `cannot run systemctl: ${res.stderr.trim()}`, {
      hint: 'Use --restart process (with --pidfile) or --restart none on hosts without systemd.',
    });
  }
  return res;
}

/** `systemctl daemon-reload`, so a new or changed drop-in is read. */
export async function daemonReload(run: ProgramRunner = runProgram): Promise<void> {
  const res = await systemctl(['daemon-reload'], run);
  if (res.code !== 0) {
    throw new DockwardError('DW_E_UPSTREAM', `systemctl daemon-reload failed: ${res.stderr.trim()}`, {
      hint: 'Check the unit files with `systemd-analyze verify docker.service`.',
    });
  }
}

/** The main pid systemd reports for the unit, or undefined when it is not running. */
export async function mainPid(
  unitName: string = DOCKER_UNIT,
  run: ProgramRunner = runProgram,
): Promise<number | undefined> {
  const res = await systemctl(['show', '--property=MainPID', '--value', unitName], run);
  const pid = Number.parseInt(res.stdout.trim(), 10);
  return res.code === 0 && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

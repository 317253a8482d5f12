/**
 * The I/O of `dockward service`: the system user, the unit file (atomic, with a backup of one it
 * replaces), systemctl and the journal. The unit's text is pure, in `unit.ts`.
 */
import { constants, promises as fs } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ProgramRunner, runProgram } from '../daemon/systemd-io.js';
import { DockwardError } from '../errors.js';
import { backupFile, writeFileAtomic } from '../store/atomic-write.js';
import {
  renderServiceUnit,
  SERVICE_HOME,
  SERVICE_LOG_DIR,
  SERVICE_USER,
  type ServiceName,
  type ServiceSpec,
  unitName,
  writablePaths,
} from './unit.js';

export const UNIT_DIR = 'etc/systemd/system';

export interface ServiceIo {
  root: string;
  run: ProgramRunner;
  progress: (line: string) => void;
}

export function defaultIo(progress: (line: string) => void = () => undefined): ServiceIo {
  return { root: '/', run: runProgram, progress };
}

export interface InstallResult {
  name: ServiceName;
  unit: string;
  path: string;
  user: string;
  groups: string[];
  exec: string;
  args: string[];
  backup: string | undefined;
  status: ServiceStatus;
  warnings: string[];
}

export interface ServiceStatus {
  unit: string;
  installed: boolean;
  active: string;
  sub: string;
  enabled: string;
  mainPid: number;
  restarts: number;
  journal: string[];
}

/** The dockward executable systemd should start: first `dockward` on PATH, else this script. */
export async function findExecutable(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, 'dockward');
    try {
      await fs.access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new DockwardError('DW_E_DEPENDENCY', 'no dockward executable on PATH for systemd to start', {
    hint: 'Install dockward globally (npm install -g dockward-*.tgz, docs/hosts.md) or pass --exec PATH.',
  });
}

async function must(run: ProgramRunner, program: string, args: readonly string[]): Promise<string> {
  const res = await run(program, args, { timeoutMs: 120_000 });
  if (res.code !== 0) {
    throw new DockwardError(
      res.code === null ? 'DW_E_DEPENDENCY' : 'DW_E_UPSTREAM',
      `${program} ${args.join(' ')} failed: ${(res.stderr || res.stdout).trim()}`,
      {
        hint:
          res.code === null
            ? `${program} is needed on the host (systemd).`
            : 'See the journal: journalctl -xe',
      },
    );
  }
  return res.stdout;
}

/**
 * The dedicated user: created as a system user if missing (useradd), in the docker group when
 * that group exists. Without useradd the service runs as root, with a warning.
 */
export async function ensureUser(
  io: ServiceIo,
  warnings: string[],
): Promise<{ user: string | undefined; groups: string[] }> {
  const groups: string[] = [];
  const dockerGroup = await io.run('getent', ['group', 'docker']);
  if (dockerGroup.code === 0) groups.push('docker');
  else
    warnings.push(
      'no docker group on this host: the service cannot reach /var/run/docker.sock unless it runs as root',
    );
  const existing = await io.run('getent', ['passwd', SERVICE_USER]);
  if (existing.code === 0) return { user: SERVICE_USER, groups };
  const created = await io.run('useradd', [
    '--system',
    '--user-group',
    '--home-dir',
    SERVICE_HOME,
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    SERVICE_USER,
  ]);
  if (created.code === 0) {
    io.progress(`created system user ${SERVICE_USER}`);
    return { user: SERVICE_USER, groups };
  }
  warnings.push(
    `cannot create user ${SERVICE_USER} (${created.stderr.trim() || 'useradd missing'}): the service runs as root`,
  );
  return { user: undefined, groups: [] };
}

/** Writes the unit, reloads systemd, enables and starts it, and checks it stays active. */
export async function installService(
  name: ServiceName,
  args: readonly string[],
  options: { exec?: string; io?: ServiceIo },
): Promise<InstallResult> {
  const io = options.io ?? defaultIo();
  const writable = writablePaths(args);
  const exec = options.exec ?? (await findExecutable());
  const warnings: string[] = [];
  const { user, groups } = await ensureUser(io, warnings);
  // ReadWritePaths= entries must exist or systemd refuses to start the unit (status 226/NAMESPACE).
  // Only folders created here change owner: `--audit-log /var/log/x.log` must not hand /var/log over.
  for (const dir of writable) {
    const created = await fs.mkdir(join(io.root, dir), { recursive: true, mode: 0o750 });
    if (created !== undefined && user) await must(io.run, 'chown', [`${user}:${user}`, join(io.root, dir)]);
    // StateDirectory=/LogsDirectory= hand their own folders to the user at every start.
    else if (created === undefined && user && dir !== SERVICE_HOME && dir !== SERVICE_LOG_DIR) {
      warnings.push(
        `${dir} exists: make sure user ${user} may write there (ReadWritePaths= only lifts the sandbox)`,
      );
    }
  }
  const spec: ServiceSpec = { name, exec, args, user, groups, writable };
  const unit = unitName(name);
  const path = join(io.root, UNIT_DIR, unit);
  const backup = await backupFile(path);
  await writeFileAtomic(path, renderServiceUnit(spec), { mode: 0o644 });
  io.progress(`wrote ${path}${backup ? ` (backup ${backup})` : ''}`);
  await must(io.run, 'systemctl', ['daemon-reload']);
  await must(io.run, 'systemctl', ['enable', unit]);
  // restart, not start: a reinstall with new flags must take effect now.
  await must(io.run, 'systemctl', ['restart', unit]);
  let status = await waitActive(unit, io);
  // Active is not listening yet: node starts, the workers fork, the TLS files are read. A gateway
  // install is done when its port accepts connections.
  const port = name === 'gateway' ? listenPort(args) : undefined;
  if (port) {
    if (!(await waitListening(port.host, port.port, 30_000))) {
      status = await serviceStatus(unit, io);
      throw new DockwardError(
        'DW_E_UPSTREAM',
        `${unit} is ${status.active} but nothing listens on ${port.host}:${port.port}`,
        {
          hint: `Its last log lines:\n${status.journal.join('\n')}`,
        },
      );
    }
    status = await serviceStatus(unit, io);
  }
  return { name, unit, path, user: user ?? 'root', groups, exec, args: [...args], backup, status, warnings };
}

/** The address a gateway's `--listen` flag names (a wildcard is dialled on loopback); default 127.0.0.1:2376. */
export function listenPort(args: readonly string[]): { host: string; port: number } | undefined {
  let value = '127.0.0.1:2376';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--listen' && args[i + 1] !== undefined) value = args[i + 1]!;
    else if (args[i]!.startsWith('--listen=')) value = args[i]!.slice('--listen='.length);
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const dial = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return { host: dial, port: Number(m[3]) };
}

async function waitListening(host: string, port: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(500)) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port, timeout: 2_000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return true;
  }
  return false;
}

/**
 * Active and still active a moment later: a service that exits on a bad flag is "active" for an
 * instant, then restarts; the restart counter tells the two apart.
 */
async function waitActive(unit: string, io: ServiceIo): Promise<ServiceStatus> {
  const deadline = Date.now() + 20_000;
  let status = await serviceStatus(unit, io);
  while (Date.now() < deadline) {
    if (status.active === 'active' && status.sub === 'running') {
      await sleep(3_000);
      const again = await serviceStatus(unit, io);
      if (again.active === 'active' && again.restarts === status.restarts) return again;
      status = again;
      continue;
    }
    await sleep(500);
    status = await serviceStatus(unit, io);
  }
  throw new DockwardError('DW_E_UPSTREAM', `${unit} did not stay active (${status.active}/${status.sub})`, {
    hint: `Its last log lines:\n${status.journal.join('\n')}`,
  });
}

/** systemctl's view of the unit and its last journal lines. */
export async function serviceStatus(unit: string, io: ServiceIo, lines = 15): Promise<ServiceStatus> {
  let installed = true;
  try {
    await fs.access(join(io.root, UNIT_DIR, unit));
  } catch {
    installed = false;
  }
  const show = await io.run('systemctl', [
    'show',
    '--property=ActiveState,SubState,UnitFileState,MainPID,NRestarts',
    unit,
  ]);
  if (show.code === null) {
    throw new DockwardError('DW_E_DEPENDENCY', `cannot run systemctl: ${show.stderr.trim()}`, {
      hint: 'dockward service needs a host booted with systemd.',
    });
  }
  const prop = (key: string): string => new RegExp(`^${key}=(.*)$`, 'm').exec(show.stdout)?.[1]?.trim() ?? '';
  const journal = await io.run('journalctl', [
    '-u',
    unit,
    '-n',
    String(lines),
    '--no-pager',
    '-o',
    'short-iso',
  ]);
  return {
    unit,
    installed,
    active: prop('ActiveState') || 'unknown',
    sub: prop('SubState') || 'unknown',
    enabled: prop('UnitFileState') || 'unknown',
    mainPid: Number(prop('MainPID')) || 0,
    restarts: Number(prop('NRestarts')) || 0,
    journal: journal.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('-- ')),
  };
}

export interface UninstallResult {
  unit: string;
  removed: string | undefined;
  kept: string[];
}

/** Stops, disables and removes the unit; the user, state and logs stay (audit logs are evidence). */
export async function uninstallService(
  name: ServiceName,
  io: ServiceIo = defaultIo(),
): Promise<UninstallResult> {
  const unit = unitName(name);
  const path = join(io.root, UNIT_DIR, unit);
  let exists = true;
  try {
    await fs.access(path);
  } catch {
    exists = false;
  }
  if (!exists) {
    throw new DockwardError('DW_E_NOT_FOUND', `${unit} is not installed (${path} does not exist)`, {
      hint: `Install it with dockward service install ${name}.`,
    });
  }
  await must(io.run, 'systemctl', ['disable', '--now', unit]);
  await fs.rm(path, { force: true });
  await must(io.run, 'systemctl', ['daemon-reload']);
  await io.run('systemctl', ['reset-failed', unit]);
  io.progress(`stopped, disabled and removed ${unit}`);
  return { unit, removed: path, kept: [SERVICE_HOME, SERVICE_LOG_DIR, `user ${SERVICE_USER}`] };
}

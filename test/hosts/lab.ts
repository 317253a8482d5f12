/**
 * The host lab: throw-away Debian bookworm hosts booted with systemd as PID 1 (systemd-nspawn -b)
 * on a private network, and an "admin" network namespace that runs the dockward CLI and the real
 * docker CLI, as a user's workstation would.
 *
 *   bridge namespace `dwl<pid>-br` holds br0; every member (admin, each host) is a namespace with
 *   eth0 on that bridge: 198.18.0.0/24 and fd00:d0c:1::/64 (addresses the tests may use).
 *
 * Each host boots from the cached image (build-rootfs.sh) unpacked once per run, through an
 * overlay whose upper folder is the host's own: a reboot keeps what the host wrote, the next run
 * starts clean. Everything created carries this process's pid in its name, so `dispose()` (also
 * run on exit and on SIGINT/SIGTERM) and the sweep of dead runs remove exactly the lab's own
 * namespaces, mounts, cgroups and nspawn leftovers.
 *
 * Facts this relies on (checked on these machines; ../../../shared/FACTS.md "Real hosts"):
 * SYSTEMD_SECCOMP=0; --keep-unit --register=no (no D-Bus on the machine);
 * SYSTEMD_NSPAWN_API_VFS_WRITABLE=network with --network-namespace-path (dockerd writes
 * /proc/sys/net); cgroup v1 controllers remounted read-write inside the host.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const HERE = new URL('.', import.meta.url).pathname;
/** The checkout under test, bind-mounted read-only into every host at /opt/dockward. */
export const REPO = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const WORK_ROOT = '/var/tmp/dockward-lab';
const CGROUP_ROOT = '/sys/fs/cgroup';
const PREFIX = 'dwl';
export const SUBNET4 = '198.18.0';
export const SUBNET6 = 'fd00:d0c:1:';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** How long it took, in milliseconds. */
  ms: number;
}

function run(
  program: string,
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): CommandResult {
  const started = Date.now();
  const res = spawnSync(program, [...args], {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    encoding: 'utf8',
    input: options.input ?? '',
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: res.status,
    stdout: res.stdout ?? '',
    stderr: `${res.stderr ?? ''}${res.error ? `\n${res.error.message}` : ''}`,
    ms: Date.now() - started,
  };
}

/** Runs a command the lab needs to succeed; throws with its output otherwise. */
function must(program: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): string {
  const res = run(program, args, options);
  if (res.code !== 0) {
    throw new Error(
      `lab: ${program} ${args.join(' ')} exited ${res.code}: ${res.stderr.trim() || res.stdout.trim()}`,
    );
  }
  return res.stdout;
}

/** Why the lab cannot run on this machine, or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the host lab needs root (network namespaces, mounts, systemd-nspawn)';
  for (const tool of ['systemd-nspawn', 'debootstrap', 'zstd', 'ip', 'nsenter', 'docker']) {
    if (run('sh', ['-c', `command -v ${tool}`]).code !== 0) return `the host lab needs ${tool} (see .ci/run)`;
  }
  if (!existsSync(join(CGROUP_ROOT, 'systemd')) && !existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) {
    return 'the host lab needs a cgroup file system at /sys/fs/cgroup';
  }
  if (existsSync('/run/systemd/system')) {
    return 'the host lab is written for machines without systemd as PID 1 (cgroup set-up differs); run it in CI';
  }
  return undefined;
}

/** The cached image's tarball, built with debootstrap when missing (~2–6 min cold). */
export function ensureImage(): string {
  const res = run(join(HERE, 'build-rootfs.sh'), [], { timeoutMs: 15 * 60_000 });
  if (res.code !== 0) throw new Error(`lab: building the host image failed:\n${res.stderr.trim()}`);
  if (res.stderr.trim() !== '') process.stderr.write(res.stderr);
  const path = res.stdout.trim().split('\n').at(-1) ?? '';
  if (!existsSync(path)) throw new Error(`lab: build-rootfs.sh printed no image path (${res.stdout})`);
  return path;
}

/** Newest modification time of the files under a folder (ms). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/**
 * The hosts run the built binary (bin/dockward.js → dist/): build it when src/ is newer, so the
 * lab never tests a stale dist/.
 */
export function ensureBuilt(): void {
  const entry = join(REPO, 'dist/index.js');
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestMtime(join(REPO, 'src'))) return;
  must('npx', ['tsc', '-p', 'tsconfig.build.json'], { timeoutMs: 300_000, cwd: REPO });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function mountpoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p !== '')
    .map((p) => p.replace(/\\040/g, ' '));
}

/** Every cgroup v1 hierarchy mounted here (`cpu`, `memory`, `systemd`, ...). */
function cgroupHierarchies(): string[] {
  try {
    return readdirSync(CGROUP_ROOT).filter((n) => {
      const p = join(CGROUP_ROOT, n);
      try {
        return statSync(p).isDirectory() && existsSync(join(p, 'cgroup.procs'));
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** Removes a cgroup tree deepest first, killing what still runs in it. */
function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      if (statSync(p).isDirectory()) removeCgroupTree(p);
    } catch {
      // gone meanwhile
    }
  }
  for (let i = 0; i < 50; i++) {
    let pids: number[] = [];
    try {
      pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      // EBUSY: a process is still leaving it
    }
    spawnSync('sleep', ['0.1']);
  }
}

/** Removes everything of lab runs whose process is gone (the owner pid is in every name). */
export function sweepDeadRuns(): void {
  const owner = (name: string): number | undefined => {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    return m ? Number(m[1]) : undefined;
  };
  const dead = (name: string): boolean => {
    const pid = owner(name);
    return pid !== undefined && !isAlive(pid);
  };
  if (existsSync(WORK_ROOT)) {
    for (const name of readdirSync(WORK_ROOT)) if (dead(name)) cleanupRun(Number(owner(name)));
  }
  if (existsSync('/run/netns')) {
    for (const name of readdirSync('/run/netns')) if (dead(name)) run('ip', ['netns', 'delete', name]);
  }
  for (const h of cgroupHierarchies()) {
    for (const name of readdirSync(join(CGROUP_ROOT, h))) {
      if (dead(name)) removeCgroupTree(join(CGROUP_ROOT, h, name));
    }
  }
}

/** Removes every trace of the run with this pid (idempotent, synchronous: it also runs on exit). */
export function cleanupRun(pid: number): void {
  const tag = `${PREFIX}${pid}-`;
  // Hosts still running: their nspawn processes live in the run's cgroups.
  for (const h of cgroupHierarchies()) {
    let names: string[] = [];
    try {
      names = readdirSync(join(CGROUP_ROOT, h));
    } catch {
      continue;
    }
    for (const name of names) if (name.startsWith(tag)) removeCgroupTree(join(CGROUP_ROOT, h, name));
  }
  // Mounts under the run's folder, deepest first (overlays, and what nspawn left in them).
  const work = join(WORK_ROOT, `${tag}run`);
  // nspawn locks the image by its root's inode (/run/systemd/nspawn/locks/inode-DEV:INO) and
  // leaves that file when it is killed: name them while the overlays are still mounted.
  const locks: string[] = [];
  for (const name of existsSync(work) ? readdirSync(work) : []) {
    try {
      const st = statSync(join(work, name, 'root'));
      locks.push(join('/run/systemd/nspawn/locks', `inode-${st.dev}:${st.ino}`));
    } catch {
      // not a host folder
    }
  }
  const nspawnLeft = ['/run/systemd/nspawn/propagate', '/run/systemd/nspawn/unix-export'];
  const ours = mountpoints()
    .filter((m) => m.startsWith(`${work}/`) || nspawnLeft.some((d) => m.startsWith(`${d}/${tag}`)))
    .sort((a, b) => b.length - a.length);
  for (const m of ours) {
    if (run('umount', [m]).code !== 0) run('umount', ['-l', m]);
  }
  for (const d of nspawnLeft) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d))
      if (name.startsWith(tag)) rmSync(join(d, name), { recursive: true, force: true });
  }
  for (const lock of locks) rmSync(lock, { force: true });
  rmSync(work, { recursive: true, force: true });
  if (existsSync('/run/netns')) {
    for (const name of readdirSync('/run/netns'))
      if (name.startsWith(tag)) run('ip', ['netns', 'delete', name]);
  }
}

/**
 * A detached watcher that cleans up after this process once it is gone, however it ended
 * (SIGKILL, a test runner that exits on SIGINT before handlers run). Idempotent with dispose().
 */
function startReaper(): void {
  const lab = new URL('./lab.ts', import.meta.url).pathname;
  const pid = process.pid;
  const script = `const wait = () => { try { process.kill(${pid}, 0); setTimeout(wait, 1000); } catch { import(${JSON.stringify(lab)}).then((m) => m.cleanupRun(${pid})); } }; wait();`;
  const reaper = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: REPO,
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
}

export interface HostSpec {
  name: string;
  /** Last octet of its addresses (198.18.0.N, fd00:d0c:1::N). */
  octet: number;
}

/** A booted host: systemd as PID 1, in its own network namespace. */
export class LabHost {
  readonly name: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly netns: string;
  readonly machine: string;
  /** The host's root as seen from the test machine (the overlay's merged view). */
  readonly root: string;
  private readonly upper: string;
  private readonly workdir: string;
  private readonly lab: Lab;
  private nspawn: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private console = '';
  /** PID 1 of the host, as the test machine sees it. */
  pid1 = 0;

  constructor(lab: Lab, spec: HostSpec) {
    this.lab = lab;
    this.name = spec.name;
    this.ipv4 = `${SUBNET4}.${spec.octet}`;
    this.ipv6 = `${SUBNET6}:${spec.octet}`;
    this.netns = `${lab.tag}${spec.name}`;
    this.machine = `${lab.tag}${spec.name}`;
    const dir = join(lab.work, spec.name);
    this.root = join(dir, 'root');
    this.upper = join(dir, 'upper');
    this.workdir = join(dir, 'ovl-work');
  }

  /** Prepares the overlay and the files the host needs (hostname, dockward wrapper). */
  prepare(): void {
    for (const d of [this.root, this.upper, this.workdir]) mkdirSync(d, { recursive: true });
    must('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${this.lab.base},upperdir=${this.upper},workdir=${this.workdir}`,
      this.root,
    ]);
    writeFileSync(join(this.root, 'etc/hostname'), `${this.name}\n`);
    writeFileSync(
      join(this.root, 'etc/hosts'),
      `127.0.0.1 localhost\n${this.ipv4} ${this.name}\n${this.ipv6} ${this.name}\n`,
    );
    // The CLI under test, exactly as installed from the checkout (node comes from the test machine).
    mkdirSync(join(this.root, 'opt/dockward'), { recursive: true });
    writeFileSync(
      join(this.root, 'usr/local/bin/dockward'),
      '#!/bin/sh\nexec /usr/local/bin/node /opt/dockward/bin/dockward.js "$@"\n',
      { mode: 0o755 },
    );
    writeFileSync(join(this.root, 'usr/local/bin/node'), '', { mode: 0o755 });
  }

  /** Boots the host and waits until docker.service is active. */
  async boot(timeoutMs = 120_000): Promise<void> {
    const cgroup = this.machine;
    const hierarchies = cgroupHierarchies();
    for (const h of hierarchies) mkdirSync(join(CGROUP_ROOT, h, cgroup), { recursive: true });
    // nspawn starts inside its own cgroup in every hierarchy, so the host's processes (and what
    // nspawn leaves behind) are in one place the cleanup removes.
    // (cgroup2's "unified" hierarchy of a hybrid set-up refuses the write: nspawn manages it.)
    const joinCgroups = hierarchies
      .filter((h) => h !== 'unified')
      .map((h) => `echo $$ > ${join(CGROUP_ROOT, h, cgroup, 'cgroup.procs')}`)
      .join('; ');
    const nspawnArgs = [
      '-b',
      '-D',
      this.root,
      `--machine=${this.machine}`,
      '--keep-unit',
      '--register=no',
      `--network-namespace-path=/run/netns/${this.netns}`,
      '--capability=all',
      '--console=pipe',
      '--tmpfs=/var/lib/docker',
      '--bind-ro=/usr/bin/node:/usr/local/bin/node',
      `--bind-ro=${REPO}:/opt/dockward`,
    ];
    const child = spawn('sh', ['-c', `${joinCgroups}; exec systemd-nspawn "$@"`, 'sh', ...nspawnArgs], {
      env: {
        ...process.env,
        SYSTEMD_SECCOMP: '0',
        SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network',
        SYSTEMD_LOG_COLOR: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.nspawn = child;
    this.console = '';
    const keep = (b: Buffer): void => {
      this.console = (this.console + b.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + timeoutMs;
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    while (this.pid1 === 0 || !this.pid1Alive()) {
      if (gone) throw new Error(`lab: ${this.name} did not boot:\n${this.console.slice(-4000)}`);
      if (Date.now() > deadline)
        throw new Error(`lab: ${this.name} did not start within ${timeoutMs / 1000} s`);
      this.pid1 = this.findPid1(cgroup);
      await sleep(100);
    }
    // cgroup v1: nspawn mounts the controllers read-only; dockerd needs to create its groups.
    for (const h of hierarchies) {
      if (h === 'systemd') continue;
      run('nsenter', [
        '-t',
        String(this.pid1),
        '-m',
        'mount',
        '-o',
        'remount,bind,rw',
        `/sys/fs/cgroup/${h}`,
      ]);
    }
    for (;;) {
      const state = this.exec(['systemctl', 'is-active', 'docker.service']).stdout.trim();
      if (state === 'active') break;
      if (gone) throw new Error(`lab: ${this.name} stopped while booting:\n${this.console.slice(-4000)}`);
      if (Date.now() > deadline) {
        const status = this.exec(['systemctl', 'status', '--no-pager', 'docker.service']).stdout;
        throw new Error(
          `lab: docker.service on ${this.name} is "${state}" after ${timeoutMs / 1000} s:\n${status}`,
        );
      }
      await sleep(250);
    }
  }

  private pid1Alive(): boolean {
    return this.pid1 > 0 && isAlive(this.pid1);
  }

  /** The process that is PID 1 in the host's pid namespace (systemd), found in the host's cgroup. */
  private findPid1(cgroup: string): number {
    const dir = join(CGROUP_ROOT, 'pids', cgroup);
    const base = existsSync(dir) ? dir : join(CGROUP_ROOT, 'systemd', cgroup);
    const pids: number[] = [];
    const walk = (d: string): void => {
      try {
        pids.push(...readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
        for (const n of readdirSync(d)) if (statSync(join(d, n)).isDirectory()) walk(join(d, n));
      } catch {
        // changing under us while it boots
      }
    };
    walk(base);
    for (const pid of pids) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
        if (
          nspid &&
          nspid.length > 1 &&
          nspid.at(-1) === '1' &&
          readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd'
        )
          return pid;
      } catch {
        // exited
      }
    }
    return 0;
  }

  /** Runs a command inside the host (all its namespaces), as root with a clean environment. */
  exec(
    argv: readonly string[],
    options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
  ): CommandResult {
    if (!this.pid1Alive()) return { code: null, stdout: '', stderr: `${this.name} is not running`, ms: 0 };
    const env = Object.entries({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      ...options.env,
    }).map(([k, v]) => `${k}=${v}`);
    return run('nsenter', ['-t', String(this.pid1), '-a', 'env', '-i', ...env, ...argv], {
      ...(options.input !== undefined ? { input: options.input } : {}),
      timeoutMs: options.timeoutMs ?? 180_000,
    });
  }

  /** `dockward ARGS` inside the host. */
  dockward(args: readonly string[], options: { timeoutMs?: number } = {}): CommandResult {
    return this.exec(['dockward', ...args], options);
  }

  /** Powers the host off (`systemctl poweroff`) and waits for nspawn to exit. */
  async poweroff(timeoutMs = 60_000): Promise<void> {
    if (!this.nspawn || !this.exited) return;
    this.exec(['systemctl', 'poweroff', '--no-block']);
    const timer = sleep(timeoutMs).then(() => 'timeout' as const);
    const outcome = await Promise.race([this.exited, timer]);
    if (outcome === 'timeout') {
      this.nspawn.kill('SIGKILL');
      await this.exited;
    }
    this.nspawn = undefined;
    this.pid1 = 0;
    // What nspawn leaves: the host's cgroups (recreated on the next boot) and /run/systemd/nspawn.
    for (const h of cgroupHierarchies()) removeCgroupTree(join(CGROUP_ROOT, h, this.machine));
    for (const d of ['/run/systemd/nspawn/propagate', '/run/systemd/nspawn/unix-export']) {
      rmSync(join(d, this.machine), { recursive: true, force: true });
    }
  }

  /** Reboots: poweroff, then a new boot of the same root (what the host wrote stays). */
  async reboot(): Promise<void> {
    await this.poweroff();
    await this.boot();
  }

  /** The last console output (for failure messages). */
  consoleTail(chars = 4000): string {
    return this.console.slice(-chars);
  }
}

/** A lab: a bridge, an admin namespace and hosts. */
export class Lab {
  readonly tag = `${PREFIX}${process.pid}-`;
  readonly work = join(WORK_ROOT, `${PREFIX}${process.pid}-run`);
  readonly base = join(this.work, 'base');
  readonly bridgeNs = `${this.tag}br`;
  readonly adminNs = `${this.tag}admin`;
  readonly adminIpv4 = `${SUBNET4}.2`;
  readonly hosts = new Map<string, LabHost>();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.dispose();
    process.kill(process.pid, signal);
  };
  private readonly onExit = (): void => this.dispose();

  /** Unpacks the image, builds the network and boots the hosts. */
  static async start(specs: readonly HostSpec[]): Promise<Lab> {
    const why = labUnavailable();
    if (why) throw new Error(why);
    sweepDeadRuns();
    startReaper();
    ensureBuilt();
    const image = ensureImage();
    const lab = new Lab();
    process.once('exit', lab.onExit);
    process.once('SIGINT', lab.onSignal);
    process.once('SIGTERM', lab.onSignal);
    try {
      mkdirSync(lab.base, { recursive: true });
      must(
        'tar',
        ['-I', 'zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-xf', image, '-C', lab.base],
        { timeoutMs: 300_000 },
      );
      lab.network(specs);
      for (const spec of specs) {
        const host = new LabHost(lab, spec);
        lab.hosts.set(spec.name, host);
        host.prepare();
      }
      // One host after the other: the machine has 2 cores and boots are a few seconds each.
      for (const host of lab.hosts.values()) await host.boot();
    } catch (err) {
      const consoles = [...lab.hosts.values()]
        .map((h) => `--- ${h.name} console:\n${h.consoleTail(2000)}`)
        .join('\n');
      lab.dispose();
      throw new Error(`${(err as Error).message}${consoles ? `\n${consoles}` : ''}`);
    }
    return lab;
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`lab: no host ${name}`);
    return h;
  }

  /** The bridge namespace with br0, and one namespace per member joined to it by a veth pair. */
  private network(specs: readonly HostSpec[]): void {
    must('ip', ['netns', 'add', this.bridgeNs]);
    must('ip', ['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    must('ip', ['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
    const members = [
      { ns: this.adminNs, octet: 2 },
      ...specs.map((s) => ({ ns: `${this.tag}${s.name}`, octet: s.octet })),
    ];
    for (const [i, m] of members.entries()) {
      must('ip', ['netns', 'add', m.ns]);
      // Both ends are created inside namespaces: the machine's own interfaces are never touched.
      must('ip', [
        '-n',
        this.bridgeNs,
        'link',
        'add',
        `p${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        m.ns,
      ]);
      must('ip', ['-n', this.bridgeNs, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      must('ip', ['-n', m.ns, 'link', 'set', 'lo', 'up']);
      must('ip', ['-n', m.ns, 'addr', 'add', `${SUBNET4}.${m.octet}/24`, 'dev', 'eth0']);
      must('ip', ['-n', m.ns, 'addr', 'add', `${SUBNET6}:${m.octet}/64`, 'dev', 'eth0', 'nodad']);
      must('ip', ['-n', m.ns, 'link', 'set', 'eth0', 'up']);
    }
  }

  /**
   * One more client namespace on the lab network (named like the rest, so cleanup removes it), for
   * tests that need a second source address next to the admin's, e.g. a firewall that allows only one.
   */
  addClient(name: string, octet: number): { ns: string; ipv4: string } {
    const ns = `${this.tag}${name}`;
    must('ip', ['netns', 'add', ns]);
    must('ip', [
      '-n',
      this.bridgeNs,
      'link',
      'add',
      `c${octet}`,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      ns,
    ]);
    must('ip', ['-n', this.bridgeNs, 'link', 'set', `c${octet}`, 'master', 'br0', 'up']);
    must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    must('ip', ['-n', ns, 'addr', 'add', `${SUBNET4}.${octet}/24`, 'dev', 'eth0']);
    must('ip', ['-n', ns, 'addr', 'add', `${SUBNET6}:${octet}/64`, 'dev', 'eth0', 'nodad']);
    must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return { ns, ipv4: `${SUBNET4}.${octet}` };
  }

  /** Runs a program in a namespace made by addClient. */
  client(
    name: string,
    argv: readonly string[],
    options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
  ): CommandResult {
    return run('nsenter', [`--net=/run/netns/${this.tag}${name}`, '--', ...argv], {
      env: { ...process.env, ...options.env },
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Runs a program in the admin namespace (the machine's own binaries: docker CLI, openssl, node). */
  admin(
    argv: readonly string[],
    options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
  ): CommandResult {
    // nsenter --net, not `ip netns exec`: the latter remounts /sys, which dockerd-side tools dislike.
    return run('nsenter', [`--net=/run/netns/${this.adminNs}`, '--', ...argv], {
      env: { ...process.env, ...options.env },
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** Powers every host off and removes everything the lab created. */
  async stop(): Promise<void> {
    for (const h of this.hosts.values()) await h.poweroff().catch(() => undefined);
    this.dispose();
  }

  /** Synchronous cleanup of everything (safe to call more than once, and on exit). */
  dispose(): void {
    process.removeListener('exit', this.onExit);
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    cleanupRun(process.pid);
  }
}

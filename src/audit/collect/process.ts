/**
 * Finds the dockerd that serves a given unix socket on this host, from /proc: every process whose
 * `comm` is `dockerd`, its command line, and the socket inodes it holds open. The socket's own
 * inode (from /proc/net/unix) names the right process even when `hosts` is set in daemon.json
 * and the command line says nothing; the `-H` flags are the fallback when fds cannot be read.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { parseDockerdArgs, splitProcCmdline } from '../../daemon/cmdline.js';
import { parseDaemonHost } from '../../daemon/hosts.js';

/** A unix socket row of /proc/net/unix. */
export interface UnixSocketRow {
  inode: number;
  path: string;
  /** The socket accepts connections (`__SO_ACCEPTCON` in Flags). */
  listening: boolean;
}

/** The dockerd found for a socket. */
export interface DockerdMatch {
  pid: number;
  /** Its argv, argv[0] included. */
  args: string[];
  /** `/proc/<pid>/cmdline`. */
  where: string;
  /** How it was matched: it holds the socket open, or its `-H` flags name it. */
  matchedBy: 'socket-inode' | 'host-flag';
}

/** One dockerd process as /proc shows it. */
export interface DockerdCandidate {
  pid: number;
  args: string[];
  /** Inodes of the sockets among its open fds (empty when the fds could not be read). */
  socketInodes: ReadonlySet<number>;
}

const SO_ACCEPTCON = 0x10000;

/** Parses /proc/net/unix (`Num RefCount Protocol Flags Type St Inode Path`); rows without a path are skipped. */
export function parseProcNetUnix(text: string): UnixSocketRow[] {
  const rows: UnixSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 8) continue;
    const inode = Number(cols[6]);
    const flags = Number.parseInt(cols[3]!, 16);
    // A path may hold spaces: it is everything after the inode column.
    const path = line
      .trim()
      .replace(/^(\S+\s+){7}/, '')
      .trim();
    if (!Number.isInteger(inode) || path === '' || path.startsWith('@')) continue;
    rows.push({ inode, path, listening: (flags & SO_ACCEPTCON) !== 0 });
  }
  return rows;
}

/** The inode of `socket:[123]` (a /proc/<pid>/fd link target), or undefined for other fds. */
export function socketInodeOfLink(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/** The unix socket paths a dockerd command line listens on (`-H unix://...`), normalized. */
export function unixHostsOfArgs(args: readonly string[]): string[] {
  const parsed = parseDockerdArgs(args);
  const out: string[] = [];
  for (const raw of parsed.config.hosts ?? []) {
    try {
      const host = parseDaemonHost(raw);
      if (host.scheme === 'unix' && host.path) out.push(resolve(host.path));
    } catch {
      // an invalid -H is the config rules' business
    }
  }
  return out;
}

/**
 * Picks the dockerd serving `socketPath`: the one holding the listening socket's inode, else the
 * only one whose `-H` flags name the path. Undefined when none (or more than one by flags) fits.
 */
export function matchDockerd(
  candidates: readonly DockerdCandidate[],
  socketPath: string,
  socketInodes: ReadonlySet<number>,
): DockerdMatch | undefined {
  const byInode = candidates.find((c) => [...socketInodes].some((i) => c.socketInodes.has(i)));
  if (byInode) return toMatch(byInode, 'socket-inode');
  const target = resolve(socketPath);
  const byFlag = candidates.filter((c) => unixHostsOfArgs(c.args).includes(target));
  return byFlag.length === 1 ? toMatch(byFlag[0]!, 'host-flag') : undefined;
}

function toMatch(c: DockerdCandidate, matchedBy: DockerdMatch['matchedBy']): DockerdMatch {
  return { pid: c.pid, args: c.args, where: `/proc/${c.pid}/cmdline`, matchedBy };
}

/** The socket inodes among a process's open fds (empty when they cannot be read). */
export async function socketInodesOf(pid: number, procRoot = '/proc'): Promise<Set<number>> {
  const out = new Set<number>();
  let fds: string[];
  try {
    fds = await fs.readdir(`${procRoot}/${pid}/fd`);
  } catch {
    return out;
  }
  const links = await Promise.all(
    fds.map((fd) => fs.readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '')),
  );
  for (const link of links) {
    const inode = socketInodeOfLink(link);
    if (inode !== undefined) out.add(inode);
  }
  return out;
}

/** Every running process whose `comm` is `dockerd`, with its argv and socket inodes. */
export async function listDockerds(procRoot = '/proc'): Promise<DockerdCandidate[]> {
  const entries = await fs.readdir(procRoot).catch(() => [] as string[]);
  const found = await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e): Promise<DockerdCandidate | undefined> => {
        const pid = Number(e);
        try {
          const comm = (await fs.readFile(`${procRoot}/${pid}/comm`, 'utf8')).trim();
          if (comm !== 'dockerd') return undefined;
          const args = splitProcCmdline(await fs.readFile(`${procRoot}/${pid}/cmdline`));
          if (args.length === 0) return undefined; // exited meanwhile (or a zombie)
          return { pid, args, socketInodes: await socketInodesOf(pid, procRoot) };
        } catch {
          return undefined; // the process went away between readdir and read
        }
      }),
  );
  return found.filter((c): c is DockerdCandidate => c !== undefined);
}

/** The inodes of the listening unix sockets bound at `socketPath` (a path may be bound more than once over time). */
export function inodesOfSocketPath(rows: readonly UnixSocketRow[], socketPath: string): Set<number> {
  const target = resolve(socketPath);
  return new Set(rows.filter((r) => r.listening && resolve(r.path) === target).map((r) => r.inode));
}

/** Finds the dockerd serving the unix socket at `socketPath` on this host, or undefined. */
export async function findDockerdForSocket(
  socketPath: string,
  options: { procRoot?: string } = {},
): Promise<DockerdMatch | undefined> {
  const procRoot = options.procRoot ?? '/proc';
  const [candidates, unixText, real] = await Promise.all([
    listDockerds(procRoot),
    fs.readFile(`${procRoot}/net/unix`, 'utf8').catch(() => ''),
    fs.realpath(socketPath).catch(() => socketPath),
  ]);
  if (candidates.length === 0) return undefined;
  const rows = parseProcNetUnix(unixText);
  const inodes = new Set([...inodesOfSocketPath(rows, socketPath), ...inodesOfSocketPath(rows, real)]);
  return matchDockerd(candidates, real, inodes) ?? matchDockerd(candidates, socketPath, inodes);
}

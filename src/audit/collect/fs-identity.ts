/** Users and groups of the audited tree, from its own etc/passwd and etc/group (not this host's). */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface Identities {
  users: PasswdEntry[];
  groups: GroupEntry[];
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
}

/** Parses passwd(5) lines (`name:x:uid:gid:gecos:home:shell`); malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

/** Parses group(5) lines (`name:x:gid:user1,user2`). */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({
      name: f[0]!,
      gid,
      members: f[3]!
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    });
  }
  return out;
}

async function readOptional(path: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Reads `<root>/etc/passwd` and `<root>/etc/group`; absent files give no names. Throws on other read errors. */
export async function readIdentities(root: string): Promise<Identities> {
  const users = parsePasswd(await readOptional(join(root, 'etc/passwd')));
  const groups = parseGroup(await readOptional(join(root, 'etc/group')));
  const byUid = new Map(users.map((u) => [u.uid, u.name]));
  const byGid = new Map(groups.map((g) => [g.gid, g.name]));
  return {
    users,
    groups,
    userName: (uid) => byUid.get(uid),
    groupName: (gid) => byGid.get(gid),
  };
}

/** Everyone in a group: listed members and users whose primary group it is. */
export function groupMembers(ids: Identities, group: GroupEntry): string[] {
  const members = new Set(group.members);
  for (const u of ids.users) if (u.gid === group.gid) members.add(u.name);
  return [...members].sort();
}

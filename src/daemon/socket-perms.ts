/**
 * The unix socket's owner, group and mode (CIS Docker Benchmark 3.15/3.16: root:docker, 0660 or
 * stricter). dockerd sets them itself at start from `group` (default `docker`); dockward checks
 * what came out and puts it right when something else changed it.
 */
import { promises as fs } from 'node:fs';
import { DockwardError, describeError } from '../errors.js';

/** Said wherever dockward sets the socket group: membership is root on the host. */
export const DOCKER_GROUP_WARNING =
  'Members of the socket group are root-equivalent: anyone who can write to the docker socket can run `docker run --privileged -v /:/host` and own this host. Add only administrators to it.';

/** The mode dockerd gives its socket and the most it should ever be. */
export const SOCKET_MODE = 0o660;

export interface SocketReport {
  path: string;
  exists: boolean;
  uid?: number;
  gid?: number;
  /** Mode bits (0o660). */
  mode?: number;
  /** The group asked for (`group` in daemon.json, default docker). */
  group: string;
  /** Its gid, when the group exists. */
  expectedGid?: number;
  ok: boolean;
  problems: string[];
  /** Set when dockward changed owner, group or mode. */
  fixed?: boolean;
}

/** A group's gid from an /etc/group-style file, or a numeric group as is. */
export async function lookupGroupId(name: string, groupFile = '/etc/group'): Promise<number | undefined> {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = await fs.readFile(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** Checks a socket against root:<group> 0660. */
export async function checkSocket(
  path: string,
  group = 'docker',
  options: { groupFile?: string } = {},
): Promise<SocketReport> {
  const expectedGid = await lookupGroupId(group, options.groupFile);
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.stat(path);
  } catch {
    return {
      path,
      exists: false,
      group,
      ...(expectedGid !== undefined ? { expectedGid } : {}),
      ok: false,
      problems: [`${path} does not exist`],
    };
  }
  const mode = stat.mode & 0o7777;
  const problems: string[] = [];
  if (!stat.isSocket()) problems.push(`${path} is not a socket`);
  if (stat.uid !== 0) problems.push(`owner is uid ${stat.uid}, not root`);
  if (expectedGid === undefined) {
    problems.push(`group "${group}" does not exist, so dockerd left the socket in group ${stat.gid}`);
  } else if (stat.gid !== expectedGid) {
    problems.push(`group is gid ${stat.gid}, not ${group} (${expectedGid})`);
  }
  if ((mode & ~SOCKET_MODE) !== 0) problems.push(`mode is ${octal(mode)}, wider than ${octal(SOCKET_MODE)}`);
  return {
    path,
    exists: true,
    uid: stat.uid,
    gid: stat.gid,
    mode,
    group,
    ...(expectedGid !== undefined ? { expectedGid } : {}),
    ok: problems.length === 0,
    problems,
  };
}

/** Sets root:<group> 0660 when the socket differs (and the group exists); returns the new state. */
export async function ensureSocketPermissions(
  path: string,
  group = 'docker',
  options: { groupFile?: string } = {},
): Promise<SocketReport> {
  const before = await checkSocket(path, group, options);
  if (before.ok || !before.exists || before.expectedGid === undefined) return before;
  try {
    await fs.chown(path, 0, before.expectedGid);
    await fs.chmod(path, SOCKET_MODE);
  } catch (err) {
    throw new DockwardError(
      'DW_E_FILE',
      `cannot set root:${group} ${octal(SOCKET_MODE)} on ${path}: ${describeError(err)}`,
      {
        hint: 'Run as root.',
        cause: err,
      },
    );
  }
  const after = await checkSocket(path, group, options);
  return { ...after, fixed: true };
}

/** `0660` */
export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/**
 * The filesystem collector: everything the audit reads from files, under a root folder that
 * stands for `/` (the host itself, or `--root DIR` for an image or a fixture). Paths in the
 * facts are host paths (`/etc/docker/daemon.json`); reads happen under the root.
 *
 * Never throws: a file that should be readable and is not becomes an `error` fact (the engine
 * turns it into a failing `audit-input` finding), a file that is simply absent is recorded as
 * absent.
 */
import { type Dirent, promises as fs, type Stats } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { type ParsedCmdline, parseDockerdArgs } from '../../daemon/cmdline.js';
import {
  DEFAULT_CONFIG_FILE,
  type EffectiveConfig,
  mergeEffectiveConfig,
} from '../../daemon/effective-config.js';
import { parseDaemonHost } from '../../daemon/hosts.js';
import { analyzeDaemonJson } from '../../daemon/parse.js';
import { readDockerService } from '../../daemon/systemd-io.js';
import { dockerdArgv, parseUnitFile } from '../../daemon/systemd-unit.js';
import { describeError } from '../../errors.js';
import type { AuditFacts, CertFact, Fact, FileFact, FileRole, KeyFact } from '../model.js';
import { readAcls } from './fs-acl.js';
import { looksLikePrivateKey, type ParsedCert, parseCertificates, parsePrivateKey } from './fs-certs.js';
import { groupMembers, type Identities, readIdentities } from './fs-identity.js';

export interface FilesystemOptions {
  /** `/` for this host, or a folder standing for `/`. */
  root: string;
  /** The running dockerd's argv (argv[0] first) and where it was read (`/proc/123/cmdline`). */
  argv?: { where: string; args: string[] };
  now?: Date;
}

export type FilesystemFacts = Pick<
  AuditFacts,
  'config' | 'socketUnit' | 'files' | 'certs' | 'keys' | 'dockerGroup'
>;

/** Bounds on the walks, so an odd tree cannot make the audit slow. */
const MAX_WALK_ENTRIES = 500;
const MAX_WALK_DEPTH = 4;
const MAX_USERS = 200;
const DEFAULT_CONTAINERD_SOCK = '/run/containerd/containerd.sock';
const DEFAULT_DOCKER_SOCK = '/var/run/docker.sock';

const errorText = (err: unknown): string => describeError(err);
const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** Reads the daemon's files under `root` into audit facts. */
export async function collectFilesystemFacts(options: FilesystemOptions): Promise<FilesystemFacts> {
  const root = resolve(options.root);
  const under = (hostPath: string): string => join(root, hostPath);
  const toHost = (path: string): string => {
    const rel = relative(root, path);
    return rel.startsWith('..') ? path : `/${rel}`;
  };

  // Users and groups of the tree, for owner names and the docker group.
  let ids: Identities | undefined;
  let idsError: string | undefined;
  try {
    ids = await readIdentities(root);
  } catch (err) {
    idsError = `cannot read /etc/passwd or /etc/group: ${errorText(err)}`;
  }

  // The command line: the running process's, else the unit's effective ExecStart.
  const service = await readDockerService(root).then(
    (s) => ({ s, error: undefined }),
    (err: unknown) => ({ s: undefined, error: errorText(err) }),
  );
  const socket = await readDockerService(root, 'docker.socket').then(
    (s) => ({ s, error: undefined }),
    (err: unknown) => ({ s: undefined, error: errorText(err) }),
  );
  let flags: { where: string; parsed: ParsedCmdline } | undefined;
  if (options.argv) {
    const args = options.argv.args;
    const withProgram = args.length > 0 && !args[0]!.startsWith('-');
    flags = { where: options.argv.where, parsed: parseDockerdArgs(args, { withProgram }) };
  } else if (service.s) {
    const cmd = service.s.service.execStart.at(-1);
    if (cmd)
      flags = { where: `${toHost(cmd.path)}:${cmd.line}`, parsed: parseDockerdArgs(dockerdArgv(cmd).argv) };
  }

  const configFile = posix.resolve('/', flags?.parsed.configFile ?? DEFAULT_CONFIG_FILE);
  const config = await readEffectiveConfig(under(configFile), configFile, flags, service.error);
  const effective = config.state === 'ok' ? config.value : undefined;

  const socketUnit: FilesystemFacts['socketUnit'] = socket.error
    ? { state: 'error', reason: socket.error }
    : socket.s
      ? {
          state: 'ok',
          value: {
            path: toHost(socket.s.unit.path),
            listenStreams: listenStreams([socket.s.unit, ...socket.s.dropIns]),
          },
        }
      : { state: 'missing', reason: 'no docker.socket unit' };

  // Which file plays which role.
  const wanted: Array<{ path: string; role: FileRole }> = [];
  const add = (path: string, role: FileRole) => {
    if (!wanted.some((w) => w.path === path && w.role === role)) wanted.push({ path, role });
  };
  if (service.s)
    for (const u of [service.s.unit, ...service.s.dropIns]) add(toHost(u.path), 'docker.service');
  else add('/lib/systemd/system/docker.service', 'docker.service');
  if (socket.s) for (const u of [socket.s.unit, ...socket.s.dropIns]) add(toHost(u.path), 'docker.socket');
  else add('/lib/systemd/system/docker.socket', 'docker.socket');
  add('/etc/docker', 'etc-docker');
  add('/etc/docker/certs.d', 'certs.d');
  for (const p of await walk(under('/etc/docker/certs.d'))) add(toHost(p), 'certs.d');
  const tlsPaths = {
    tlscacert: explicitPath(effective, 'tlscacert'),
    tlscert: explicitPath(effective, 'tlscert'),
    tlskey: explicitPath(effective, 'tlskey'),
  };
  for (const [role, path] of Object.entries(tlsPaths) as Array<[FileRole, string | undefined]>)
    if (path) add(path, role);
  const sockets = unixSockets(effective);
  for (const s of sockets) add(s, 'docker.sock');
  add(configFile, 'daemon.json');
  add('/etc/default/docker', 'etc-default-docker');
  add('/etc/sysconfig/docker', 'etc-sysconfig-docker');
  const containerd = effective?.config.containerd;
  add(
    typeof containerd === 'string' && containerd.startsWith('/') ? containerd : DEFAULT_CONTAINERD_SOCK,
    'containerd.sock',
  );

  const stats = new Map<string, { st?: Stats; type?: FileFact['type']; error?: string }>();
  await Promise.all(
    [...new Set(wanted.map((w) => w.path))].map(async (p) => stats.set(p, await statPath(under(p)))),
  );
  const acls = await readAcls([...stats.entries()].filter(([, s]) => s.st).map(([p]) => under(p)));
  const files: FileFact[] = wanted.map(({ path, role }) => {
    const s = stats.get(path)!;
    const fact: FileFact = { path, role, exists: s.st !== undefined };
    if (s.error) fact.error = s.error;
    if (!s.st) return fact;
    fact.type = s.type!;
    fact.uid = s.st.uid;
    fact.gid = s.st.gid;
    const owner = ids?.userName(s.st.uid);
    const group = ids?.groupName(s.st.gid);
    if (owner !== undefined) fact.owner = owner;
    if (group !== undefined) fact.group = group;
    fact.mode = s.st.mode & 0o7777;
    const acl = acls?.get(under(path).replace(/\/+$/, ''));
    if (acl) fact.acl = acl;
    else if (acls) fact.acl = [];
    return fact;
  });

  const { certs, keys } = await readTlsMaterial(under, toHost, tlsPaths, ids);

  const dockerGroup = dockerGroupFact(
    ids,
    idsError,
    stats.get(sockets[0] ?? DEFAULT_DOCKER_SOCK)?.st,
    effective,
  );

  return {
    config,
    socketUnit,
    files: { state: 'ok', value: files },
    certs,
    keys,
    dockerGroup,
  };
}

/** daemon.json merged with the flags, every file key's source naming its line. */
async function readEffectiveConfig(
  path: string,
  hostPath: string,
  flags: { where: string; parsed: ParsedCmdline } | undefined,
  serviceError: string | undefined,
): Promise<Fact<EffectiveConfig>> {
  if (serviceError) return { state: 'error', reason: serviceError, where: 'docker.service' };
  let bytes: Buffer | undefined;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    if (errno(err) !== 'ENOENT') {
      return { state: 'error', reason: `${hostPath}: cannot read: ${errorText(err)}`, where: hostPath };
    }
  }
  let file: { path: string; config: EffectiveConfig['config']; keys: string[] } | undefined;
  let positions: Record<string, { line: number }> = {};
  if (bytes) {
    let analysis: ReturnType<typeof analyzeDaemonJson>;
    try {
      analysis = analyzeDaemonJson(bytes, { source: hostPath });
    } catch (err) {
      return { state: 'error', reason: `${hostPath}: ${errorText(err)}`, where: hostPath };
    }
    const errors = analysis.issues.filter((i) => i.severity === 'error');
    if (errors.length > 0) {
      const first = errors[0]!;
      const at = first.line !== undefined ? `:${first.line}:${first.column ?? 1}` : '';
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
      return { state: 'error', reason: `${hostPath}${at}: ${first.message}${more}`, where: hostPath };
    }
    file = { path: hostPath, config: analysis.config, keys: analysis.keyOrder };
    positions = analysis.keyPositions;
  }
  const effective = mergeEffectiveConfig({
    ...(file ? { file } : {}),
    ...(flags ? { flags } : {}),
    includeDefaults: true,
  });
  // Evidence quotes file:line, so say which line each key of the file is on.
  for (const e of effective.entries) {
    const pos = positions[e.topKey];
    if (e.kind === 'file' && pos) e.source = `file:${hostPath}:${pos.line}`;
  }
  effective.configFile = hostPath;
  return { state: 'ok', value: effective };
}

/** `ListenStream=` values in effect (an empty assignment clears the list, as in systemd). */
function listenStreams(sources: ReadonlyArray<{ path: string; text: string }>): string[] {
  let list: string[] = [];
  for (const src of sources) {
    for (const a of parseUnitFile(src.text, src.path)) {
      if (a.section !== 'Socket' || a.key !== 'ListenStream') continue;
      if (a.value.trim() === '') list = [];
      else list.push(a.value.trim());
    }
  }
  return list;
}

/** An explicitly configured absolute TLS path (dockerd's `~/.docker` defaults are not host files). */
function explicitPath(effective: EffectiveConfig | undefined, key: string): string | undefined {
  const e = effective?.entries.find((x) => x.key === key);
  if (!e || e.kind === 'default' || typeof e.value !== 'string' || !e.value.startsWith('/')) return undefined;
  return posix.normalize(e.value);
}

/** The unix sockets dockerd serves (its default when hosts names none). */
function unixSockets(effective: EffectiveConfig | undefined): string[] {
  const out: string[] = [];
  for (const raw of effective?.config.hosts ?? []) {
    try {
      const h = parseDaemonHost(raw);
      if (h.scheme === 'unix' && h.path) out.push(h.path);
    } catch {
      // an invalid entry is the checks' business
    }
  }
  return out.length > 0 ? out : [DEFAULT_DOCKER_SOCK];
}

async function statPath(path: string): Promise<{ st?: Stats; type?: FileFact['type']; error?: string }> {
  try {
    const l = await fs.lstat(path);
    // The mode that matters for a symlink is its target's (the link's own bits are ignored).
    const st = l.isSymbolicLink() ? await fs.stat(path).catch(() => l) : l;
    const type: FileFact['type'] = l.isSymbolicLink()
      ? 'symlink'
      : st.isFile()
        ? 'file'
        : st.isDirectory()
          ? 'directory'
          : st.isSocket()
            ? 'socket'
            : 'other';
    return { st, type };
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { error: errorText(err) };
  }
}

/** Files and folders below `dir` (bounded in depth and count), not following symlinks. */
async function walk(dir: string, depth = 0, out: string[] = []): Promise<string[]> {
  if (depth >= MAX_WALK_DEPTH || out.length >= MAX_WALK_ENTRIES) return out;
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (out.length >= MAX_WALK_ENTRIES) break;
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) await walk(p, depth + 1, out);
  }
  return out;
}

async function readText(path: string): Promise<{ text?: string; error?: string }> {
  try {
    return { text: await fs.readFile(path, 'utf8') };
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { error: errorText(err) };
  }
}

/** Certificates (tlscacert, tlscert and certificates next to them) and private keys found. */
async function readTlsMaterial(
  under: (p: string) => string,
  toHost: (p: string) => string,
  tls: { tlscacert?: string | undefined; tlscert?: string | undefined; tlskey?: string | undefined },
  ids: Identities | undefined,
): Promise<{ certs: Fact<CertFact[]>; keys: Fact<KeyFact[]> }> {
  const problems: string[] = [];
  const parsed: ParsedCert[] = [];
  const seen = new Set<string>();
  const readCerts = async (hostPath: string, role: CertFact['role'], quiet: boolean) => {
    if (seen.has(hostPath)) return;
    seen.add(hostPath);
    const { text, error } = await readText(under(hostPath));
    if (error) {
      if (!quiet) problems.push(`${hostPath}: cannot read: ${error}`);
      return;
    }
    if (text === undefined) return; // absent: the file rules say so
    try {
      parsed.push(...parseCertificates(text, hostPath, role));
    } catch (err) {
      if (!quiet) problems.push(`${hostPath}: not a readable PEM certificate: ${errorText(err)}`);
    }
  };
  if (tls.tlscacert) await readCerts(tls.tlscacert, 'tlscacert', false);
  if (tls.tlscert) await readCerts(tls.tlscert, 'tlscert', false);
  // Certificates next to them (a CA certificate left beside the server's, a client cert...).
  const dirs = [
    ...new Set([tls.tlscacert, tls.tlscert].filter((p): p is string => !!p).map((p) => posix.dirname(p))),
  ];
  for (const d of dirs) {
    for (const name of await listNames(under(d))) {
      if (/\.(pem|crt|cert)$/i.test(name)) await readCerts(posix.join(d, name), 'other', true);
    }
  }
  const certs: Fact<CertFact[]> =
    problems.length > 0
      ? { state: 'error', reason: problems.join('; ') }
      : { state: 'ok', value: parsed.map((p) => p.fact) };

  // Keys: tlskey, key-looking files in /etc/docker and next to the server certificate.
  const caSpkis = parsed.filter((p) => p.fact.isCa || p.fact.role === 'tlscacert').map((p) => p.spki);
  const keyPaths = new Set<string>();
  if (tls.tlskey) keyPaths.add(tls.tlskey);
  const isKeyName = (name: string) => /\.key$/i.test(name) || /key.*\.pem$/i.test(name);
  for (const p of await walk(under('/etc/docker'))) if (isKeyName(posix.basename(p))) keyPaths.add(toHost(p));
  for (const d of [tls.tlscert, tls.tlskey].filter((p): p is string => !!p).map((p) => posix.dirname(p)))
    for (const name of await listNames(under(d))) if (isKeyName(name)) keyPaths.add(posix.join(d, name));
  const keys: KeyFact[] = [];
  const keyProblems: string[] = [];
  for (const hostPath of keyPaths) {
    const { text, error } = await readText(under(hostPath));
    if (error) {
      keyProblems.push(`${hostPath}: cannot read: ${error}`);
      continue;
    }
    if (text === undefined || !looksLikePrivateKey(text)) continue;
    const key = parsePrivateKey(text);
    const isCaKey =
      (key.spki !== undefined && caSpkis.some((s) => s.equals(key.spki!))) ||
      /(^|[-_.])ca[-_.]?key/i.test(posix.basename(hostPath));
    const mode = await modeOf(under(hostPath));
    keys.push({
      path: hostPath,
      isCaKey,
      role: hostPath === tls.tlskey ? 'tlskey' : isCaKey ? 'ca-key' : 'other',
      ...(mode !== undefined ? { mode } : {}),
    });
  }
  // Client keys of the docker CLI in each user's home (and root's).
  const homes = new Set(['/root', ...(ids?.users ?? []).slice(0, MAX_USERS).map((u) => u.home)]);
  // A dockward state folder's CA key (~/.dockward/pki/ca-key.pem, or $DOCKWARD_HOME when auditing
  // this machine's own root): whoever holds it mints client certificates this daemon accepts.
  const dockwardHomes = [...homes]
    .filter((h) => h.startsWith('/') && h !== '/')
    .map((h) => posix.join(h, '.dockward'));
  const envHome = process.env['DOCKWARD_HOME'];
  if (envHome?.startsWith('/') && under('/') === '/') dockwardHomes.push(envHome);
  for (const dir of new Set(dockwardHomes)) {
    const hostPath = posix.join(dir, 'pki/ca-key.pem');
    if (keys.some((k) => k.path === hostPath)) continue;
    const { text } = await readText(under(hostPath));
    if (text === undefined || !looksLikePrivateKey(text)) continue;
    const mode = await modeOf(under(hostPath));
    keys.push({
      path: hostPath,
      isCaKey: true,
      role: 'ca-key',
      inDockwardHome: true,
      ...(mode !== undefined ? { mode } : {}),
    });
  }
  for (const home of homes) {
    if (!home.startsWith('/') || home === '/') continue;
    for (const hostPath of await clientKeyPaths(under, home)) {
      const mode = await modeOf(under(hostPath));
      keys.push({
        path: hostPath,
        isCaKey: false,
        role: 'client-key',
        ...(mode !== undefined ? { mode } : {}),
      });
    }
  }
  return {
    certs,
    keys:
      keyProblems.length > 0
        ? { state: 'error', reason: keyProblems.join('; ') }
        : { state: 'ok', value: keys },
  };
}

/** `~/.docker/key.pem`, `~/.docker/<dir>/key.pem` and context TLS keys (`contexts/tls/<id>/docker/key.pem`). */
async function clientKeyPaths(under: (p: string) => string, home: string): Promise<string[]> {
  const base = posix.join(home, '.docker');
  const out: string[] = [];
  const exists = async (p: string) => (await modeOf(under(p))) !== undefined;
  if (await exists(posix.join(base, 'key.pem'))) out.push(posix.join(base, 'key.pem'));
  for (const name of await listNames(under(base))) {
    const p = posix.join(base, name, 'key.pem');
    if (await exists(p)) out.push(p);
  }
  const ctx = posix.join(base, 'contexts/tls');
  for (const id of await listNames(under(ctx))) {
    const p = posix.join(ctx, id, 'docker/key.pem');
    if (await exists(p)) out.push(p);
  }
  return out;
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort().slice(0, MAX_WALK_ENTRIES);
  } catch {
    return [];
  }
}

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await fs.stat(path)).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** The socket's owning group (or the configured `group` when the socket is not there) and its members. */
function dockerGroupFact(
  ids: Identities | undefined,
  idsError: string | undefined,
  socketStat: Stats | undefined,
  effective: EffectiveConfig | undefined,
): Fact<{ group: string; members: string[] }> {
  if (!ids) return { state: 'error', reason: idsError ?? 'cannot read /etc/group' };
  const configured = typeof effective?.config.group === 'string' ? effective.config.group : 'docker';
  const entry = socketStat
    ? ids.groups.find((g) => g.gid === socketStat.gid)
    : ids.groups.find((g) => g.name === configured);
  if (!entry) {
    return socketStat
      ? { state: 'ok', value: { group: String(socketStat.gid), members: [] } }
      : { state: 'missing', reason: `no group "${configured}" in /etc/group` };
  }
  return { state: 'ok', value: { group: entry.name, members: groupMembers(ids, entry) } };
}

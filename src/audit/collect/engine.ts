/**
 * The live daemon through its API: `/info` (with its Warnings), `/version`, and every container,
 * stopped ones included (`/containers/json?all=1`, then `/containers/{id}/json` for each, a few
 * at a time). Also resolves where to reach it: a unix socket, or tcp with TLS material from
 * flags, `DOCKER_CERT_PATH`, or a docker context. An unreachable daemon is an `error` fact,
 * never an exception.
 */
import { readDockerContextMeta } from '../../docker/context.js';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { mapBounded } from '../../async/map-bounded.js';
import {
  describeEndpoint,
  type EngineEndpoint,
  endpointFromHost,
  engineGet,
  engineJson,
} from '../../docker/engine-client.js';
import { DockwardError, describeError } from '../../errors.js';
import { dockerConfigDir } from '../../docker/context.js';
import type { ContainerFact, EngineFact, Fact } from '../model.js';

/** TLS file paths given on the command line. */
export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Where the audited daemon answers, and how to say so. */
export interface ResolvedEndpoint {
  endpoint: EngineEndpoint;
  /** `unix:///var/run/docker.sock`, `tcp://h:2376`. */
  host: string;
  /** Where the address and TLS material came from (`--host`, `context prod`, `DOCKER_HOST`). */
  from: string;
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new DockwardError('DW_E_INPUT', `cannot read the ${what} ${path}: ${describeError(err)}`, {
      hint: 'Pass a readable PEM file (--tlscacert, --tlscert, --tlskey) or fix DOCKER_CERT_PATH.',
    });
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false,
  );
}

/** Reads the TLS material for a tcp endpoint; `ca` missing means the system's roots are not used either. */
async function tlsOf(files: TlsFiles): Promise<{ ca: string; cert?: string; key?: string } | undefined> {
  if (!files.ca && !files.cert && !files.key) return undefined;
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new DockwardError('DW_E_USAGE', '--tlscert and --tlskey go together', {
      hint: 'Pass both the client certificate and its key, or neither.',
    });
  }
  return {
    ca: files.ca ? await readPem(files.ca, 'CA certificate') : '',
    ...(files.cert ? { cert: await readPem(files.cert, 'client certificate') } : {}),
    ...(files.key ? { key: await readPem(files.key, 'client key') } : {}),
  };
}

/** The files of a `DOCKER_CERT_PATH`-style folder that exist. */
async function certFolder(dir: string): Promise<TlsFiles> {
  const out: TlsFiles = {};
  for (const [k, f] of [
    ['ca', 'ca.pem'],
    ['cert', 'cert.pem'],
    ['key', 'key.pem'],
  ] as const) {
    if (await exists(join(dir, f))) out[k] = join(dir, f);
  }
  return out;
}

/** A docker context as the CLI stores it: its endpoint and the TLS files it holds. */
export async function readDockerContext(
  name: string,
  dockerConfig: string,
): Promise<{ host: string; skipTlsVerify: boolean; tls: TlsFiles }> {
  const ctx = await readDockerContextMeta(name, dockerConfig);
  return { host: ctx.host, skipTlsVerify: ctx.skipTlsVerify, tls: await certFolder(ctx.tlsDir) };
}

/**
 * Resolves the daemon to audit: `--context`, else `--host`, else `DOCKER_HOST`, else the default
 * socket. TLS files: flags first, else `DOCKER_CERT_PATH`, else the context's own.
 */
export async function resolveEngineEndpoint(options: {
  host?: string;
  context?: string;
  tls?: TlsFiles;
  env?: NodeJS.ProcessEnv;
}): Promise<ResolvedEndpoint> {
  const env = options.env ?? process.env;
  let host: string;
  let from: string;
  let tlsFiles: TlsFiles = options.tls ?? {};
  if (options.context !== undefined && options.context !== 'default') {
    const ctx = await readDockerContext(options.context, dockerConfigDir(env));
    host = ctx.host;
    from = `context ${options.context}`;
    if (!tlsFiles.ca && !tlsFiles.cert) tlsFiles = ctx.tls;
  } else if (options.host !== undefined) {
    host = options.host;
    from = '--host';
  } else if (env['DOCKER_HOST']) {
    host = env['DOCKER_HOST'];
    from = 'DOCKER_HOST';
  } else {
    host = 'unix:///var/run/docker.sock';
    from = 'default';
  }
  let endpoint: EngineEndpoint;
  try {
    endpoint = endpointFromHost(host);
  } catch (err) {
    throw new DockwardError('DW_E_USAGE', describeError(err), {
      hint: 'Write --host unix:///var/run/docker.sock or --host tcp://HOST:PORT.',
    });
  }
  if (endpoint.kind === 'tcp') {
    if (!tlsFiles.ca && !tlsFiles.cert && env['DOCKER_CERT_PATH']) {
      tlsFiles = await certFolder(env['DOCKER_CERT_PATH']);
    }
    const tls = await tlsOf(tlsFiles);
    if (tls) endpoint = { ...endpoint, tls };
  }
  return { endpoint, host: describeEndpoint(endpoint), from };
}

/** The parts of `/containers/{id}/json` the container rules read. */
interface ContainerInspect {
  Id?: string;
  Name?: string;
  Config?: { Image?: string };
  State?: { Running?: boolean };
  Mounts?: Array<{ Type?: string; Source?: string }>;
  HostConfig?: {
    Privileged?: boolean;
    Binds?: string[] | null;
    Mounts?: Array<{ Type?: string; Source?: string }> | null;
    NetworkMode?: string;
    PidMode?: string;
    IpcMode?: string;
    UTSMode?: string;
    UsernsMode?: string;
    CapAdd?: string[] | null;
    SecurityOpt?: string[] | null;
    Devices?: Array<{ PathOnHost?: string }> | null;
  };
}

/**
 * One container's fact from its inspect document. Bind sources come from `Mounts` and also from
 * `HostConfig.Binds`/`Mounts`, so a container that was only created is judged by what it asked.
 */
export function containerFactOf(doc: ContainerInspect): ContainerFact {
  const hc = doc.HostConfig ?? {};
  const sources = new Set<string>();
  for (const m of [...(doc.Mounts ?? []), ...(hc.Mounts ?? [])]) {
    if (m.Type === 'bind' && m.Source) sources.add(m.Source);
  }
  for (const b of hc.Binds ?? []) {
    // `src:dst[:opts]`; a source without a leading / is a named volume, not a host path.
    const src = b.split(':')[0] ?? '';
    if (src.startsWith('/')) sources.add(src);
  }
  return {
    id: doc.Id ?? '',
    name: (doc.Name ?? '').replace(/^\//, ''),
    image: doc.Config?.Image ?? '',
    running: doc.State?.Running === true,
    privileged: hc.Privileged === true,
    bindSources: [...sources],
    networkMode: hc.NetworkMode ?? '',
    pidMode: hc.PidMode ?? '',
    ipcMode: hc.IpcMode ?? '',
    utsMode: hc.UTSMode ?? '',
    usernsMode: hc.UsernsMode ?? '',
    capAdd: hc.CapAdd ?? [],
    securityOpt: hc.SecurityOpt ?? [],
    devices: (hc.Devices ?? []).map((d) => d.PathOnHost ?? '').filter((p) => p !== ''),
  };
}

export interface EngineCollectOptions {
  /** Per-request deadline (default 10 s). */
  timeoutMs?: number;
  /** Container inspections in flight at once (default 8). */
  concurrency?: number;
}

/** Reads the live daemon; any failure to reach or read it becomes an `error` fact. */
export async function collectEngine(
  endpoint: EngineEndpoint,
  options: EngineCollectOptions = {},
): Promise<Fact<EngineFact>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const where = describeEndpoint(endpoint);
  try {
    const [info, version, list] = await Promise.all([
      engineJson<Record<string, unknown>>(endpoint, '/info', timeoutMs),
      engineJson<Record<string, unknown>>(endpoint, '/version', timeoutMs),
      engineJson<Array<{ Id: string }>>(endpoint, '/containers/json?all=1', timeoutMs),
    ]);
    const inspected = await mapBounded(list, options.concurrency ?? 8, async (c) => {
      const res = await engineGet(endpoint, `/containers/${encodeURIComponent(c.Id)}/json`, timeoutMs);
      if (res.status === 404) return undefined; // removed between the list and the inspect
      if (res.status !== 200) {
        throw new Error(`/containers/${c.Id}/json on ${where} answered ${res.status}: ${res.body.trim()}`);
      }
      return containerFactOf(JSON.parse(res.body) as ContainerInspect);
    });
    const containers = inspected.filter((c): c is ContainerFact => c !== undefined);
    return { state: 'ok', value: { info, version, containers } };
  } catch (err) {
    return { state: 'error', reason: `the daemon API cannot be read: ${engineErrorText(err)}`, where };
  }
}

/** A network or TLS error in words (`ECONNREFUSED`, `certificate required`). */
function engineErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const msg = describeError(err);
  return e.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

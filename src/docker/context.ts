import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DockwardError, describeError } from '../errors.js';
import { ensureDir, MODE_PRIVATE_DIR, MODE_PRIVATE_FILE, writeFileAtomic } from '../store/atomic-write.js';

/** docker CLI context names: `^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$`, and `default` is reserved. */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/;

export interface DockerContextSpec {
  name: string;
  host: string;
  description?: string;
  /** Folder with ca.pem, cert.pem, key.pem to copy into the context's TLS store. */
  certDir: string;
  /** `$DOCKER_CONFIG`, default `~/.docker`. */
  dockerConfig?: string;
}

/** `$DOCKER_CONFIG`, else `~/.docker`: where the docker CLI reads contexts. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_CONFIG'] && env['DOCKER_CONFIG'] !== ''
    ? env['DOCKER_CONFIG']
    : join(homedir(), '.docker');
}

/** Where the docker CLI keeps context NAME: the meta folder and the TLS files folder. */
export function dockerContextPaths(name: string, dockerConfig: string = dockerConfigDir()) {
  const root = join(dockerConfig, 'contexts');
  const id = createHash('sha256').update(name).digest('hex');
  return { root, id, metaDir: join(root, 'meta', id), tlsDir: join(root, 'tls', id, 'docker') };
}

/**
 * Reads context NAME in the CLI's on-disk format: its docker endpoint and its TLS folder (which
 * may hold no files). Missing or unreadable → DW_E_USAGE / DW_E_INPUT with how to fix it.
 */
export async function readDockerContextMeta(
  name: string,
  dockerConfig: string = dockerConfigDir(),
): Promise<{ host: string; skipTlsVerify: boolean; tlsDir: string }> {
  const { metaDir, tlsDir } = dockerContextPaths(name, dockerConfig);
  const metaPath = join(metaDir, 'meta.json');
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(await fs.readFile(metaPath, 'utf8')) as typeof meta;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DockwardError(
      missing ? 'DW_E_USAGE' : 'DW_E_INPUT',
      missing
        ? `no docker context "${name}" in ${dockerConfig}`
        : `cannot read docker context "${name}" (${metaPath}): ${describeError(err)}`,
      { hint: 'List contexts with `docker context ls`; set DOCKER_CONFIG if they live elsewhere.' },
    );
  }
  const host = meta.Endpoints?.docker?.Host;
  if (typeof host !== 'string' || host === '') {
    throw new DockwardError('DW_E_INPUT', `docker context "${name}" has no docker endpoint (${metaPath})`, {
      hint: 'Recreate it with `docker context create NAME --docker host=...`.',
    });
  }
  return { host, skipTlsVerify: meta.Endpoints?.docker?.SkipTLSVerify === true, tlsDir };
}

/** True while context NAME exists (a `docker context rm` removes its meta folder). */
export async function dockerContextExists(name: string, dockerConfig: string): Promise<boolean> {
  return fs
    .access(join(dockerContextPaths(name, dockerConfig).metaDir, 'meta.json'))
    .then(() => true)
    .catch(() => false);
}

/**
 * Writes a docker context in the CLI's own on-disk format: `contexts/meta/<sha256(name)>/meta.json`
 * and `contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem` (0700 folders, 0600 files). The CLI
 * copies certificates at create time too, so a renewed certificate means writing it again.
 */
export async function writeDockerContext(
  spec: DockerContextSpec,
): Promise<{ metaPath: string; tlsDir: string }> {
  if (!CONTEXT_NAME.test(spec.name) || spec.name === 'default') {
    throw new DockwardError('DW_E_NAME_INVALID', `"${spec.name}" cannot be a docker context name`, {
      hint: 'Use letters, digits, "_", ".", "+" or "-" (not "default").',
    });
  }
  const { root, id, metaDir, tlsDir } = dockerContextPaths(spec.name, spec.dockerConfig);
  await ensureDir(metaDir, MODE_PRIVATE_DIR);
  await ensureDir(join(root, 'tls', id), MODE_PRIVATE_DIR);
  await ensureDir(tlsDir, MODE_PRIVATE_DIR);
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) {
    await writeFileAtomic(join(tlsDir, f), await fs.readFile(join(spec.certDir, f)), {
      mode: MODE_PRIVATE_FILE,
    });
  }
  const meta = {
    Name: spec.name,
    Metadata: { Description: spec.description ?? 'written by dockward' },
    Endpoints: { docker: { Host: spec.host, SkipTLSVerify: false } },
  };
  const metaPath = join(metaDir, 'meta.json');
  await writeFileAtomic(metaPath, JSON.stringify(meta), { mode: MODE_PRIVATE_FILE });
  return { metaPath, tlsDir };
}

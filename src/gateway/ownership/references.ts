/**
 * The Docker objects a request names: in its path (`/containers/{id}/...`), its query
 * (`/commit?container=`) or its body (`container:X` namespace modes, `VolumesFrom`, named
 * volumes in `Binds` and `Mounts`, `Links`, networks in `NetworkMode` and
 * `NetworkingConfig.EndpointsConfig`, a network connect's `Container`). Pure: the
 * ownership stage looks each one up. A request naming an object a role may not touch is refused
 * whatever else it does, so every place dockerd resolves a name must be listed here.
 */

export type ObjectKind = 'container' | 'volume' | 'network' | 'exec' | 'image';

export interface ObjectRef {
  kind: ObjectKind;
  /** The name, id or id prefix as the client wrote it. */
  ref: string;
  /** Where the request names it, for the refusal (`path`, `HostConfig.PidMode`, ...). */
  via: string;
  /** A named volume a container mounts: dockerd creates it when missing. */
  createIfMissing?: boolean;
  /**
   * Images are one shared namespace (pulled images carry no label): only an image another
   * identity built (labelled) is refused; an unlabelled one follows the policy alone.
   */
  sharedIfUnlabelled?: boolean;
  /** A name that may not exist yet (a tag's target). */
  missingOk?: boolean;
}

/** The path parameter that names the object, by endpoint area. */
const PATH_OBJECT: Readonly<Record<string, { param: string; kind: ObjectKind }>> = {
  containers: { param: 'id', kind: 'container' },
  exec: { param: 'id', kind: 'exec' },
  volumes: { param: 'name', kind: 'volume' },
  networks: { param: 'id', kind: 'network' },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** Network modes that name no network object (`default` is the daemon's own default). */
const NETWORK_MODES_NOT_NAMED: ReadonlySet<string> = new Set(['', 'default', 'none', 'host']);

/**
 * The networks a create body's `NetworkingConfig.EndpointsConfig` attaches (its keys, as dockerd
 * resolves them: name, id or id prefix). `host` is a network here unless the network mode is
 * host already (the docker CLI sends both): attaching it to a container of another mode is not
 * something a client should reach past the hostNamespaces rule.
 */
export function endpointsConfigRefs(body: Record<string, unknown>): ObjectRef[] {
  const net = body.NetworkingConfig;
  if (!isRecord(net) || !isRecord(net.EndpointsConfig)) return [];
  const mode = isRecord(body.HostConfig) ? body.HostConfig.NetworkMode : undefined;
  const out: ObjectRef[] = [];
  for (const name of Object.keys(net.EndpointsConfig)) {
    if (name === mode && NETWORK_MODES_NOT_NAMED.has(name)) continue;
    if (name === '' || name === 'default' || name === 'none') continue;
    out.push({ kind: 'network', ref: name, via: 'NetworkingConfig.EndpointsConfig' });
  }
  return out;
}

/** The references a HostConfig makes to other containers, networks and named volumes. */
export function hostConfigRefs(host: unknown, at: string): ObjectRef[] {
  if (!isRecord(host)) return [];
  const out: ObjectRef[] = [];
  for (const mode of ['PidMode', 'IpcMode', 'NetworkMode'] as const) {
    const v = host[mode];
    // moby runconfig: `container:<name|id>` joins that container's namespace.
    if (typeof v === 'string' && v.startsWith('container:'))
      out.push({ kind: 'container', ref: v.slice('container:'.length), via: `${at}.${mode}` });
  }
  // Any other network mode but the daemon's default, `none` and `host` (host power: the policy's
  // hostNamespaces decides) names a network: `bridge` too, which the check lets through only when
  // it is dockerd's own.
  const mode = host.NetworkMode;
  if (typeof mode === 'string' && !mode.startsWith('container:') && !NETWORK_MODES_NOT_NAMED.has(mode))
    out.push({ kind: 'network', ref: mode, via: `${at}.NetworkMode` });
  for (const v of strings(host.VolumesFrom)) {
    // `name[:ro|rw]`
    const name = v.replace(/:(ro|rw)$/, '');
    out.push({ kind: 'container', ref: name, via: `${at}.VolumesFrom` });
  }
  for (const v of strings(host.Links)) {
    // `name:alias`; dockerd also accepts a leading "/"
    const name = v.split(':')[0]!.replace(/^\//, '');
    out.push({ kind: 'container', ref: name, via: `${at}.Links` });
  }
  for (const v of strings(host.Binds)) {
    // `source:target[:opts]`: a source that is not an absolute path is a named volume.
    const parts = v.split(':');
    if (parts.length >= 2 && parts[0] !== '' && !parts[0]!.startsWith('/'))
      out.push({ kind: 'volume', ref: parts[0]!, via: `${at}.Binds`, createIfMissing: true });
  }
  if (Array.isArray(host.Mounts)) {
    for (const m of host.Mounts) {
      if (!isRecord(m)) continue;
      const type = typeof m.Type === 'string' ? m.Type.toLowerCase() : '';
      if (type === 'volume' && typeof m.Source === 'string' && m.Source !== '')
        out.push({ kind: 'volume', ref: m.Source, via: `${at}.Mounts`, createIfMissing: true });
    }
  }
  return out;
}

/** Image writes checked against a built image's owner label (`image rm`, `tag`, `push`). */
const IMAGE_WRITES: ReadonlySet<string> = new Set(['image.delete', 'image.tag', 'image.push']);

/** Every object a request names. */
export function objectRefs(
  endpoint: { name: string; area: string },
  params: Readonly<Record<string, string>>,
  query: URLSearchParams,
  body: unknown,
): ObjectRef[] {
  const out: ObjectRef[] = [];
  const inPath = PATH_OBJECT[endpoint.area];
  const named = inPath ? params[inPath.param] : undefined;
  if (inPath && named !== undefined && named !== '') out.push({ kind: inPath.kind, ref: named, via: 'path' });
  if (IMAGE_WRITES.has(endpoint.name) && params.name) {
    out.push({ kind: 'image', ref: params.name, via: 'path', sharedIfUnlabelled: true });
    const repo = query.get('repo');
    if (endpoint.name === 'image.tag' && repo) {
      const tag = query.get('tag');
      out.push({
        kind: 'image',
        ref: tag ? `${repo}:${tag}` : repo,
        via: 'query repo',
        sharedIfUnlabelled: true,
        missingOk: true,
      });
    }
  }
  if (endpoint.name === 'image.commit') {
    const c = query.get('container');
    if (c) out.push({ kind: 'container', ref: c, via: 'query container' });
  }
  if (isRecord(body)) {
    if (endpoint.name === 'container.create') {
      out.push(...hostConfigRefs(body.HostConfig, 'HostConfig'), ...endpointsConfigRefs(body));
    }
    // Below API 1.24 a start body is host configuration (see canonical-body.ts).
    if (endpoint.name === 'container.start') out.push(...hostConfigRefs(body, 'body'));
    if (
      (endpoint.name === 'network.connect' || endpoint.name === 'network.disconnect') &&
      typeof body.Container === 'string'
    )
      out.push({ kind: 'container', ref: body.Container, via: 'body Container' });
  }
  return out;
}

/** Endpoints whose body names objects: the gateway reads and canonicalizes it for `own` roles. */
export const BODY_REFERENCES: ReadonlySet<string> = new Set([
  'container.create',
  'container.start',
  'network.connect',
  'network.disconnect',
]);

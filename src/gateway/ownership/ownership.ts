/**
 * Ownership checks for roles limited to their own objects (`own: true`): each object a request
 * names is looked up through the upstream socket (cached while the events watcher is up) and its
 * owner label compared with the client's identity. A missing label is "not yours": objects made
 * before the gateway labelled, or by admin without a label, belong to admin alone.
 */
import { text as readText } from 'node:stream/consumers';
import type { Logger } from 'pino';
import { DockwardError, describeError } from '../../errors.js';
import { encodePath } from '../canonical-request.js';
import type { Upstream } from '../upstream.js';
import { EventsWatcher } from './events-watcher.js';
import { OWNER_LABEL } from './owner-label.js';
import { type ObjectFacts, OwnerCache } from './owner-cache.js';
import type { ObjectKind, ObjectRef } from './references.js';

/** How the gateway asks dockerd: method, path, optional JSON body → status and parsed JSON. */
export type DockerCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; json: unknown }>;

/** A DockerCall over the gateway's upstream pool. */
export function upstreamCall(upstream: Upstream): DockerCall {
  return async (method, path, body) => {
    const res = await upstream.request({
      method,
      path,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await readText(res.body);
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json };
  };
}

const LOOKUP_PATH: Readonly<Record<ObjectKind, (ref: string) => string>> = {
  container: (ref) => `/containers/${encodePath(ref)}/json`,
  volume: (ref) => `/volumes/${encodePath(ref)}`,
  network: (ref) => `/networks/${encodePath(ref)}`,
  exec: (ref) => `/exec/${encodePath(ref)}/json`,
  image: (ref) => `/images/${encodePath(ref)}/json`,
};

/** dockerd's own wording for a missing object, so clients treat it as "not found". */
const NOT_FOUND: Readonly<Record<ObjectKind, string>> = {
  container: 'No such container',
  volume: 'get {}: no such volume',
  network: 'network {} not found',
  exec: 'No such exec instance',
  image: 'No such image',
};

function rec(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The facts an inspect answer gives. */
export function factsOf(kind: ObjectKind, json: unknown): ObjectFacts {
  const j = rec(json);
  switch (kind) {
    case 'container': {
      const owner = str(rec(rec(j.Config).Labels)[OWNER_LABEL]);
      const name = str(j.Name)?.replace(/^\//, '');
      const id = str(j.Id);
      return { exists: true, ...(id ? { id } : {}), ...(name ? { name } : {}), ...(owner ? { owner } : {}) };
    }
    case 'image': {
      const owner = str(rec(rec(j.Config).Labels)[OWNER_LABEL]);
      const id = str(j.Id);
      return { exists: true, ...(id ? { id } : {}), ...(owner ? { owner } : {}) };
    }
    case 'volume':
    case 'network': {
      const owner = str(rec(j.Labels)[OWNER_LABEL]);
      const name = str(j.Name);
      const id = str(j.Id) ?? name;
      const predefined = kind === 'network' && owner === undefined && isPredefinedNetwork(j);
      return {
        exists: true,
        ...(id ? { id } : {}),
        ...(name ? { name } : {}),
        ...(owner ? { owner } : {}),
        ...(predefined ? { predefined } : {}),
      };
    }
    case 'exec': {
      const id = str(j.ID);
      const containerId = str(j.ContainerID);
      return { exists: true, ...(id ? { id } : {}), ...(containerId ? { containerId } : {}) };
    }
  }
}

/**
 * dockerd's own networks, by what they are rather than their name alone (a daemon started with
 * `--bridge=none` has no `bridge`, and an admin could then create one by that name): `none` is the
 * only network of the `null` driver, the default bridge says so in its options. `host` is not
 * here: joining the host's network is host power.
 */
function isPredefinedNetwork(j: Record<string, unknown>): boolean {
  if (j.Name === 'none') return j.Driver === 'null';
  if (j.Name === 'bridge')
    return j.Driver === 'bridge' && rec(j.Options)['com.docker.network.bridge.default_bridge'] === 'true';
  return false;
}

export class Ownership {
  readonly cache: OwnerCache;
  private readonly watcher: EventsWatcher | undefined;

  constructor(
    private readonly call: DockerCall,
    options: { upstream?: Upstream; logger?: Logger; cache?: OwnerCache } = {},
  ) {
    this.cache = options.cache ?? new OwnerCache();
    if (options.upstream && options.logger)
      this.watcher = new EventsWatcher(options.upstream, this.cache, options.logger);
  }

  static forUpstream(upstream: Upstream, logger: Logger): Ownership {
    return new Ownership(upstreamCall(upstream), { upstream, logger });
  }

  start(): void {
    this.watcher?.start();
  }

  stop(): void {
    this.watcher?.stop();
  }

  /** What dockerd says about one object (from the cache while the watcher is up). */
  async lookup(kind: ObjectKind, ref: string): Promise<ObjectFacts> {
    const cached = this.cache.get(kind, ref);
    if (cached) return cached;
    const token = this.cache.begin();
    let res: { status: number; json: unknown };
    try {
      res = await this.call('GET', LOOKUP_PATH[kind](ref));
    } catch (err) {
      throw lookupFailed(kind, ref, describeError(err));
    }
    if (res.status === 404) return { exists: false };
    if (res.status !== 200) throw lookupFailed(kind, ref, `dockerd answered ${res.status}`);
    const facts = factsOf(kind, res.json);
    this.cache.store(kind, ref, facts, token);
    return facts;
  }

  /**
   * Refuses (a DockwardError) when any object named is not `owner`'s; undefined when all are.
   * A named volume a container would mount and that does not exist yet is created here, labelled,
   * since dockerd would otherwise create it unlabelled (and then nobody but admin could use it).
   */
  async check(refs: readonly ObjectRef[], owner: string): Promise<DockwardError | undefined> {
    for (const r of refs) {
      let facts = await this.lookup(r.kind, r.ref);
      let kind = r.kind;
      let shown = r.ref;
      if (r.kind === 'exec') {
        if (!facts.exists || !facts.containerId) return notFound('exec', r.ref);
        kind = 'container';
        facts = await this.lookup('container', facts.containerId);
        shown = `${facts.name ?? r.ref} (of exec ${r.ref.slice(0, 12)})`;
      }
      if (!facts.exists && r.createIfMissing && kind === 'volume')
        facts = await this.createVolume(r.ref, owner);
      if (!facts.exists) {
        if (r.missingOk) continue;
        return notFound(kind, r.ref);
      }
      if (r.sharedIfUnlabelled && facts.owner === undefined) continue;
      if (kind === 'network' && facts.predefined) continue;
      if (facts.owner !== owner) {
        const where = r.via === 'path' ? '' : ` (named in ${r.via})`;
        const whose =
          facts.owner === undefined
            ? 'belongs to another identity (it has no owner label: only admin may use it)'
            : 'belongs to another identity';
        return new DockwardError('DW_E_DENIED', `${kind} ${shown}${where} ${whose}`, {
          hint: `this role may use only objects it created (label ${OWNER_LABEL}=${owner})`,
        });
      }
    }
    return undefined;
  }

  private async createVolume(name: string, owner: string): Promise<ObjectFacts> {
    let res: { status: number; json: unknown };
    try {
      res = await this.call('POST', '/volumes/create', { Name: name, Labels: { [OWNER_LABEL]: owner } });
    } catch (err) {
      throw lookupFailed('volume', name, describeError(err));
    }
    if (res.status !== 201 && res.status !== 200)
      throw lookupFailed('volume', name, `creating it, dockerd answered ${res.status}`);
    // Another client may have made it first: the answer says whose it is.
    return factsOf('volume', res.json);
  }
}

function notFound(kind: ObjectKind, ref: string): DockwardError {
  const text = NOT_FOUND[kind];
  return new DockwardError(
    'DW_E_NOT_FOUND',
    text.includes('{}') ? text.replace('{}', ref) : `${text}: ${ref}`,
  );
}

function lookupFailed(kind: ObjectKind, ref: string, why: string): DockwardError {
  return new DockwardError('DW_E_UPSTREAM', `cannot check who owns ${kind} ${ref}: ${why}`, {
    hint: 'the gateway refuses what it cannot check; is dockerd up?',
  });
}

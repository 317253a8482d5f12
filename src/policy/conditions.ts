/**
 * Rule conditions: what a policy can ask about a request's canonical body and query. Each
 * condition knows the endpoints where it can be checked and whether it needs the body there;
 * compiled once, each is a small function from the request to a verdict with a detail that
 * ends up in the denial message.
 */
import type { z } from 'zod';
import { CANONICAL } from './canonical-body.js';
import type { DecisionInput } from './decision.js';
import { isGlob, nameGlob, segmentGlob } from './glob.js';
import { normalizeImagePattern, parseImageRef } from './image-ref.js';
// Types only: the zod schemas validate policy files (schema.ts); evaluating needs no zod.
import type { CONDITION_PARAMS } from './schema.js';

/** The outcome of one condition: holds, does not hold, or cannot be known (no body). */
export interface Verdict {
  readonly holds: boolean | undefined;
  readonly detail: string;
}

export type ConditionFn = (input: DecisionInput) => Verdict;

/** Where a condition reads its facts at an endpoint. */
export type FactSource = 'body' | 'query';

export const LINUX_CAPABILITIES = [
  'ALL',
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'SYSLOG',
  'WAKE_ALARM',
] as const;

/** The capabilities Docker grants every container (moby `oci/caps` defaults). */
export const DOCKER_DEFAULT_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
] as const;

export const NAMESPACES = ['network', 'pid', 'ipc', 'uts', 'userns', 'cgroupns'] as const;
export const CONFINEMENTS = ['seccomp', 'apparmor', 'label', 'systempaths'] as const;

/** dockerd upper-cases capability names and adds `CAP_`; compare without the prefix. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  return upper.startsWith('CAP_') ? upper.slice(4) : upper;
}

/** Lexically cleans an absolute path (`/var//run/../run/x` -> `/var/run/x`); others stay as they are. */
export function normalizeHostPath(path: string): string {
  if (!path.startsWith('/')) return path;
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * True when mounting `source` exposes `listed`: the source is the listed path, below it, or a
 * parent of it (`/run` exposes `/run/docker.sock`, `/` exposes everything). Both are cleaned.
 */
export function overlaps(source: string, listed: string): boolean {
  return isUnder(source, listed) || isUnder(listed, source);
}

// --- reading the canonical body ---------------------------------------------------------

type Obj = Record<string, unknown>;

function asObj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/**
 * A field of the canonical body. The canonical body has canonical names already; a
 * case-insensitive fallback keeps the facts right for a body that skipped canonicalization.
 */
function get(o: Obj | undefined, name: string): unknown {
  if (!o) return undefined;
  const v = o[name];
  if (v !== undefined || (o as { [CANONICAL]?: boolean })[CANONICAL]) return v;
  const upper = name.toUpperCase();
  for (const k in o) if (k.length === name.length && k.toUpperCase() === upper) return o[k];
  return undefined;
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function items(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function hostConfig(body: Obj): Obj | undefined {
  return asObj(get(body, 'HostConfig'));
}

/** Query values for a parameter, names compared case-insensitively (a superset of Go's exact match). */
function queryValues(query: URLSearchParams, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of query) if (k.toLowerCase() === lower) out.push(v);
  return out;
}

export interface HostMount {
  source: string;
  via: string;
}

/** True when local-driver volume options mount a host path or device (`o=bind`, `device=...`). */
function driverOptsMount(driver: string, opts: Obj | undefined, via: string): HostMount | undefined {
  if (!opts) return undefined;
  const d = driver.toLowerCase();
  // Other drivers are plugins with options of their own; only the local driver mounts host paths.
  if (d !== '' && d !== 'local') return undefined;
  const o = str(get(opts, 'o'));
  const device = str(get(opts, 'device'));
  const type = str(get(opts, 'type')).toLowerCase();
  const bind = o.split(',').some((x) => /^r?bind$/i.test(x.trim()));
  if (bind || (device !== '' && type !== 'tmpfs')) {
    const what = bind ? `o=${o}` : `type=${type || '(none)'}`;
    return {
      source: normalizeHostPath(device || '?'),
      via: `${via} (${what}, device=${device || '(none)'})`,
    };
  }
  return undefined;
}

/** Host paths in a list of mount.Mount (a container's `HostConfig.Mounts`, a service's `ContainerSpec.Mounts`). */
function mountListHostMounts(list: unknown, prefix: string): HostMount[] {
  const out: HostMount[] = [];
  items(list).forEach((item, i) => {
    const m = asObj(item);
    if (!m) return;
    const type = str(get(m, 'Type')).toLowerCase();
    const via = `${prefix}[${i}]`;
    if (type === 'volume') {
      const dc = asObj(get(asObj(get(m, 'VolumeOptions')), 'DriverConfig'));
      const vm = driverOptsMount(str(get(dc, 'Name')), asObj(get(dc, 'Options')), `${via} volume options`);
      if (vm) out.push(vm);
      return;
    }
    if (type === 'tmpfs' || type === 'npipe' || type === 'cluster') return;
    // "bind", and any type dockerd does not know (it would refuse it): count it as a host path.
    out.push({ source: normalizeHostPath(str(get(m, 'Source'))), via: `${via} type=${type || '(none)'}` });
  });
  return out;
}

/** Every host path a container create, volume create or service create/update body would mount. */
export function hostMountsOf(endpoint: string, body: Obj): HostMount[] {
  const out: HostMount[] = [];
  if (endpoint === 'service.create' || endpoint === 'service.update') {
    // Each task of the service mounts these on whichever node runs it.
    const spec = asObj(get(asObj(get(body, 'TaskTemplate')), 'ContainerSpec'));
    return mountListHostMounts(get(spec, 'Mounts'), 'TaskTemplate.ContainerSpec.Mounts');
  }
  if (endpoint === 'volume.create') {
    const m = driverOptsMount(
      str(get(body, 'Driver')),
      asObj(get(body, 'DriverOpts')),
      'volume driver options',
    );
    if (m) out.push(m);
    return out;
  }
  const hc = hostConfig(body);
  strings(get(hc, 'Binds')).forEach((bind, i) => {
    // "src:dst[:mode]": an absolute source is a host path (a bare name is a named volume).
    const parts = bind.split(':');
    if (parts.length >= 2 && parts[0]!.startsWith('/')) {
      out.push({ source: normalizeHostPath(parts[0]!), via: `HostConfig.Binds[${i}] "${bind}"` });
    }
  });
  out.push(...mountListHostMounts(get(hc, 'Mounts'), 'HostConfig.Mounts'));
  return out;
}

function isHostMode(mode: string): boolean {
  // dockerd's IsHost() checks "host" (and for some modes "host:..."); compare loosely.
  if (mode.length < 4 || (mode.length > 4 && mode[4] !== ':')) return false;
  return mode.slice(0, 4).toLowerCase() === 'host';
}

const NAMESPACE_FIELD: Record<(typeof NAMESPACES)[number], string> = {
  network: 'NetworkMode',
  pid: 'PidMode',
  ipc: 'IpcMode',
  uts: 'UTSMode',
  userns: 'UsernsMode',
  cgroupns: 'CgroupnsMode',
};

/** Security options that switch a confinement off, as "kind: why". */
export function unconfinedOf(body: Obj): { kind: (typeof CONFINEMENTS)[number]; why: string }[] {
  const hc = hostConfig(body);
  const out: { kind: (typeof CONFINEMENTS)[number]; why: string }[] = [];
  for (const opt of strings(get(hc, 'SecurityOpt'))) {
    if (opt.trim().toLowerCase() === 'disable') {
      out.push({ kind: 'label', why: `SecurityOpt "${opt}"` });
      continue;
    }
    // dockerd splits on "=", or on ":" (the deprecated form) when there is no "=".
    const sep = opt.includes('=') ? '=' : ':';
    const at = opt.indexOf(sep);
    if (at === -1) continue;
    const key = opt.slice(0, at).trim().toLowerCase();
    const value = opt.slice(at + 1).trim();
    const v = value.toLowerCase();
    const why = `SecurityOpt "${opt.length > 60 ? `${opt.slice(0, 57)}...` : opt}"`;
    // A custom seccomp profile is JSON dockward cannot judge: treated like unconfined.
    if (key === 'seccomp' && v !== 'builtin' && v !== 'default') out.push({ kind: 'seccomp', why });
    if (key === 'apparmor' && v === 'unconfined') out.push({ kind: 'apparmor', why });
    if (key === 'label' && (v === 'disable' || v.startsWith('type:'))) out.push({ kind: 'label', why });
    if (key === 'systempaths' && v === 'unconfined') out.push({ kind: 'systempaths', why });
  }
  // `--security-opt systempaths=unconfined` reaches the API as empty MaskedPaths/ReadonlyPaths.
  for (const field of ['MaskedPaths', 'ReadonlyPaths']) {
    if (Array.isArray(get(hc, field))) {
      out.push({ kind: 'systempaths', why: `HostConfig.${field} replaces the masked /proc and /sys paths` });
    }
  }
  return out;
}

// --- the condition table (parameters validated by CONDITION_PARAMS in schema.ts) -----------

export type ConditionKey = keyof typeof CONDITION_PARAMS;
export type ConditionParams = { [K in ConditionKey]?: z.output<(typeof CONDITION_PARAMS)[K]> };

interface ConditionDef<K extends ConditionKey> {
  /** Endpoint name -> where the facts come from; undefined means every endpoint, from the query. */
  endpoints?: ReadonlyMap<string, FactSource>;
  compile(param: z.output<(typeof CONDITION_PARAMS)[K]>): (input: DecisionInput, body: Obj) => Verdict;
}

const body = (...names: string[]) => new Map(names.map((n) => [n, 'body' as FactSource]));

function yes(detail: string): Verdict {
  return { holds: true, detail };
}
function no(detail: string): Verdict {
  return { holds: false, detail };
}
/** A fact that is on or off, for a condition written `key: true` or `key: false`. */
function flag(want: boolean, fact: string | undefined, absent: string): Verdict {
  return { holds: (fact !== undefined) === want, detail: fact ?? absent };
}

const DEFS: { [K in ConditionKey]: ConditionDef<K> } = {
  privileged: {
    endpoints: body('container.create', 'container.exec'),
    compile: (want) => (input, b) => {
      const privileged =
        input.endpoint.name === 'container.exec'
          ? get(b, 'Privileged') === true
          : get(hostConfig(b), 'Privileged') === true;
      const what =
        input.endpoint.name === 'container.exec' ? 'Privileged exec' : 'HostConfig.Privileged is true';
      return flag(want, privileged ? what : undefined, 'not privileged');
    },
  },
  capAdd: {
    endpoints: body('container.create'),
    compile: (param) => {
      let test: (cap: string) => boolean;
      if (param === 'any') test = () => true;
      else if (Array.isArray(param)) {
        const set = new Set(param);
        test = (c) => set.has(c);
      } else {
        const allowed = new Set<string>(
          param.except === 'docker-default' ? DOCKER_DEFAULT_CAPABILITIES : param.except,
        );
        test = (c) => !allowed.has(c);
      }
      const beyond = Array.isArray(param) || param === 'any' ? '' : ' beyond the allowed set';
      return (_input, b) => {
        const hc = hostConfig(b);
        const caps = [...strings(get(hc, 'CapAdd')), ...strings(get(hc, 'Capabilities'))].map(
          normalizeCapability,
        );
        const hit = caps.filter(test);
        return hit.length > 0
          ? yes(`adds capabilit${hit.length > 1 ? 'ies' : 'y'} ${hit.join(', ')}${beyond}`)
          : no('adds no such capability');
      };
    },
  },
  devices: {
    endpoints: body('container.create', 'container.update'),
    compile: (want) => (input, b) => {
      const res = input.endpoint.name === 'container.update' ? b : hostConfig(b);
      const prefix = input.endpoint.name === 'container.update' ? '' : 'HostConfig.';
      let fact: string | undefined;
      const devices = items(get(res, 'Devices'));
      if (devices.length > 0) {
        const paths = devices.map((d) => str(get(asObj(d), 'PathOnHost')) || '?');
        fact = `${prefix}Devices maps ${paths.join(', ')}`;
      } else if (items(get(res, 'DeviceCgroupRules')).length > 0) {
        fact = `${prefix}DeviceCgroupRules opens device access`;
      } else if (items(get(res, 'DeviceRequests')).length > 0) {
        fact = `${prefix}DeviceRequests asks for devices`;
      }
      return flag(want, fact, 'no devices');
    },
  },
  hostMounts: {
    endpoints: body('container.create', 'volume.create', 'service.create', 'service.update'),
    compile: (param) => (input, b) => {
      const mounts = hostMountsOf(input.endpoint.name, b);
      const hit =
        param === 'any'
          ? mounts
          : mounts.filter((m) => m.source.startsWith('/') && param.some((p) => overlaps(m.source, p)));
      return hit.length > 0
        ? yes(`mounts host path ${hit[0]!.source} via ${hit[0]!.via}`)
        : no('mounts no such host path');
    },
  },
  volumesFrom: {
    endpoints: body('container.create'),
    compile: (want) => (_input, b) => {
      const from = strings(get(hostConfig(b), 'VolumesFrom'));
      return flag(
        want,
        from.length > 0 ? `HostConfig.VolumesFrom copies the mounts of ${from.join(', ')}` : undefined,
        'no VolumesFrom',
      );
    },
  },
  hostNamespaces: {
    endpoints: new Map<string, FactSource>([
      ['container.create', 'body'],
      ['build', 'query'],
    ]),
    compile: (param) => {
      const wanted = new Set<string>(param === 'any' ? NAMESPACES : param);
      return (input, b) => {
        if (input.endpoint.name === 'build') {
          if (!wanted.has('network')) return no('build shares no host namespace');
          const host = queryValues(input.query, 'networkmode').find(isHostMode);
          return host !== undefined ? yes(`build networkmode=${host}`) : no('build uses no host network');
        }
        const hc = hostConfig(b);
        for (const ns of NAMESPACES) {
          if (!wanted.has(ns)) continue;
          const mode = str(get(hc, NAMESPACE_FIELD[ns]));
          if (isHostMode(mode)) return yes(`HostConfig.${NAMESPACE_FIELD[ns]} is "${mode}"`);
        }
        return no('shares no such host namespace');
      };
    },
  },
  unconfined: {
    endpoints: body('container.create'),
    compile: (param) => {
      const wanted = new Set<string>(param === 'any' ? CONFINEMENTS : param);
      return (_input, b) => {
        const hit = unconfinedOf(b).find((u) => wanted.has(u.kind));
        return hit ? yes(`${hit.kind} is switched off by ${hit.why}`) : no('confinement is kept');
      };
    },
  },
  execUser: {
    endpoints: body('container.exec'),
    compile: (param) => {
      const names = new Set(param);
      return (_input, b) => {
        const user = str(get(b, 'User'));
        const name = user.split(':')[0]!;
        const root = name === 'root' || name === '0';
        if (name !== '' && (names.has(name) || (root && names.has('root')))) {
          return yes(`exec runs as user "${user}"`);
        }
        return no(user === '' ? "exec runs as the container's default user" : `exec runs as user "${user}"`);
      };
    },
  },
  image: {
    endpoints: new Map<string, FactSource>([
      ['container.create', 'body'],
      ['image.create', 'query'],
    ]),
    compile: (param) => {
      const patterns = param.map((p) => segmentGlob(normalizeImagePattern(p)));
      // Parsing a reference costs more than the rest of a decision; clients repeat a few names.
      const parsedRefs = new Map<string, ReturnType<typeof parseImageRef>>();
      const parse = (ref: string) => {
        let parsed = parsedRefs.get(ref);
        if (!parsed) {
          parsed = parseImageRef(ref);
          if (parsedRefs.size >= 1024) parsedRefs.clear();
          parsedRefs.set(ref, parsed);
        }
        return parsed;
      };
      return (input, b) => {
        let refs: string[];
        if (input.endpoint.name === 'image.create') {
          const from = input.query.getAll('fromImage');
          refs = from.length > 0 ? from : input.query.getAll('repo');
        } else {
          const image = get(b, 'Image');
          refs = typeof image === 'string' ? [image] : [];
        }
        if (refs.length === 0) return no('the request names no image');
        // Every image the request could mean must match (a second fromImage cannot sneak by).
        for (const ref of refs) {
          const parsed = parse(ref);
          if (parsed.kind === 'id') return no(`image "${ref}" is an image ID, not a repository name`);
          if (parsed.kind === 'invalid') return no(parsed.reason);
          if (!patterns.some((p) => p.test(parsed.repository))) {
            return no(`image ${parsed.repository} is not in the list`);
          }
        }
        return yes(`image ${refs.join(', ')} is in the list`);
      };
    },
  },
  labels: {
    endpoints: body('container.create', 'volume.create', 'network.create'),
    compile: (param) => {
      const wanted: [string, string, RegExp | undefined][] = Array.isArray(param)
        ? param.map((k) => [k, '', undefined])
        : Object.entries(param).map(([k, g]) => [k, g, nameGlob(g)]);
      return (_input, b) => {
        const labels = asObj(get(b, 'Labels'));
        for (const [key, pattern, glob] of wanted) {
          const v = labels ? labels[key] : undefined;
          if (typeof v !== 'string') return no(`label "${key}" is missing`);
          if (glob && !glob.test(v)) return no(`label ${key}="${v}" does not match "${pattern}"`);
        }
        return yes('the required labels are present');
      };
    },
  },
  query: {
    compile: (param) => {
      const wanted = Object.entries(param).map(
        ([name, globs]) => [name, globs.map((g) => (isGlob(g) ? nameGlob(g) : g))] as const,
      );
      return (input) => {
        for (const [name, globs] of wanted) {
          for (const v of queryValues(input.query, name)) {
            if (globs.some((g) => (typeof g === 'string' ? g === v : g.test(v)))) {
              return yes(`query ${name}=${v}`);
            }
          }
        }
        return no('no such query parameter');
      };
    },
  },
};

export const CONDITION_KEYS = Object.keys(DEFS) as ConditionKey[];

/** The endpoints where a condition can be checked (undefined: every endpoint). */
export function conditionEndpoints(key: ConditionKey): ReadonlyMap<string, FactSource> | undefined {
  return DEFS[key].endpoints;
}

export interface CompiledCondition {
  readonly key: ConditionKey;
  readonly fn: ConditionFn;
  /** Endpoints where this condition needs the request body. */
  readonly bodyAt: ReadonlySet<string>;
}

/** Compiles one validated condition. */
export function compileCondition<K extends ConditionKey>(
  key: K,
  param: z.output<(typeof CONDITION_PARAMS)[K]>,
): CompiledCondition {
  const def = DEFS[key] as ConditionDef<K>;
  const check = def.compile(param);
  const bodyAt = new Set<string>();
  for (const [name, source] of def.endpoints ?? []) if (source === 'body') bodyAt.add(name);
  const missing: Verdict = { holds: undefined, detail: `the request body was not available to check ${key}` };
  const empty: Obj = Object.create(null) as Obj;
  const fn: ConditionFn = (input) => {
    if (bodyAt.has(input.endpoint.name)) {
      const b = asObj(input.body);
      if (!b) return missing;
      return check(input, b);
    }
    return check(input, empty);
  };
  return { key, fn, bodyAt };
}

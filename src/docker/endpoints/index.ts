/**
 * The Docker Engine API route table and its matcher. Pure data and pure functions: the table
 * is compiled once at module load (and again by whoever compiles a table of their own); matching
 * a request is a map lookup and a few anchored regular expressions.
 *
 * Matching mirrors dockerd's gorilla/mux router: routes are tried in registration order and the
 * first whose path and method both match wins; the method is compared exactly (HEAD is routed
 * only where dockerd registers HEAD); `.*` variables may hold `/` and be empty; a trailing slash
 * is significant. The caller passes the canonical path (version prefix removed, percent-decoded,
 * cleaned); an unknown route yields `undefined`, which the gateway denies.
 */
import { DockwardError } from '../../errors.js';
import { CONFIG_ENDPOINTS } from './configs.js';
import { CONTAINER_ENDPOINTS } from './containers.js';
import { DEBUG_ENDPOINTS } from './debug.js';
import { DISTRIBUTION_ENDPOINTS } from './distribution.js';
import { EXEC_ENDPOINTS } from './exec.js';
import { IMAGE_ENDPOINTS } from './images.js';
import { NETWORK_ENDPOINTS } from './networks.js';
import { NODE_ENDPOINTS } from './nodes.js';
import { PLUGIN_ENDPOINTS } from './plugins.js';
import { SECRET_ENDPOINTS } from './secrets.js';
import { SERVICE_ENDPOINTS } from './services.js';
import { SWARM_ENDPOINTS } from './swarm.js';
import { SYSTEM_ENDPOINTS } from './system.js';
import { TASK_ENDPOINTS } from './tasks.js';
import { VOLUME_ENDPOINTS } from './volumes.js';
import type { Endpoint, HttpMethod, RouteMatch, RouteTable } from './types.js';

export type {
  ApiArea,
  BodyKind,
  Endpoint,
  Hijack,
  HttpMethod,
  RouteMatch,
  RouteTable,
  StreamDirection,
} from './types.js';
export {
  CONFIG_ENDPOINTS,
  CONTAINER_ENDPOINTS,
  DEBUG_ENDPOINTS,
  DISTRIBUTION_ENDPOINTS,
  EXEC_ENDPOINTS,
  IMAGE_ENDPOINTS,
  NETWORK_ENDPOINTS,
  NODE_ENDPOINTS,
  PLUGIN_ENDPOINTS,
  SECRET_ENDPOINTS,
  SERVICE_ENDPOINTS,
  SWARM_ENDPOINTS,
  SYSTEM_ENDPOINTS,
  TASK_ENDPOINTS,
  VOLUME_ENDPOINTS,
};

/** Every method a route may declare. */
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'];

const NAME = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/;
const LITERAL_SEGMENT = /^[A-Za-z0-9_.-]+$/;
const VARIABLE_SEGMENT = /^\{([a-z][A-Za-z0-9]*)([*+]?)\}$/;

// Go's regexp `.` excludes only "\n" while JavaScript's also excludes "\r", U+2028 and U+2029,
// so `.*` is spelled `[^\n]*` to match exactly the paths dockerd's router matches.
const VARIABLE_PATTERN: Record<string, string> = { '': '([^/]+)', '*': '([^\\n]*)', '+': '([^\\n]+)' };

interface CompiledRoute {
  readonly endpoint: Endpoint;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

function invalid(endpoint: Endpoint, why: string): DockwardError {
  return new DockwardError('DW_E_INTERNAL', `route table: endpoint "${endpoint.name}" ${why}`, {
    hint: 'Fix the entry in src/docker/endpoints/.',
  });
}

/** Turns a path template into an anchored regular expression and its variable names. */
function compilePath(endpoint: Endpoint, path: string): { regex: RegExp; names: string[]; first: string } {
  if (!path.startsWith('/')) throw invalid(endpoint, `has path "${path}" that does not start with "/"`);
  const segments = path.slice(1).split('/');
  const names: string[] = [];
  let source = '^';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '' && last && i > 0) {
      source += '/'; // a trailing slash is part of the route, as dockerd registers it
      return;
    }
    if (LITERAL_SEGMENT.test(segment)) {
      source += '/' + segment.replace(/[.]/g, '\\.');
      return;
    }
    const variable = VARIABLE_SEGMENT.exec(segment);
    // The first segment must be literal: the matcher buckets routes by it.
    if (!variable || i === 0) throw invalid(endpoint, `has malformed segment "${segment}" in "${path}"`);
    const name = variable[1]!;
    if (names.includes(name)) throw invalid(endpoint, `repeats variable "${name}" in "${path}"`);
    names.push(name);
    source += '/' + VARIABLE_PATTERN[variable[2]!];
  });
  return { regex: new RegExp(source + '$'), names, first: segments[0]! };
}

/**
 * Compiles a route table, checking every entry (unique names, well-formed paths, no route
 * declared twice). Throws DW_E_INTERNAL on a bad entry: the table is code, not user input.
 */
export function compileRouteTable(routes: readonly Endpoint[]): RouteTable {
  // method -> first path segment -> routes in registration order
  const buckets = new Map<string, Map<string, CompiledRoute[]>>();
  const byName = new Map<string, Endpoint>();
  const seen = new Set<string>();

  for (const endpoint of routes) {
    if (!NAME.test(endpoint.name)) throw invalid(endpoint, 'has a name that is not dotted lower-case');
    if (byName.has(endpoint.name)) throw invalid(endpoint, 'is declared twice');
    byName.set(endpoint.name, endpoint);
    if (!HTTP_METHODS.includes(endpoint.method)) {
      throw invalid(endpoint, `has unknown method ${endpoint.method}`);
    }
    if (endpoint.area.length === 0) throw invalid(endpoint, 'has no area');
    if (endpoint.hijack !== undefined && endpoint.streams !== 'both') {
      throw invalid(endpoint, 'hijacks the connection, so it must stream both ways');
    }

    for (const path of [endpoint.path, ...(endpoint.altPaths ?? [])]) {
      const key = `${endpoint.method} ${path}`;
      if (seen.has(key)) throw invalid(endpoint, `repeats route ${key}`);
      seen.add(key);
      const { regex, names, first } = compilePath(endpoint, path);
      const byFirst = buckets.get(endpoint.method) ?? new Map<string, CompiledRoute[]>();
      buckets.set(endpoint.method, byFirst);
      const bucket = byFirst.get(first) ?? [];
      byFirst.set(first, bucket);
      bucket.push({ endpoint, regex, names });
    }
  }

  return {
    routes,
    byName: (name) => byName.get(name),
    match(method: string, canonicalPath: string): RouteMatch | undefined {
      if (!canonicalPath.startsWith('/')) return undefined;
      const slash = canonicalPath.indexOf('/', 1);
      const first = slash === -1 ? canonicalPath.slice(1) : canonicalPath.slice(1, slash);
      const bucket = buckets.get(method)?.get(first);
      if (!bucket) return undefined;
      for (const route of bucket) {
        const found = route.regex.exec(canonicalPath);
        if (!found) continue;
        const params: Record<string, string> = {};
        route.names.forEach((name, i) => {
          params[name] = found[i + 1] ?? '';
        });
        return { endpoint: route.endpoint, params: Object.freeze(params) };
      }
      return undefined;
    },
  };
}

function freezeEndpoint(endpoint: Endpoint): Endpoint {
  if (endpoint.altPaths) Object.freeze(endpoint.altPaths);
  return Object.freeze(endpoint);
}

/**
 * Every Engine API route dockward knows. Areas never share a first path segment, so their order
 * here does not change matching; inside an area file the order is dockerd's.
 */
export const ROUTES: readonly Endpoint[] = Object.freeze(
  [
    ...SYSTEM_ENDPOINTS,
    ...CONTAINER_ENDPOINTS,
    ...EXEC_ENDPOINTS,
    ...IMAGE_ENDPOINTS,
    ...NETWORK_ENDPOINTS,
    ...VOLUME_ENDPOINTS,
    ...SWARM_ENDPOINTS,
    ...NODE_ENDPOINTS,
    ...SERVICE_ENDPOINTS,
    ...TASK_ENDPOINTS,
    ...SECRET_ENDPOINTS,
    ...CONFIG_ENDPOINTS,
    ...PLUGIN_ENDPOINTS,
    ...DISTRIBUTION_ENDPOINTS,
    ...DEBUG_ENDPOINTS,
  ].map(freezeEndpoint),
);

/** The table compiled once at module load. */
export const ROUTE_TABLE: RouteTable = compileRouteTable(ROUTES);

/** Every endpoint name, in table order. */
export const ENDPOINT_NAMES: readonly string[] = Object.freeze(ROUTES.map((e) => e.name));

/** Matches a canonical request against the built-in table; `undefined` means unknown (deny). */
export function matchRoute(method: string, canonicalPath: string): RouteMatch | undefined {
  return ROUTE_TABLE.match(method, canonicalPath);
}

/** The built-in endpoint with that name, if any (policies and audit rules name endpoints). */
export function findEndpointByName(name: string): Endpoint | undefined {
  return ROUTE_TABLE.byName(name);
}

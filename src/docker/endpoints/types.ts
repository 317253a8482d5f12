/**
 * The shape of one Docker Engine API route. Every area file (`containers.ts`, `images.ts`, ...)
 * exports a readonly array of these; the gateway, the policy engine, the audit log and the
 * metrics all read the same table, so a request is named the same way everywhere.
 */

/** The HTTP methods dockerd's router registers (OPTIONS is a catch-all CORS reply, left out). */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** The API areas: one file per area, named after it. */
export type ApiArea =
  | 'system'
  | 'containers'
  | 'exec'
  | 'images'
  | 'networks'
  | 'volumes'
  | 'swarm'
  | 'nodes'
  | 'services'
  | 'tasks'
  | 'secrets'
  | 'configs'
  | 'plugins'
  | 'distribution'
  | 'debug';

/**
 * How the connection leaves HTTP request/response:
 * - `tcp`: dockerd answers `101 UPGRADED` (`Upgrade: tcp`) when the client asks, else `200`, then
 *   the socket carries raw stdin/stdout in both directions (attach, exec start);
 * - `h2c`: `Upgrade: h2c`, then HTTP/2 (BuildKit's `/session` and `/grpc`);
 * - `websocket`: a WebSocket handshake (`/containers/{id}/attach/ws`).
 */
export type Hijack = 'tcp' | 'h2c' | 'websocket';

/** Which side of the exchange may stay open for a long or unbounded time. */
export type StreamDirection = 'response' | 'request' | 'both';

/**
 * What the request body holds, so the canonicalizer knows whether to parse it:
 * - `json`: a JSON document dockerd decodes with Go's encoding/json (read in full, checked);
 * - `tar`: a tar archive, possibly gzip/bzip2/xz compressed (build context, `docker cp`, load);
 * - `binary`: opaque bytes passed through (image import with `fromSrc=-`);
 * - `none`: dockerd ignores or rejects a body; the parameters are in the path and query.
 */
export type BodyKind = 'json' | 'tar' | 'binary' | 'none';

/** One route of the Engine API, as dockerd's router (gorilla/mux) matches it. */
export interface Endpoint {
  /** Stable dotted lower-case name (`container.create`): what policies, audit and metrics use. */
  readonly name: string;
  /** The method dockerd routes; matched exactly (case-sensitive, HEAD is not GET). */
  readonly method: HttpMethod;
  /**
   * The path template without the `/vX.Y` prefix. A variable is a whole segment:
   * `{id}` matches one segment (mux's default `[^/]+`), `{name*}` any text including `/` and the
   * empty string (mux `{name:.*}`), `{id+}` the same but not empty (mux `{id:.+}`).
   */
  readonly path: string;
  /** Other literal paths dockerd routes to the same handler (`/networks/` for `/networks`). */
  readonly altPaths?: readonly string[];
  /** The API area; equals the file the endpoint is declared in. */
  readonly area: ApiArea;
  /** One line saying what the call does, for docs and `policy explain`. */
  readonly summary: string;
  /** Set when the connection is hijacked after the request; the proxy must pipe raw bytes. */
  readonly hijack?: Hijack;
  /** Set when the request or the response is an open-ended stream (no fixed timeout may cut it). */
  readonly streams?: StreamDirection;
  /** What the request body holds. */
  readonly body: BodyKind;
  /** True when the call changes no state on the daemon (a read, even if it leaks data). */
  readonly readonly: boolean;
  /**
   * True when the call hands out data that may be secret even though it may be a read: file
   * contents (archive GET, export, image save), process I/O (attach, exec, logs), environment
   * variables (container/service inspect), swarm join tokens and the unlock key.
   */
  readonly sensitive?: boolean;
  /**
   * True for routes only an admin may call, whatever a policy's globs or `@reads` select for
   * other roles: the daemon's debug handlers (pprof, expvar) hand out its command line, memory
   * and goroutine stacks, and a profile or trace keeps the daemon busy for as long as asked.
   * `@reads` never selects them, and `policy check --strict` flags a non-admin role that reaches one.
   */
  readonly adminOnly?: boolean;
  /**
   * True when the request body normally carries a credential (registry password, swarm join
   * token or unlock key, secret data, CA signing key); the audit log must not store it verbatim.
   */
  readonly secretBody?: boolean;
  /** Lowest API version dockerd's router accepts for it (`WithMinimumAPIVersion`), if it sets one. */
  readonly minApi?: string;
  /** Routed by dockerd always, but served only when the daemon runs with `--experimental`. */
  readonly experimental?: boolean;
  /** API version from which the Engine documents the endpoint as deprecated. */
  readonly deprecatedSince?: string;
}

/** The result of matching a request against the table. */
export interface RouteMatch {
  readonly endpoint: Endpoint;
  /** Path variables by name (`{ id: 'abc' }`, `{ name: 'library/busybox:latest' }`). */
  readonly params: Readonly<Record<string, string>>;
}

/** A route table compiled once (at start-up or reload), then matched per request. */
export interface RouteTable {
  /** The endpoints, in the order dockerd registers them (the first match wins). */
  readonly routes: readonly Endpoint[];
  /** Matches a canonical path (no `/vX.Y`, percent-decoded, cleaned) and the exact method. */
  match(method: string, canonicalPath: string): RouteMatch | undefined;
  /** The endpoint with that name, if any. */
  byName(name: string): Endpoint | undefined;
}

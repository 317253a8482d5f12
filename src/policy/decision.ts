import type { Endpoint } from '../docker/endpoints/index.js';

/** The identity facts a policy may look at (from the verified client certificate). */
export interface PolicyIdentity {
  cn: string;
  ou: readonly string[];
  serial: string;
  sans: readonly string[];
}

/** One request as the policy sees it: canonical, with the endpoint resolved. */
export interface DecisionInput {
  identity: PolicyIdentity;
  endpoint: Endpoint;
  method: string;
  /** Canonical path without the version prefix. */
  path: string;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /**
   * The canonical JSON body (`canonicalBody(...).value`), when the policy needs the body for
   * this endpoint. Never a plain `JSON.parse` of the client's bytes: duplicate and case-variant
   * keys must have been refused first (see src/policy/canonical-body.ts).
   */
  body?: unknown;
}

export interface Decision {
  allow: boolean;
  /** The role the identity was given. */
  role: string;
  /** `<role>/<rule>`: the rule that made the decision (the role that defines the rule). */
  rule: string;
  reason: string;
  /**
   * Hosts dockerd would fetch from that the role lists in `fetch.allow`: allowed only once every
   * address they resolve to is checked (never loopback, link-local or the host's own; the
   * gateway's fetch-guard stage does it, failing closed).
   */
  fetchHosts?: readonly string[];
  /** The role may touch only objects labelled with its identity (`own: true`). */
  own?: boolean;
}

/** How one rule fared for a request, for `policy explain`. */
export interface RuleTrace {
  /** `<role>/<rule>`. */
  rule: string;
  effect: 'allow' | 'deny';
  /** `unknown` when a condition needed a body that was not there (a deny then applies). */
  outcome: 'applies' | 'does not apply' | 'unknown';
  detail: string;
  /** True for the rule that made the decision. */
  decisive: boolean;
  /** `file:line:col` where the rule is written. */
  where: string;
}

/** A decision with the reasoning behind it. */
export interface Explanation extends Decision {
  /** How the role was chosen (`identities[0] (ou=ci)`, `defaultRole`). */
  via: string;
  endpoint: string;
  /** Every rule consulted for this endpoint, in evaluation order (denies first). */
  trace: RuleTrace[];
}

/** A compiled policy: a pure function, built once at start-up or reload. */
export interface Decider {
  decide(input: DecisionInput): Decision;
  /** True when the decision for this endpoint needs the request body. */
  needsBody(endpoint: Endpoint): boolean;
  /** One line for the start-up log: where roles come from. */
  describe(): string;
  /** The decision with the rules consulted (compiled policies provide it). */
  explain?(input: DecisionInput): Explanation;
}

/**
 * The policy engine: builds the Decider from a policy that is already parsed and validated
 * (compile.ts does that for policy files with yaml and zod), once, at start-up or reload.
 * The built-in roles come from their validated snapshot (builtin-policy-data.ts), so a gateway
 * without --policy runs this same evaluator without loading the parser or the schema library.
 * Evaluation is pure: a map lookup by endpoint name, then a few small closures.
 */
import type { z } from 'zod';
import { type Endpoint, ROUTES } from '../docker/endpoints/index.js';
import { closestName } from '../text/closest-name.js';
import type { YamlPath } from '../text/yaml-locator.js';
import { BUILTIN_POLICY_SPEC, BUILTIN_RULE_AT } from './builtin-policy-data.js';
import {
  type CompiledCondition,
  type ConditionKey,
  compileCondition,
  conditionEndpoints,
} from './conditions.js';
import type { Decider, Decision, DecisionInput, Explanation, PolicyIdentity, RuleTrace } from './decision.js';
import { compileFetchHosts, type FetchRule, fetchTargets } from './fetch.js';
import { isGlob, nameGlob, segmentGlob } from './glob.js';
import type { CONDITION_PARAMS, ConditionsSpec, PolicyFile, RoleSpec, RuleSpec } from './schema.js';

/** One problem in a policy file, located. */
export interface PolicyIssue {
  file: string;
  line: number;
  col: number;
  /** Where in the document, e.g. `roles.ci.deny[0].when`. */
  at: string;
  message: string;
  hint?: string;
}

export const BUILTIN_ROLE_NAMES = ['readonly', 'operator', 'admin'] as const;
/** Endpoints whose body matters whatever the policy: a start body is host configuration below API 1.24. */
const ALWAYS_READ_BODY = new Set(['container.start']);
const READS_SELECTOR = '@reads';

type Path = YamlPath;

/** What `@reads` selects: reads that leak nothing, never hijacked, never admin-only (debug). */
export function isHarmlessRead(e: Endpoint): boolean {
  return e.readonly && !e.sensitive && !e.hijack && !e.adminOnly;
}

/** Places problems at `file:line:col`: from the YAML document (compile.ts) or the built-in snapshot. */
export interface IssueLocator {
  readonly file: string;
  /** The issue at a path; `key` points at a map key there instead of its value. */
  at(path: Path, message: string, hint?: string, key?: string): PolicyIssue;
}

export function pathText(path: Path): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out || '(top level)';
}

/** A validated policy and where its parts are written. */
export interface ParsedPolicy {
  spec: PolicyFile;
  loc: IssueLocator;
}

/**
 * The built-in roles' locations, recorded in the snapshot for each rule (`roles.operator.deny[0]`);
 * any other path takes its nearest recorded ancestor's (the built-in policy has no issues to place).
 */
class SnapshotLocator implements IssueLocator {
  constructor(
    readonly file: string,
    private readonly positions: Readonly<Record<string, readonly [number, number]>>,
  ) {}

  at(path: Path, message: string, hint?: string): PolicyIssue {
    let p = path;
    while (p.length > 0 && this.positions[pathText(p)] === undefined) p = p.slice(0, -1);
    const [line, col] = this.positions[pathText(p)] ?? [1, 1];
    return { file: this.file, line, col, at: pathText(path), message, ...(hint ? { hint } : {}) };
  }
}

let builtinSpecs: ParsedPolicy | undefined;
/** The built-in policy, parsed and validated ahead of time (builtin-policy-data.test.ts keeps it true to the YAML). */
export function builtinParsed(): ParsedPolicy {
  builtinSpecs ??= { spec: BUILTIN_POLICY_SPEC, loc: new SnapshotLocator('builtin', BUILTIN_RULE_AT) };
  return builtinSpecs;
}

/** The closest candidate, when it is close enough to be a typo. */
export const suggest = closestName;

// --- compiled form ------------------------------------------------------------------------

interface CompiledRule {
  /** `<defining role>/<id>`. */
  readonly name: string;
  readonly effect: 'allow' | 'deny';
  readonly reason: string;
  readonly paths: readonly RegExp[] | undefined;
  /** The path globs as written, for `reachableAs`. */
  readonly pathGlobs: readonly string[] | undefined;
  readonly when: readonly CompiledCondition[];
  readonly unless: readonly CompiledCondition[];
  readonly where: string;
}

interface RuleSet {
  deny: CompiledRule[];
  allow: CompiledRule[];
}

interface CompiledRole {
  readonly name: string;
  readonly description: string | undefined;
  /** Where dockerd may fetch from for this role: its own `fetch` and those of the roles it extends. */
  readonly fetch: FetchRule;
  readonly extends: readonly string[];
  /** Limited to its identity's own objects (set here or on a role it extends). */
  readonly own: boolean;
  readonly rules: ReadonlyMap<string, RuleSet>;
  /** Endpoints where a rule of this role (or a role it extends) reads the body. */
  readonly bodyAt: ReadonlySet<string>;
  readonly allowCount: number;
  readonly denyCount: number;
}

interface CompiledIdentity {
  readonly describe: string;
  readonly test: (identity: PolicyIdentity) => boolean;
  readonly role: string;
}

/** What `policy check` prints about a valid policy. */
export interface PolicySummary {
  file: string;
  identities: number;
  defaultRole: string | null;
  roles: {
    name: string;
    builtin: boolean;
    extends: string[];
    allow: number;
    deny: number;
    description?: string;
  }[];
  /** Endpoints whose request body the gateway reads and canonicalizes for this policy. */
  bodyEndpoints: string[];
}

/** A compiled policy: the Decider the gateway calls, plus explain and a summary. */
export interface CompiledPolicy extends Decider {
  explain(input: DecisionInput): Explanation;
  summary(): PolicySummary;
  /** Every role the policy defines or reaches, with what `policy check --strict` needs to know. */
  roleList(): { name: string; builtin: boolean; extendsAdmin: boolean }[];
  /**
   * Whether some request like `probe` could be allowed for this role: the rule that would allow
   * it, or undefined. Optimistic on purpose (a safety check must not miss a way in): a condition
   * that gives the same answer for `probe` and for `baseline` (the same request without the
   * construct) is about something else, so a client could satisfy an allow rule's such condition
   * and avoid a deny rule's; path globs are taken as matched. Only what the construct itself
   * changes, and deny rules without conditions, decide.
   */
  reachableAs(role: string, probe: DecisionInput, baseline: DecisionInput): string | undefined;
}

interface Outcome {
  applies: boolean | undefined;
  detail: string;
}

const NO_CONDITIONS: Outcome = { applies: true, detail: '' };

/** Whether a rule applies: all `when` hold and not all `unless` hold (unknown counts as unknown). */
function evaluateRule(rule: CompiledRule, input: DecisionInput): Outcome {
  if (rule.paths && !rule.paths.some((p) => p.test(input.path))) {
    return { applies: false, detail: `path ${input.path} does not match` };
  }
  if (rule.when.length === 0 && rule.unless.length === 0) return NO_CONDITIONS;
  let applies: boolean | undefined = true;
  let detail = '';
  for (const c of rule.when) {
    const v = c.fn(input);
    if (v.holds === false) return { applies: false, detail: v.detail };
    if (v.holds === undefined) applies = undefined;
    detail = detail === '' ? v.detail : `${detail}; ${v.detail}`;
  }
  if (rule.unless.length > 0) {
    let excused: boolean | undefined = true;
    for (const c of rule.unless) {
      const v = c.fn(input);
      if (v.holds === true) continue;
      detail = detail === '' ? v.detail : `${detail}; ${v.detail}`;
      if (v.holds === false) {
        excused = false;
        break;
      }
      excused = undefined;
    }
    if (excused === true) return { applies: false, detail: 'the unless conditions hold' };
    if (excused === undefined) applies = undefined;
  }
  return { applies, detail };
}

function normalizeSerialText(serial: string): string {
  return serial
    .toLowerCase()
    .replace(/:/g, '')
    .replace(/^0+(?=.)/, '');
}

function normalizeSan(san: string): string {
  return san.replace(/^IP Address:/i, 'IP:');
}

function compileIdentity(
  spec: PolicyFile['identities'] extends (infer I)[] | undefined ? I : never,
): CompiledIdentity {
  const tests: ((id: PolicyIdentity) => boolean)[] = [];
  const parts: string[] = [];
  const m = spec.match;
  if (m.cn !== undefined) {
    const re = nameGlob(m.cn);
    tests.push((id) => re.test(id.cn));
    parts.push(`cn=${m.cn}`);
  }
  if (m.ou !== undefined) {
    const re = nameGlob(m.ou);
    tests.push((id) => id.ou.some((ou) => re.test(ou)));
    parts.push(`ou=${m.ou}`);
  }
  if (m.serial !== undefined) {
    const want = normalizeSerialText(m.serial);
    tests.push((id) => normalizeSerialText(id.serial) === want);
    parts.push(`serial=${m.serial}`);
  }
  if (m.san !== undefined) {
    const re = nameGlob(normalizeSan(m.san), 'i');
    tests.push((id) => id.sans.some((s) => re.test(normalizeSan(s))));
    parts.push(`san=${m.san}`);
  }
  return { describe: parts.join(' '), test: (id) => tests.every((t) => t(id)), role: spec.role };
}

/**
 * Endpoints a rule's selector names (before conditions narrow them). With `explicitAdminOnly`
 * (allow rules of a policy file's roles), an admin-only endpoint is selected only by its exact
 * name: a wildcard, `@reads` or a rule without `endpoints` never grants one (fail closed).
 */
function selectEndpoints(
  rule: RuleSpec,
  rulePath: Path,
  loc: IssueLocator,
  issues: PolicyIssue[],
  explicitAdminOnly: boolean,
): Endpoint[] {
  let selected: Endpoint[] = explicitAdminOnly ? ROUTES.filter((e) => !e.adminOnly) : [...ROUTES];
  if (rule.endpoints) {
    const chosen = new Set<Endpoint>();
    rule.endpoints.forEach((pattern, i) => {
      if (pattern === READS_SELECTOR) {
        for (const e of ROUTES) if (isHarmlessRead(e)) chosen.add(e);
        return;
      }
      const re = nameGlob(pattern);
      const hits = ROUTES.filter((e) => re.test(e.name));
      const named = !explicitAdminOnly || !isGlob(pattern);
      if (hits.length === 0) {
        const close = suggest(
          pattern,
          ROUTES.map((e) => e.name),
        );
        issues.push(
          loc.at(
            [...rulePath, 'endpoints', i],
            isGlob(pattern)
              ? `the pattern "${pattern}" matches no endpoint`
              : `unknown endpoint "${pattern}"${close ? ` (did you mean "${close}"?)` : ''}`,
            'endpoint names are listed in docs/policy.md (container.create, image.create, build, ...); "@reads" selects the harmless reads',
          ),
        );
      }
      for (const e of hits) if (named || !e.adminOnly) chosen.add(e);
    });
    selected = ROUTES.filter((e) => chosen.has(e));
  }
  if (rule.methods) {
    const methods = new Set<string>(rule.methods);
    selected = selected.filter((e) => methods.has(e.method));
  }
  return selected;
}

function compileConditions(spec: ConditionsSpec | undefined): CompiledCondition[] {
  if (!spec) return [];
  const out: CompiledCondition[] = [];
  for (const key of Object.keys(spec) as ConditionKey[]) {
    const param = spec[key];
    if (param === undefined) continue;
    out.push(compileCondition(key, param as z.output<(typeof CONDITION_PARAMS)[typeof key]>));
  }
  return out;
}

export interface CompileOptions {
  /** Allow defining the built-in role names (only the built-in policy does). */
  builtin?: boolean;
}

export function compileParsed(parsed: ParsedPolicy, options: CompileOptions): CompiledPolicy | PolicyIssue[] {
  const { spec, loc } = parsed;
  const issues: PolicyIssue[] = [];
  const builtin = options.builtin ? undefined : builtinParsed();

  // Role definitions: the built-in ones (unless compiling them), then the file's.
  const defs = new Map<string, { spec: RoleSpec; loc: IssueLocator; builtin: boolean }>();
  if (builtin) {
    for (const [name, role] of Object.entries(builtin.spec.roles ?? {})) {
      defs.set(name, { spec: role, loc: builtin.loc, builtin: true });
    }
  }
  for (const [name, role] of Object.entries(spec.roles ?? {})) {
    if (!options.builtin && (BUILTIN_ROLE_NAMES as readonly string[]).includes(name)) {
      issues.push(
        loc.at(
          ['roles'],
          `"${name}" is a built-in role and cannot be redefined`,
          `name your role differently and write "extends: ${name}" to build on it`,
          name,
        ),
      );
      continue;
    }
    defs.set(name, { spec: role, loc, builtin: options.builtin === true });
  }
  const roleNames = [...defs.keys()];
  const checkRole = (name: string, path: Path, what: string) => {
    if (defs.has(name)) return true;
    const close = suggest(name, roleNames);
    issues.push(
      loc.at(
        path,
        `${what} "${name}" is not defined${close ? ` (did you mean "${close}"?)` : ''}`,
        `define it under roles:, or use a built-in role (${BUILTIN_ROLE_NAMES.join(', ')})`,
      ),
    );
    return false;
  };

  (spec.identities ?? []).forEach((id, i) => {
    checkRole(id.role, ['identities', i, 'role'], 'role');
  });
  if (spec.defaultRole !== undefined) checkRole(spec.defaultRole, ['defaultRole'], 'default role');

  // Compile each rule of each role once, per defining role.
  const ownRules = new Map<string, { rule: CompiledRule; endpoints: Endpoint[] }[]>();
  for (const [roleName, def] of defs) {
    const compiled: { rule: CompiledRule; endpoints: Endpoint[] }[] = [];
    // A rule id used twice is reported at its later use in the file.
    const uses = (['deny', 'allow'] as const)
      .flatMap((effect) =>
        (def.spec[effect] ?? []).map((rule, i) => ({
          id: rule.id,
          path: ['roles', roleName, effect, i] as Path,
        })),
      )
      .map((u) => ({ ...u, pos: def.loc.at(u.path, '') }))
      .sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
    const firstUse = new Map<string, string>();
    const repeated = new Set<string>();
    for (const u of uses) {
      const key = JSON.stringify(u.path);
      if (firstUse.has(u.id)) repeated.add(key);
      else firstUse.set(u.id, key);
    }
    for (const effect of ['deny', 'allow'] as const) {
      (def.spec[effect] ?? []).forEach((rule, i) => {
        const rulePath: Path = ['roles', roleName, effect, i];
        const local: PolicyIssue[] = [];
        if (rule.id === 'default-deny') {
          local.push(def.loc.at([...rulePath, 'id'], '"default-deny" is reserved', 'pick another rule id'));
        }
        if (repeated.has(JSON.stringify(rulePath))) {
          local.push(
            def.loc.at(
              [...rulePath, 'id'],
              `rule id "${rule.id}" is used twice in role ${roleName}`,
              'give every rule of a role its own id',
            ),
          );
        }
        // Only the built-in admin gets admin-only endpoints from a wildcard; a deny rule's wildcard
        // still covers them.
        let endpoints = selectEndpoints(rule, rulePath, def.loc, local, effect === 'allow' && !def.builtin);
        const when = compileConditions(rule.when);
        const unless = compileConditions(rule.unless);
        // A rule with conditions applies only where every condition can be checked.
        for (const c of [...when, ...unless]) {
          const where = conditionEndpoints(c.key);
          if (where) endpoints = endpoints.filter((e) => where.has(e.name));
        }
        if (local.length === 0 && endpoints.length === 0 && when.length + unless.length > 0) {
          const keys = [...when, ...unless].map((c) => c.key);
          const where = keys
            .map((k) => `${k}: ${[...(conditionEndpoints(k)?.keys() ?? ['every endpoint'])].join(', ')}`)
            .join('; ');
          local.push(
            def.loc.at(
              rulePath,
              `rule "${rule.id}" can never apply: its conditions are checked only at other endpoints (${where})`,
              'list endpoints where the conditions can be checked, or "*"',
            ),
          );
        }
        if (local.length > 0) {
          issues.push(...local);
          return;
        }
        const at = def.loc.at(rulePath, '');
        compiled.push({
          endpoints,
          rule: {
            name: `${roleName}/${rule.id}`,
            effect,
            reason:
              rule.reason ??
              (effect === 'allow' ? `allowed by rule ${rule.id}` : `denied by rule ${rule.id}`),
            paths: rule.paths?.map(segmentGlob),
            pathGlobs: rule.paths,
            when,
            unless,
            where: `${at.file}:${at.line}:${at.col}`,
          },
        });
      });
    }
    ownRules.set(roleName, compiled);
  }

  // Resolve extends (no cycles), then index each role's rules by endpoint name.
  const roles = new Map<string, CompiledRole>();
  const resolving = new Set<string>();
  const cyclesReported = new Set<string>();
  const rulesOf = (name: string, path: Path): { rule: CompiledRule; endpoints: Endpoint[] }[] => {
    const def = defs.get(name);
    if (!def) return [];
    if (resolving.has(name)) {
      const cycle = [...resolving].sort().join(',');
      if (!cyclesReported.has(cycle)) {
        cyclesReported.add(cycle);
        issues.push(
          loc.at(
            path,
            `role "${name}" extends itself (through ${[...resolving].join(' -> ')})`,
            'remove the cycle from extends',
          ),
        );
      }
      return [];
    }
    resolving.add(name);
    const out = [...(ownRules.get(name) ?? [])];
    (def.spec.extends ?? []).forEach((parent, i) => {
      const p: Path = ['roles', name, 'extends', i];
      if (!def.builtin && !checkRole(parent, p, 'extended role')) return;
      for (const r of rulesOf(parent, p)) if (!out.some((o) => o.rule === r.rule)) out.push(r);
    });
    resolving.delete(name);
    return out;
  };
  const extendsRole = (name: string, target: string, seen: Set<string>): boolean => {
    if (seen.has(name)) return false;
    seen.add(name);
    return (defs.get(name)?.spec.extends ?? []).some((p) => p === target || extendsRole(p, target, seen));
  };
  // A role may fetch what it or any role it extends may: `any` wins, host lists add up.
  const fetchOf = (name: string, seen: Set<string>): FetchRule => {
    const def = defs.get(name);
    if (!def || seen.has(name)) return { kind: 'none' };
    seen.add(name);
    const own = def.spec.fetch;
    if (own === 'any') return { kind: 'any' };
    const hosts = [...(own?.allow ?? [])];
    for (const parent of def.spec.extends ?? []) {
      const p = fetchOf(parent, seen);
      if (p.kind === 'any') return p;
      if (p.kind === 'hosts') hosts.push(...p.patterns);
    }
    return hosts.length > 0 ? compileFetchHosts(hosts) : { kind: 'none' };
  };
  // `own` is inherited: extending a limited role must not lift the limit (fail closed); a role
  // may still say `own: false` to lift it explicitly.
  const ownOf = (name: string, seen: Set<string>): boolean => {
    const def = defs.get(name);
    if (!def || seen.has(name)) return false;
    seen.add(name);
    if (def.spec.own !== undefined) return def.spec.own;
    return (def.spec.extends ?? []).some((p) => ownOf(p, seen));
  };
  for (const [name, def] of defs) {
    const all = rulesOf(name, ['roles', name]);
    const index = new Map<string, RuleSet>();
    const bodyAt = new Set<string>();
    for (const { rule, endpoints } of all) {
      for (const e of endpoints) {
        let set = index.get(e.name);
        if (!set) {
          set = { deny: [], allow: [] };
          index.set(e.name, set);
        }
        set[rule.effect].push(rule);
        for (const c of [...rule.when, ...rule.unless]) if (c.bodyAt.has(e.name)) bodyAt.add(e.name);
      }
    }
    roles.set(name, {
      name,
      description: def.spec.description,
      fetch: fetchOf(name, new Set()),
      extends: def.spec.extends ?? [],
      own: ownOf(name, new Set()),
      rules: index,
      bodyAt,
      allowCount: all.filter((r) => r.rule.effect === 'allow').length,
      denyCount: all.filter((r) => r.rule.effect === 'deny').length,
    });
  }
  if (issues.length > 0) return dedupe(issues);

  const identities = (spec.identities ?? []).map(compileIdentity);
  const defaultRole = spec.defaultRole;
  const file = loc.file;
  const usedRoles = new Set([...identities.map((i) => i.role), ...(defaultRole ? [defaultRole] : [])]);
  // Only roles an identity can reach decide anything, so only theirs make the body needed.
  const bodyEndpoints = new Set<string>(ALWAYS_READ_BODY);
  for (const name of usedRoles) for (const e of roles.get(name)?.bodyAt ?? []) bodyEndpoints.add(e);
  // The summary lists the file's roles and the built-in roles they reach.
  const listed = new Set<string>();
  const reach = (name: string) => {
    if (listed.has(name)) return;
    listed.add(name);
    for (const parent of defs.get(name)?.spec.extends ?? []) reach(parent);
  };
  for (const [name, def] of defs) if (!def.builtin || options.builtin || usedRoles.has(name)) reach(name);

  type Who = { role: CompiledRole; via: string } | null;
  const findRole = (identity: PolicyIdentity): Who => {
    for (let i = 0; i < identities.length; i++) {
      const id = identities[i]!;
      if (id.test(identity)) return { role: roles.get(id.role)!, via: `identities[${i}] (${id.describe})` };
    }
    return defaultRole ? { role: roles.get(defaultRole)!, via: 'defaultRole' } : null;
  };
  // The gateway passes the same identity object for every request of a connection.
  const roleCache = new WeakMap<PolicyIdentity, Who>();
  const roleFor = (identity: PolicyIdentity): Who => {
    let who = roleCache.get(identity);
    if (who === undefined) {
      who = findRole(identity);
      roleCache.set(identity, who);
    }
    return who;
  };

  const evaluate = (
    input: DecisionInput,
    trace?: RuleTrace[],
    via?: { text: string },
    as?: CompiledRole,
  ): Decision => {
    const who = as ? { role: as, via: 'decideAs' } : roleFor(input.identity);
    if (!who) {
      if (via) via.text = 'no identity matched';
      return {
        allow: false,
        role: '(none)',
        rule: 'policy/no-identity',
        reason: `the client certificate (CN=${input.identity.cn}) matches no identity in ${file} and it has no defaultRole`,
      };
    }
    if (via) via.text = who.via;
    const role = who.role;
    const set = role.rules.get(input.endpoint.name);
    let decision: Decision | undefined;
    if (set) {
      for (const r of set.deny) {
        if (decision && !trace) break;
        const o = evaluateRule(r, input);
        const decisive = !decision && o.applies !== false;
        trace?.push({
          rule: r.name,
          effect: 'deny',
          outcome: outcomeText(o.applies),
          detail: o.detail,
          decisive,
          where: r.where,
        });
        if (decisive) {
          decision = {
            allow: false,
            role: role.name,
            rule: r.name,
            reason: o.detail ? `${r.reason}; ${o.detail}` : r.reason,
          };
        }
      }
      for (const r of set.allow) {
        if (decision && !trace) break;
        const o = evaluateRule(r, input);
        const decisive = !decision && o.applies === true;
        trace?.push({
          rule: r.name,
          effect: 'allow',
          outcome: outcomeText(o.applies),
          detail: o.detail,
          decisive,
          where: r.where,
        });
        if (decisive)
          decision = {
            allow: true,
            role: role.name,
            rule: r.name,
            reason: r.reason,
            ...(role.own ? { own: true } : {}),
          };
      }
    }
    if (decision?.allow) decision = checkFetch(role, input, decision, trace);
    decision ??= {
      allow: false,
      role: role.name,
      rule: `${role.name}/default-deny`,
      reason: `role ${role.name} has no rule that allows ${input.endpoint.name}${input.endpoint.adminOnly ? ' (an admin-only endpoint: a wildcard never grants one; only a rule that names it does)' : ''}`,
    };
    return decision;
  };

  const summary = (): PolicySummary => ({
    file,
    identities: identities.length,
    defaultRole: defaultRole ?? null,
    roles: [...roles.values()]
      .filter((r) => listed.has(r.name))
      .map((r) => ({
        name: r.name,
        builtin: defs.get(r.name)!.builtin,
        extends: [...r.extends],
        allow: r.allowCount,
        deny: r.denyCount,
        ...(r.description ? { description: r.description } : {}),
      })),
    bodyEndpoints: [...bodyEndpoints].sort(),
  });

  return {
    decide: (input) => evaluate(input),
    explain: (input) => {
      const trace: RuleTrace[] = [];
      const via = { text: '' };
      const decision = evaluate(input, trace, via);
      return { ...decision, via: via.text, endpoint: input.endpoint.name, trace };
    },
    needsBody: (endpoint) => bodyEndpoints.has(endpoint.name),
    describe: () =>
      options.builtin
        ? 'no policy file: a client certificate OU names its built-in role (admin, operator, readonly); no or an unknown OU gets readonly'
        : `policy ${file}: ${identities.length} identit${identities.length === 1 ? 'y' : 'ies'}, roles ${[...roles.keys()].filter((n) => !defs.get(n)!.builtin).join(', ') || '(built-in only)'}, ${defaultRole ? `default role ${defaultRole}` : 'unmatched certificates are denied'}`,
    summary,
    roleList: () =>
      [...roles.keys()].map((name) => ({
        name,
        builtin: defs.get(name)!.builtin,
        extendsAdmin: name !== 'admin' && extendsRole(name, 'admin', new Set()),
      })),
    reachableAs: (name, probe, baseline) => {
      const role = roles.get(name);
      if (!role) throw new Error(`no role ${name}`);
      const set = role.rules.get(probe.endpoint.name);
      if (!set) return undefined;
      // A condition the construct does not change is about something a client can choose.
      const related = (c: CompiledCondition) => c.fn(probe).holds !== c.fn(baseline).holds;
      const canAllow = (r: CompiledRule): boolean => {
        if (r.pathGlobs && !r.pathGlobs.some((g) => globMayMatchTemplate(g, probe.endpoint.path)))
          return false;
        for (const c of r.when) if (c.fn(probe).holds !== true && related(c)) return false;
        return !(r.unless.length > 0 && r.unless.every((c) => c.fn(probe).holds === true && related(c)));
      };
      // A deny blocks only when it must apply: no conditions, or it hits the construct itself.
      for (const r of set.deny) {
        const unconditional = r.when.length === 0 && r.unless.length === 0 && !r.paths;
        if (unconditional) return undefined;
        if (evaluateRule(r, probe).applies !== false && evaluateRule(r, baseline).applies === false) {
          return undefined;
        }
      }
      const allow = set.allow.find(canAllow);
      if (!allow) return undefined;
      const decided: Decision = { allow: true, role: role.name, rule: allow.name, reason: allow.reason };
      const fetched = checkFetch(role, probe, decided, undefined);
      return fetched.allow ? allow.name : undefined;
    },
  };
}

/**
 * An allowed request that makes dockerd fetch from a place the client names is allowed only as
 * the role's `fetch` says: not at all by default, any place with `fetch: any` (admin), or listed
 * hosts, whose addresses the gateway still checks before forwarding (`fetchHosts`).
 */
function checkFetch(
  role: CompiledRole,
  input: DecisionInput,
  allowed: Decision,
  trace: RuleTrace[] | undefined,
): Decision {
  const targets = fetchTargets(input);
  if (targets.length === 0 || role.fetch.kind === 'any') return allowed;
  let denial: Decision | undefined;
  const rule = role.fetch;
  if (rule.kind === 'none') {
    denial = {
      allow: false,
      role: role.name,
      rule: `${role.name}/no-server-fetch`,
      reason: `role ${role.name} may not make the daemon fetch from a place the client names (${targets[0]!.what}); give the role "fetch: { allow: [host] }" in the policy, or send the content with the request`,
    };
  } else {
    const bad = targets.find((t) => t.host === undefined || !rule.test(t.host));
    if (bad) {
      denial = {
        allow: false,
        role: role.name,
        rule: `${role.name}/fetch-host-not-listed`,
        reason:
          bad.host === undefined
            ? `the daemon would fetch ${bad.what}, whose host dockward cannot read, so it is refused`
            : `the daemon would fetch from ${bad.host} (${bad.what}), which is not in role ${role.name}'s fetch.allow (${rule.patterns.join(', ')})`,
      };
    }
  }
  // The fetch check overrules the allow rule: only it made the decision.
  if (denial && trace) for (const t of trace) t.decisive = false;
  trace?.push({
    rule: denial?.rule ?? `${role.name}/fetch`,
    effect: denial ? 'deny' : 'allow',
    outcome: 'applies',
    detail: targets.map((t) => t.what).join(', '),
    decisive: denial !== undefined,
    where: `the fetch setting of role ${role.name}`,
  });
  if (denial) return denial;
  return { ...allowed, fetchHosts: [...new Set(targets.map((t) => t.host!))] };
}

/**
 * Whether a path glob (`/containers/web-*\/logs`) can match some path of a route template
 * (`/containers/{id}/logs`): literal segments must match, a variable segment takes anything.
 */
export function globMayMatchTemplate(glob: string, template: string): boolean {
  const g = glob.split('/');
  const t = template.split('/');
  const match = (i: number, j: number): boolean => {
    if (i === g.length) return j === t.length || t.slice(j).every((x) => /^\{[A-Za-z0-9]+\*\}$/.test(x));
    if (g[i] === '**') return match(i + 1, j) || (j < t.length && match(i, j + 1));
    if (j === t.length) return false;
    const seg = t[j]!;
    if (/^\{[A-Za-z0-9]+[*+]\}$/.test(seg)) return match(i + 1, j) || match(i + 1, j + 1) || match(i, j + 1);
    if (/^\{[A-Za-z0-9]+\}$/.test(seg)) return match(i + 1, j + 1);
    return segmentGlob(g[i]!).test(seg) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

function outcomeText(applies: boolean | undefined): RuleTrace['outcome'] {
  return applies === true ? 'applies' : applies === false ? 'does not apply' : 'unknown';
}

function dedupe(issues: PolicyIssue[]): PolicyIssue[] {
  const seen = new Set<string>();
  const sorted = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
  return sorted.filter((i) => {
    const k = `${i.line}:${i.col}:${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** One line per issue: `file:line:col: at: message`. */
export function formatIssue(i: PolicyIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.at === '(top level)' || i.at === '(yaml)' ? '' : `${i.at}: `}${i.message}`;
}

let builtinCompiled: CompiledPolicy | undefined;
/** The built-in roles, compiled once by the same engine as a policy file. */
export function builtinPolicy(): CompiledPolicy {
  if (!builtinCompiled) {
    const res = compileParsed(builtinParsed(), { builtin: true });
    if (Array.isArray(res)) throw new Error(`built-in policy is invalid: ${res.map(formatIssue).join('; ')}`);
    builtinCompiled = res;
  }
  return builtinCompiled;
}

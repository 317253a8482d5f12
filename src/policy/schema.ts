/**
 * The policy file schema (YAML, version 1). The zod schemas are the source of the types; see
 * docs/policy.md for the reference and a full example.
 */
import { z } from 'zod';
import { HTTP_METHODS } from '../docker/endpoints/index.js';
import {
  CONDITION_KEYS,
  CONFINEMENTS,
  LINUX_CAPABILITIES,
  NAMESPACES,
  normalizeCapability,
  normalizeHostPath,
} from './conditions.js';
import { imagePatternProblem } from './image-ref.js';

/** Each rule condition's parameter, validated and normalized (conditions.ts evaluates them). */
const any = z.literal('any');
const bool = z.boolean();

const capName = z
  .string()
  .transform(normalizeCapability)
  .refine((c) => (LINUX_CAPABILITIES as readonly string[]).includes(c), {
    message: `not a Linux capability (write SYS_ADMIN or CAP_SYS_ADMIN; ALL for all)`,
  });
const capList = z.union([z.literal('docker-default'), z.array(capName).min(1)]);

const hostPath = z
  .string()
  .refine((p) => p.startsWith('/'), { message: 'a host path must be absolute (start with "/")' })
  .transform((p) => normalizeHostPath(p));

const imagePattern = z.string().superRefine((p, ctx) => {
  const problem = imagePatternProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const CONDITION_PARAMS = {
  privileged: bool,
  capAdd: z.union([any, z.array(capName).min(1), z.strictObject({ except: capList })]),
  devices: bool,
  hostMounts: z.union([any, z.array(hostPath).min(1)]),
  volumesFrom: bool,
  hostNamespaces: z.union([any, z.array(z.enum(NAMESPACES)).min(1)]),
  unconfined: z.union([any, z.array(z.enum(CONFINEMENTS)).min(1)]),
  execUser: z.array(z.string().min(1)).min(1),
  image: z.array(imagePattern).min(1),
  labels: z.union([z.array(z.string().min(1)).min(1), z.record(z.string().min(1), z.string())]),
  query: z.record(z.string().min(1), z.array(z.string()).min(1)),
} as const;

const toList = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(item).min(1));

export const ROLE_NAME = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]*$/,
    'a role name is lower-case letters, digits, "-" and "_", starting with a letter',
  );

const RULE_ID = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a rule id is lower-case letters, digits and "-" (like no-privileged)');

const MATCH = z
  .strictObject({
    cn: z.string().min(1).optional(),
    ou: z.string().min(1).optional(),
    serial: z
      .string()
      .regex(
        /^(?:[0-9a-fA-F]{2}:?)*[0-9a-fA-F]{1,2}$/,
        'a serial is hexadecimal, as `dockward pki list` prints it',
      )
      .optional(),
    san: z.string().min(1).optional(),
  })
  .refine((m) => Object.keys(m).length > 0, { message: 'a match needs at least one of cn, ou, serial, san' });

export const IDENTITY = z.strictObject({
  description: z.string().optional(),
  match: MATCH,
  role: ROLE_NAME,
});

const CONDITIONS = z
  .strictObject(
    Object.fromEntries(CONDITION_KEYS.map((k) => [k, CONDITION_PARAMS[k].optional()])) as {
      [K in keyof typeof CONDITION_PARAMS]: z.ZodOptional<(typeof CONDITION_PARAMS)[K]>;
    },
  )
  .refine((c) => Object.values(c).some((v) => v !== undefined), {
    message: `give at least one condition (${CONDITION_KEYS.join(', ')})`,
  });

const METHOD = z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v), z.enum(HTTP_METHODS));

export const RULE = z
  .strictObject({
    id: RULE_ID,
    description: z.string().optional(),
    endpoints: toList(z.string().min(1)).optional(),
    methods: toList(METHOD).optional(),
    paths: toList(z.string().startsWith('/', 'a path pattern starts with "/" (no /vX.Y prefix)')).optional(),
    when: CONDITIONS.optional(),
    unless: CONDITIONS.optional(),
    reason: z.string().min(1).optional(),
  })
  .refine((r) => r.endpoints !== undefined || r.paths !== undefined || r.methods !== undefined, {
    message: 'a rule needs endpoints (names or globs), methods or paths',
  });

/** Where dockerd may fetch from for this role (build remote, image import URL, plugin remote). */
const FETCH = z.union([
  z.literal('any'),
  z.strictObject({
    allow: z
      .array(
        z
          .string()
          .regex(
            /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9*?][A-Za-z0-9*?.-]*)$/,
            'a host name, a glob like *.example.com or an IP address (no scheme, port or path)',
          ),
      )
      .min(1),
  }),
]);

export const ROLE = z.strictObject({
  description: z.string().optional(),
  extends: toList(ROLE_NAME).optional(),
  fetch: FETCH.optional(),
  /** Limits the role to objects its identity created (the gateway's owner label); inherited. */
  own: z.boolean().optional(),
  allow: z.array(RULE).optional(),
  deny: z.array(RULE).optional(),
});

export const POLICY = z.strictObject({
  version: z.literal(1, 'version must be 1'),
  description: z.string().optional(),
  identities: z.array(IDENTITY).optional(),
  defaultRole: ROLE_NAME.optional(),
  roles: z.record(ROLE_NAME, ROLE).optional(),
});

export type PolicyFile = z.output<typeof POLICY>;
export type RoleSpec = z.output<typeof ROLE>;
export type RuleSpec = z.output<typeof RULE>;
export type FetchSpec = z.output<typeof FETCH>;
export type IdentitySpec = z.output<typeof IDENTITY>;
export type ConditionsSpec = z.output<typeof CONDITIONS>;

/** Keys allowed at each kind of place, for "did you mean" hints. */
export const KEYS = {
  policy: Object.keys(POLICY.shape),
  identity: Object.keys(IDENTITY.shape),
  match: ['cn', 'ou', 'serial', 'san'],
  role: Object.keys(ROLE.shape),
  rule: ['id', 'description', 'endpoints', 'methods', 'paths', 'when', 'unless', 'reason'],
  conditions: CONDITION_KEYS as string[],
} as const;

/** How each condition is written, for error hints and docs. */
export const CONDITION_FORMS: Record<string, string> = {
  privileged: 'privileged: true',
  capAdd: 'capAdd: any | [SYS_ADMIN, NET_ADMIN] | { except: docker-default | [NET_BIND_SERVICE, ...] }',
  devices: 'devices: true',
  hostMounts: 'hostMounts: any | [/, /var/run/docker.sock, /etc]',
  volumesFrom: 'volumesFrom: true',
  hostNamespaces: 'hostNamespaces: any | [network, pid, ipc, uts, userns, cgroupns]',
  unconfined: 'unconfined: any | [seccomp, apparmor, label, systempaths]',
  execUser: 'execUser: [root]',
  image: 'image: [docker.io/library/*, registry.example.com/team/**]',
  labels: 'labels: [team] | { team: "*", env: prod }',
  query: 'query: { networkmode: [host] }',
};

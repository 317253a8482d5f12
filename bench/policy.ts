import { readFileSync } from 'node:fs';
import { findEndpointByName } from '../src/docker/endpoints/index.js';
import { canonicalBody } from '../src/policy/canonical-body.js';
import { compilePolicy } from '../src/policy/compile.js';
import type { DecisionInput } from '../src/policy/decision.js';
import type { BenchFigure } from './pki.js';
import { summarize } from './stats.js';

/** A policy of exactly 100 rules across 5 roles, with body, query and path conditions. */
export function hundredRulePolicy(): string {
  const roles: string[] = [];
  for (let r = 0; r < 5; r++) {
    const allow: string[] = [];
    const deny: string[] = [];
    for (let i = 0; i < 10; i++) {
      allow.push(
        [
          `      - id: allow-${i}`,
          i % 4 === 1
            ? '        endpoints: [container.create, volume.create]\n        when: { labels: [team] }'
            : i % 3 === 0
              ? `        paths: ["/containers/app${i}-*/logs"]\n        methods: [GET]`
              : `        endpoints: [${['container.*', 'image.*', 'volume.*', 'network.*', 'exec.*', 'system.*', 'build'][i % 7]}]`,
        ].join('\n'),
      );
    }
    const conditions = [
      '{ privileged: true }',
      '{ hostMounts: [/, /etc, /var/run/docker.sock] }',
      '{ capAdd: { except: docker-default } }',
      '{ hostNamespaces: any }',
      '{ devices: true }',
      '{ unconfined: any }',
      '{ execUser: [root] }',
      '{ query: { force: ["1", "true"] } }',
      '{ volumesFrom: true }',
    ];
    for (let i = 0; i < 10; i++) {
      deny.push(
        i === 9
          ? `      - id: images\n        endpoints: [container.create, image.create]\n        unless: { image: ["registry.example.com/**", busybox, testbox] }`
          : `      - id: deny-${i}\n        endpoints: ["*"]\n        when: ${conditions[i]}\n        reason: rule ${i}`,
      );
    }
    roles.push(`  role${r}:\n    allow:\n${allow.join('\n')}\n    deny:\n${deny.join('\n')}`);
  }
  const identities = Array.from(
    { length: 20 },
    (_, i) => `  - { match: { cn: "team${i}-*", ou: "unit${i % 3}" }, role: role${i % 5} }`,
  );
  return `version: 1\nidentities:\n${identities.join('\n')}\ndefaultRole: role4\nroles:\n${roles.join('\n')}\n`;
}

/** Microseconds per call, one sample per batch. */
function usPerCall(samples: number, batch: number, fn: (i: number) => unknown): number[] {
  const out: number[] = [];
  let i = 0;
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < batch; b++) fn(i++);
    out.push(Number(process.hrtime.bigint() - t0) / 1e3 / batch);
  }
  return out;
}

/** The body docker CLI 28 sends for `docker run testbox echo ok`, from the bypass corpus. */
function cliCreateBody(): Buffer {
  const corpus = JSON.parse(
    readFileSync(new URL('../test/fixtures/policy/bypass-corpus.json', import.meta.url), 'utf8'),
  ) as { cases: { id: string; body: string }[] };
  return Buffer.from(corpus.cases.find((c) => c.id === 'legit-cli28-create')!.body, 'utf8');
}

/** Median decision time for a 100-rule policy, and the cost of canonicalizing a CLI create body. */
export async function benchPolicy(): Promise<BenchFigure[]> {
  const policy = compilePolicy(hundredRulePolicy(), 'bench.yaml');
  const create = findEndpointByName('container.create')!;
  const raw = cliCreateBody();
  const canonical = canonicalBody(create, raw, 'application/json');
  if (!canonical.ok) throw new Error(`bench body refused: ${canonical.reason}`);
  const identity = { cn: 'team7-runner', ou: ['unit1'], serial: '0a', sans: [] };
  const mk = (name: string, path: string, query = '', body?: unknown): DecisionInput => ({
    identity,
    endpoint: findEndpointByName(name)!,
    method: findEndpointByName(name)!.method,
    path,
    params: {},
    query: new URLSearchParams(query),
    ...(body !== undefined ? { body } : {}),
  });
  const inputs = [
    mk('container.create', '/containers/create', 'name=app', canonical.value),
    mk('container.list', '/containers/json', 'all=1'),
    mk('container.logs', '/containers/app3-x/logs', 'follow=1'),
    mk('image.create', '/images/create', 'fromImage=busybox&tag=latest'),
  ];
  for (let i = 0; i < 20_000; i++) policy.decide(inputs[i % inputs.length]!); // warm up the JIT
  const decide = usPerCall(300, 1000, (i) => policy.decide(inputs[i % inputs.length]!));
  const createOnly = usPerCall(300, 1000, () => policy.decide(inputs[0]!));
  for (let i = 0; i < 500; i++) canonicalBody(create, raw, 'application/json');
  const body = usPerCall(100, 100, () => canonicalBody(create, raw, 'application/json'));
  return [
    {
      id: 'policy.decide.100rules',
      label: 'policy decision, 100-rule policy (mix: create with CLI body, list, logs, pull)',
      unit: 'us',
      summary: summarize(decide),
      target: { op: '<', value: 5 },
    },
    {
      id: 'policy.decide.100rules.create',
      label: 'policy decision, 100-rule policy, container create with the CLI 28 body',
      unit: 'us',
      summary: summarize(createOnly),
      target: { op: '<', value: 5 },
    },
    {
      id: 'policy.canonical-body.create',
      label: `canonicalize a container create body (${raw.length} bytes, CLI 28)`,
      unit: 'us',
      summary: summarize(body),
    },
  ];
}

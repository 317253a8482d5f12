import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtinSnapshot } from '../../scripts/gen-builtin-policy.js';
import { ROUTES } from '../docker/endpoints/index.js';
import { BUILTIN_POLICY_YAML } from './builtin-policy.js';
import { BUILTIN_POLICY_SPEC, BUILTIN_RULE_AT } from './builtin-policy-data.js';
import { checkPolicy } from './compile.js';
import type { DecisionInput } from './decision.js';
import { builtinPolicy } from './engine.js';
import { input } from './test-support.js';

const REGENERATE =
  'src/policy/builtin-policy-data.ts is out of date with builtin-policy.ts: run `node --import tsx scripts/gen-builtin-policy.ts && npx biome format --write src/policy/builtin-policy-data.ts`';

/** Static (run-time) imports of a source file, `import type` left out as the compiler does. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^;]*?\sfrom\s+)?'([^']+)'/gm))
    out.push(m[1]!);
  return out;
}

/** Every package a source file loads through its static imports, following the project's own files. */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  };
  walk(entry);
  return packages;
}

describe('the built-in policy snapshot', () => {
  it('is exactly what parsing and validating BUILTIN_POLICY_YAML gives, with the same rule locations', () => {
    const { spec, ruleAt } = builtinSnapshot();
    assert.deepEqual(BUILTIN_POLICY_SPEC, spec, REGENERATE);
    assert.deepEqual(BUILTIN_RULE_AT, ruleAt, REGENERATE);
  });

  it('decides and explains every endpoint as the YAML compiled by the policy compiler does', () => {
    const fromYaml = checkPolicy(BUILTIN_POLICY_YAML, 'builtin', { builtin: true });
    assert.ok(fromYaml.ok);
    const fromSnapshot = builtinPolicy();
    assert.deepEqual(fromSnapshot.summary(), fromYaml.policy.summary());
    assert.deepEqual(fromSnapshot.roleList(), fromYaml.policy.roleList());
    const bodies: unknown[] = [
      {},
      { HostConfig: { Privileged: true, Binds: ['/:/host'], CapAdd: ['SYS_ADMIN'], PidMode: 'host' } },
      undefined,
    ];
    let compared = 0;
    for (const ou of ['admin', 'operator', 'readonly', 'nobody']) {
      const identity = { cn: 'c', ou: [ou], serial: '01', sans: [] };
      for (const endpoint of ROUTES) {
        for (const body of bodies) {
          // The body as the conditions see it (canonicalizing is not what is compared here).
          const req: DecisionInput = { ...input(endpoint.name, { identity }), ...(body ? { body } : {}) };
          assert.deepEqual(fromSnapshot.explain(req), fromYaml.policy.explain(req), `${ou} ${endpoint.name}`);
          assert.equal(fromSnapshot.needsBody(endpoint), fromYaml.policy.needsBody(endpoint));
          compared++;
        }
      }
    }
    assert.ok(compared > 500);
  });

  it('keeps yaml and zod out of what the built-in roles and the gateway load', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    for (const entry of ['builtin-roles.ts', '../gateway/gateway.ts', '../gateway/worker-main.ts']) {
      const packages = packagesLoadedBy(resolve(here, entry));
      assert.ok(!packages.has('yaml') && !packages.has('zod'), `${entry} loads ${[...packages].join(', ')}`);
    }
    // The walk does see them where they are loaded.
    const compiler = packagesLoadedBy(resolve(here, 'compile.ts'));
    assert.ok(compiler.has('yaml') && compiler.has('zod'));
  });
});

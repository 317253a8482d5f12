import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { builtinPolicy, checkPolicy } from './compile.js';
import { hostPowerFindings } from './host-power.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every policy the project ships: fixtures meant to be valid, and YAML policies in docs/ and README. */
function shippedExamples(): [string, string][] {
  const out: [string, string][] = [];
  const fixtures = join(ROOT, 'test/fixtures/policy');
  for (const f of readdirSync(fixtures)) {
    if (f.endsWith('.yaml') && f !== 'invalid.yaml')
      out.push([`test/fixtures/policy/${f}`, readFileSync(join(fixtures, f), 'utf8')]);
  }
  const pages = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const page of pages) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
      if (/^version: 1$/m.test(m[1]!) && /^roles:/m.test(m[1]!))
        out.push([`${page} yaml block ${i++}`, m[1]!]);
    }
  }
  return out;
}

const compile = (text: string) => {
  const res = checkPolicy(text, 'test.yaml');
  assert.ok(res.ok, res.ok ? '' : JSON.stringify(res.issues));
  return res.policy;
};
const role = (body: string) => compile(`version: 1\ndefaultRole: r\nroles:\n  r:\n${body}`);
const constructs = (body: string) => hostPowerFindings(role(body)).map((f) => f.construct);

describe('policy check --strict: the shipped examples are safe to copy', () => {
  const examples = shippedExamples();
  it('finds the shipped examples (the fixture and its copy in docs/policy.md)', () => {
    assert.ok(examples.length >= 2, examples.map((e) => e.at(0)).join(', '));
  });
  for (const [name, text] of examples) {
    it(`${name}: no role other than admin reaches host power`, () => {
      assert.deepEqual(hostPowerFindings(compile(text)), []);
    });
  }
  it('the built-in roles pass', () => {
    assert.deepEqual(hostPowerFindings(builtinPolicy()), []);
  });
});

describe('policy check --strict: what it finds', () => {
  const OPEN = `    allow:\n      - id: create\n        endpoints: [container.create]\n        when: { labels: { team: web } }\n`;

  it('finds every construct of an allow rule with no deny rule, even behind a label condition', () => {
    const found = constructs(OPEN);
    for (const c of [
      'privileged',
      'host pid namespace',
      'capability DAC_READ_SEARCH',
      'a host device',
      'security option seccomp=unconfined',
      'security option apparmor=unconfined',
      'empty MaskedPaths',
      'a bind mount of /run',
      'a bind mount of /var/run/docker.sock',
    ]) {
      assert.ok(found.includes(c), `${c} not found in ${found.join(', ')}`);
    }
  });

  it('finds the capability a denylist forgot (the old example: DAC_READ_SEARCH)', () => {
    const found = constructs(
      `${OPEN}    deny:\n      - id: caps\n        endpoints: ["*"]\n        when: { capAdd: [SYS_ADMIN, SYS_PTRACE, SYS_MODULE, NET_ADMIN, ALL] }\n`,
    );
    assert.ok(found.includes('capability DAC_READ_SEARCH'));
    assert.ok(!found.includes('capability SYS_ADMIN'));
  });

  it('refuses a bind of /run or / when the deny list names only the socket (a parent exposes it)', () => {
    const found = constructs(
      `${OPEN}    deny:\n      - id: sock\n        endpoints: ["*"]\n        when: { hostMounts: [/run/docker.sock, /var/run/docker.sock] }\n`,
    );
    assert.ok(!found.includes('a bind mount of /run'), 'a parent of a listed path is refused');
    assert.ok(!found.includes('a bind mount of /'), 'the root folder is refused');
    assert.ok(found.includes('a bind mount of /etc'), '/etc is not listed');
  });

  it('is not fooled by an unrelated deny that a real request avoids (approved images)', () => {
    const found = constructs(
      `${OPEN}    deny:\n      - id: images\n        endpoints: [container.create]\n        unless: { image: [registry.example.com/**] }\n`,
    );
    assert.ok(found.includes('privileged'));
  });

  it('takes a path-scoped allow rule only where its paths can match', () => {
    const found = constructs(
      `    allow:\n      - id: logs\n        methods: [GET]\n        paths: ["/containers/web-*/logs"]\n`,
    );
    assert.deepEqual(found, []);
    const exec = constructs(`    allow:\n      - id: exec\n        paths: ["/containers/web-*/exec"]\n`);
    assert.ok(exec.includes('privileged exec'));
  });

  it('finds admin-only endpoints a rule names, and plugins reached through a glob', () => {
    // A wildcard never grants an admin-only endpoint: only naming one does, and that is a finding.
    const gets = constructs(`    allow:\n      - id: all-gets\n        methods: [GET]\n`);
    assert.ok(!gets.some((c) => c.startsWith('an admin-only endpoint')));
    const named = constructs(
      `    allow:\n      - id: pprof\n        endpoints: ["*", debug.pprof.profile]\n`,
    );
    assert.deepEqual(
      named.filter((c) => c.startsWith('an admin-only endpoint')),
      ['an admin-only endpoint (debug.pprof.profile)'],
    );
    const plugins = constructs(`    allow:\n      - id: plugins\n        endpoints: ["plugin.*"]\n`);
    assert.ok(plugins.some((c) => c.startsWith('plugin management')));
    // plugin.pull is reached, but its fetch is not: the role has no fetch setting.
    assert.ok(!plugins.some((c) => c.startsWith('a server-side fetch from any host')));
  });

  it('finds a fetch list that admits any host, not one of named hosts', () => {
    const star = constructs(`    extends: operator\n    fetch: { allow: ["*"] }\n`);
    assert.ok(star.includes('a server-side fetch from any host (build)'));
    assert.deepEqual(constructs(`    extends: operator\n    fetch: { allow: [git.example.com] }\n`), []);
  });

  it('leaves admin and the roles that extend it alone', () => {
    assert.deepEqual(constructs(`    extends: admin\n`), []);
  });
});

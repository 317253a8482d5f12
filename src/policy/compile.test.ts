import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEndpointByName } from '../docker/endpoints/index.js';
import { DockwardError } from '../errors.js';
import { checkPolicy, compilePolicy, type PolicyIssue } from './compile.js';
import { input } from './test-support.js';

function issues(text: string): PolicyIssue[] {
  const res = checkPolicy(text, 'p.yaml');
  assert.ok(!res.ok, 'the policy was accepted');
  return res.issues;
}

/** `line:col message` of each issue, for compact assertions. */
function located(text: string): string[] {
  return issues(text).map((i) => `${i.line}:${i.col} ${i.message}`);
}

const ep = (name: string) => findEndpointByName(name)!;

describe('policy file errors name the line and column and the fix', () => {
  const cases: [string, string, string[], RegExp?][] = [
    ['an empty file', '', ['1:1 the policy file is empty'], /version: 1/],
    ['a missing version', 'roles: {}\n', ['1:1 missing "version"'], /version: 1/],
    ['a wrong version', 'version: 2\n', ['1:10 version must be 1']],
    [
      'a YAML syntax error',
      'version: 1\nroles:\n  a:\n    allow:\n     - id: x\n    - id: y\n',
      ['6:1 A block sequence may not be used as an implicit map key'],
      /YAML syntax/,
    ],
    ['a duplicate YAML key', 'version: 1\nversion: 1\n', ['2:1 Map keys must be unique']],
    [
      'an unknown top-level key, with a suggestion',
      'version: 1\nidentites: []\n',
      ['2:1 unknown key "identites" (did you mean "identities"?)'],
      /allowed here: version, description, identities, defaultRole, roles/,
    ],
    [
      'an unknown condition, with a suggestion',
      'version: 1\nroles:\n  r:\n    deny:\n      - id: x\n        endpoints: ["*"]\n        when:\n          privilegd: true\n',
      ['8:11 unknown key "privilegd" (did you mean "privileged"?)'],
    ],
    [
      'a rule without an id',
      'version: 1\nroles:\n  r:\n    allow:\n      - endpoints: [container.list]\n',
      ['5:9 missing "id"'],
      /give every rule an id/,
    ],
    [
      'a rule that selects nothing',
      'version: 1\nroles:\n  r:\n    allow:\n      - id: x\n',
      ['5:9 a rule needs endpoints (names or globs), methods or paths'],
    ],
    [
      'an empty match',
      'version: 1\nidentities:\n  - match: {}\n    role: admin\n',
      ['3:12 a match needs at least one of cn, ou, serial, san'],
    ],
    [
      'a malformed capability',
      'version: 1\nroles:\n  r:\n    deny:\n      - id: x\n        endpoints: ["*"]\n        when: { capAdd: [SYS_ADMN] }\n',
      ['7:26 not a Linux capability (write SYS_ADMIN or CAP_SYS_ADMIN; ALL for all)'],
    ],
    [
      'a condition written in the wrong form',
      'version: 1\nroles:\n  r:\n    deny:\n      - id: x\n        endpoints: ["*"]\n        when: { hostMounts: yes }\n',
      ['7:29 invalid value for hostMounts'],
      /hostMounts: any \| \[\/, \/var\/run\/docker.sock, \/etc\]/,
    ],
    [
      'a relative host path',
      'version: 1\nroles:\n  r:\n    deny:\n      - id: x\n        endpoints: ["*"]\n        when: { hostMounts: [etc] }\n',
      ['7:30 a host path must be absolute (start with "/")'],
    ],
    [
      'an image pattern with a tag',
      'version: 1\nroles:\n  r:\n    deny:\n      - id: x\n        endpoints: ["*"]\n        unless: { image: ["busybox:1.36"] }\n',
      ['7:27 image patterns name repositories, without a tag or digest: "busybox:1.36"'],
    ],
    [
      'an unknown endpoint, with a suggestion',
      'version: 1\nroles:\n  r:\n    allow:\n      - id: x\n        endpoints: [container.creat]\n',
      ['6:21 unknown endpoint "container.creat" (did you mean "container.create"?)'],
    ],
    [
      'an endpoint glob that matches nothing',
      'version: 1\nroles:\n  r:\n    allow:\n      - id: x\n        endpoints: ["kube.*"]\n',
      ['6:21 the pattern "kube.*" matches no endpoint'],
    ],
    [
      'a condition that can never apply at the rule endpoints',
      'version: 1\nroles:\n  r:\n    deny:\n      - id: x\n        endpoints: [container.list]\n        when: { privileged: true }\n',
      [
        '5:9 rule "x" can never apply: its conditions are checked only at other endpoints (privileged: container.create, container.exec)',
      ],
    ],
    [
      'an undefined role, with a suggestion',
      'version: 1\nidentities:\n  - match: { ou: ops }\n    role: operater\n',
      ['4:11 role "operater" is not defined (did you mean "operator"?)'],
    ],
    [
      'a redefined built-in role',
      'version: 1\nroles:\n  admin:\n    allow: []\n',
      ['3:3 "admin" is a built-in role and cannot be redefined'],
      /extends: admin/,
    ],
    [
      'a cycle of extends',
      'version: 1\nroles:\n  a:\n    extends: b\n  b:\n    extends: a\n',
      ['6:14 role "a" extends itself (through a -> b)'],
    ],
    [
      'a rule id used twice in a role',
      'version: 1\nroles:\n  r:\n    allow:\n      - { id: x, endpoints: [container.list] }\n    deny:\n      - { id: x, endpoints: [container.create] }\n',
      ['7:15 rule id "x" is used twice in role r'],
    ],
  ];
  for (const [title, text, expected, hint] of cases) {
    it(`reports ${title}`, () => {
      assert.deepEqual(located(text), expected);
      if (hint) assert.match(issues(text)[0]!.hint ?? '', hint);
    });
  }

  it('throws DW_E_POLICY with file:line:col in the message and the first fix as the hint', () => {
    assert.throws(
      () => compilePolicy('version: 1\nidentites: []\n', '/etc/dockward/policy.yaml'),
      (err: unknown) =>
        err instanceof DockwardError &&
        err.code === 'DW_E_POLICY' &&
        err.kind === 'usage' &&
        err.message.includes('/etc/dockward/policy.yaml:2:1: unknown key "identites"') &&
        /allowed here/.test(err.hint ?? ''),
    );
  });

  it('reports every problem, sorted by line', () => {
    const found = located(
      'version: 1\nidentities:\n  - match: { cn: a }\n    role: nope\nroles:\n  r:\n    allow:\n      - id: x\n        endpoints: [nope.nope]\n',
    );
    assert.deepEqual(
      found.map((f) => f.split(' ')[0]),
      ['4:11', '9:21'],
    );
  });
});

describe('identities', () => {
  const policy = compilePolicy(
    `version: 1
identities:
  - match: { serial: "0A:1B" }
    role: admin
  - match: { cn: "ci-*", ou: builders }
    role: operator
  - match: { san: "DNS:*.ops.example.com" }
    role: operator
  - match: { ou: "team-*" }
    role: readonly
`,
    'ids.yaml',
  );
  const who = (identity: { cn?: string; ou?: string[]; serial?: string; sans?: string[] }) =>
    policy.explain(
      input('container.list', {
        identity: {
          cn: identity.cn ?? 'x',
          ou: identity.ou ?? [],
          serial: identity.serial ?? 'ff',
          sans: identity.sans ?? [],
        },
      }),
    );

  const cases: [string, Parameters<typeof who>[0], string, string][] = [
    [
      'a serial, whatever its colons, case or leading zeros',
      { serial: '000a1b' },
      'admin',
      'identities[0] (serial=0A:1B)',
    ],
    [
      'a CN glob and an OU together',
      { cn: 'ci-runner-1', ou: ['builders'] },
      'operator',
      'identities[1] (cn=ci-* ou=builders)',
    ],
    [
      'a SAN glob, case-insensitively, with Node\'s "IP Address:" spelling normalized',
      { sans: ['DNS:Web.OPS.example.com'] },
      'operator',
      'identities[2] (san=DNS:*.ops.example.com)',
    ],
    ['any of several OUs', { ou: ['x', 'team-a'] }, 'readonly', 'identities[3] (ou=team-*)'],
  ];
  for (const [title, identity, role, via] of cases) {
    it(`matches ${title}`, () => {
      const e = who(identity);
      assert.equal(e.role, role);
      assert.equal(e.via, via);
    });
  }

  it('needs every field of a match (a CN without the OU does not match)', () => {
    assert.equal(who({ cn: 'ci-runner-1', ou: ['other'] }).rule, 'policy/no-identity');
  });

  it('denies a certificate no identity matches when there is no defaultRole', () => {
    const d = who({ cn: 'mallory' });
    assert.deepEqual([d.allow, d.role, d.rule], [false, '(none)', 'policy/no-identity']);
    assert.match(d.reason, /CN=mallory\) matches no identity in ids.yaml/);
  });

  it('uses the first identity that matches', () => {
    assert.equal(who({ serial: '0a1b', ou: ['builders'], cn: 'ci-1' }).role, 'admin');
  });

  it('matches an IP SAN written as Node prints it', () => {
    const p = compilePolicy(
      'version: 1\nidentities:\n  - { match: { san: "IP:10.0.0.*" }, role: admin }\n',
      'ip.yaml',
    );
    const d = p.decide(
      input('container.list', { identity: { cn: 'x', ou: [], serial: '1', sans: ['IP Address:10.0.0.7'] } }),
    );
    assert.equal(d.role, 'admin');
  });
});

describe('roles built on roles', () => {
  const policy = compilePolicy(
    `version: 1
defaultRole: team
roles:
  team:
    extends: operator
    allow:
      - id: prune
        endpoints: [system.df]
    deny:
      - id: no-latest
        endpoints: [container.create]
        unless: { labels: [team] }
        reason: label your containers
`,
    'team.yaml',
  );

  it('inherits the allow and deny rules of a built-in role, naming the role that wrote them', () => {
    assert.equal(policy.decide(input('system.info')).rule, 'readonly/harmless-reads');
    const d = policy.decide(
      input('container.create', {
        body: { Image: 'x', Labels: { team: 'a' }, HostConfig: { Privileged: true } },
      }),
    );
    assert.deepEqual([d.allow, d.role, d.rule], [false, 'team', 'operator/no-privileged']);
  });

  it('adds its own deny rules to the inherited ones (a deny anywhere wins)', () => {
    const d = policy.decide(input('container.create', { body: { Image: 'x' } }));
    assert.deepEqual([d.allow, d.rule], [false, 'team/no-latest']);
    assert.equal(
      policy.decide(input('container.create', { body: { Image: 'x', Labels: { team: 'a' } } })).allow,
      true,
    );
  });

  it('reads the body exactly for the endpoints some rule checks, and always for container start', () => {
    assert.deepEqual(policy.summary().bodyEndpoints, [
      'container.create',
      'container.exec',
      'container.start',
      'container.update',
      'service.create',
      'service.update',
      'volume.create',
    ]);
    assert.equal(policy.needsBody(ep('container.create')), true);
    assert.equal(policy.needsBody(ep('container.start')), true);
    assert.equal(policy.needsBody(ep('container.list')), false);
    assert.equal(policy.needsBody(ep('build')), false);
  });

  it('describes itself in one line for the start-up log', () => {
    assert.equal(policy.describe(), 'policy team.yaml: 0 identities, roles team, default role team');
  });

  it('summarizes its roles and the built-in roles it uses', () => {
    const s = policy.summary();
    assert.deepEqual(
      s.roles.map((r) => [r.name, r.builtin, r.extends, r.allow, r.deny]),
      [
        ['readonly', true, [], 1, 0],
        ['operator', true, ['readonly'], 5, 7],
        ['team', false, ['operator'], 6, 8],
      ],
    );
  });

  it('reads no body for a policy without body rules (except container start)', () => {
    const p = compilePolicy('version: 1\ndefaultRole: admin\n', 'a.yaml');
    assert.deepEqual(p.summary().bodyEndpoints, ['container.start']);
  });
});

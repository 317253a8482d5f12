import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockwardError, toExitCode } from '../../errors.js';
import type { EventFields } from './fields.js';
import { loadRuleSet, parseRuleDuration, parseRules, type RuleSet } from './rules.js';

/** The DW_E_MONITOR_RULES message of a rules text (fails when it parses). */
function problems(text: string, file = 'rules.yaml'): string {
  try {
    parseRules(text, file);
  } catch (err) {
    assert.ok(err instanceof DockwardError);
    assert.equal(err.code, 'DW_E_MONITOR_RULES');
    return err.message;
  }
  assert.fail('the rules were accepted');
}

function ruleWith(condition: string, extra = ''): string {
  return `- rule: r\n  condition: ${condition}\n  output: "x"\n  priority: warning\n${extra}`;
}

/** Whether a condition holds for an event. */
function holds(condition: string, fields: EventFields, lists = ''): boolean {
  const set: RuleSet = parseRules(`${lists}${ruleWith(JSON.stringify(condition))}`, 'c.yaml');
  return set.rules[0]!.test(fields);
}

const CREATE: EventFields = {
  'evt.source': 'docker',
  'docker.type': 'container',
  'docker.action': 'create',
  'container.name': 'web',
  'container.privileged': false,
  'container.cap_add': ['NET_ADMIN', 'CHOWN'],
  'container.mounts': ['/etc/ssl', '/srv/data'],
  'resp.status': 403,
  'exec.user': '',
};

describe('monitor rule conditions', () => {
  it('compare strings, numbers and booleans', () => {
    assert.equal(holds('container.name = web', CREATE), true);
    assert.equal(holds('container.name = "web"', CREATE), true);
    assert.equal(holds("container.name != 'web'", CREATE), false);
    assert.equal(holds('resp.status >= 400 and resp.status < 500', CREATE), true);
    assert.equal(holds('resp.status > 403', CREATE), false);
    assert.equal(holds('resp.status <= 403', CREATE), true);
    assert.equal(holds('container.privileged = false', CREATE), true);
    assert.equal(holds('exec.user = ""', CREATE), true);
  });

  it('combine tests with and, or, not and parentheses, and precedence puts and before or', () => {
    assert.equal(holds('container.name = db or container.name = web and resp.status = 403', CREATE), true);
    assert.equal(holds('(container.name = db or container.name = web) and resp.status = 1', CREATE), false);
    assert.equal(holds('not container.name = db', CREATE), true);
    assert.equal(holds('not (container.name = web)', CREATE), false);
    assert.equal(holds('not not container.privileged', CREATE), false);
  });

  it('apply in, contains, startswith, endswith, glob and pmatch to each element of a list field', () => {
    assert.equal(holds('container.cap_add in (SYS_ADMIN, NET_ADMIN)', CREATE), true);
    assert.equal(holds('container.cap_add in (SYS_ADMIN, ALL)', CREATE), false);
    assert.equal(holds('container.cap_add contains ADM', CREATE), true);
    assert.equal(holds('container.cap_add = CHOWN', CREATE), true);
    assert.equal(holds('container.cap_add != CHOWN', CREATE), false);
    assert.equal(holds('container.mounts startswith /srv', CREATE), true);
    assert.equal(holds('container.mounts endswith /ssl', CREATE), true);
    assert.equal(holds('container.mounts pmatch (/etc)', CREATE), true);
    assert.equal(holds('container.mounts pmatch (/et, /srv/dat)', CREATE), false);
    assert.equal(holds('container.mounts glob "/srv/*"', CREATE), true);
    assert.equal(holds('container.name glob (db-*, w?b)', CREATE), true);
    assert.equal(holds('container.name icontains WE', CREATE), true);
  });

  it('test exists, and treat every test of a missing field as false', () => {
    assert.equal(holds('container.name exists', CREATE), true);
    assert.equal(holds('user.identity exists', CREATE), false);
    assert.equal(holds('user.identity != olivia', CREATE), false);
    assert.equal(holds('not user.identity = olivia', CREATE), true);
    assert.equal(holds('container.devices exists', { ...CREATE, 'container.devices': [] }), false);
  });

  it('expand a list name inside in ( ) and a macro in place of a test', () => {
    const prefix =
      '- list: caps\n  items: [SYS_ADMIN, NET_ADMIN]\n- macro: created\n  condition: docker.action = create\n';
    assert.equal(holds('created and container.cap_add in (caps)', CREATE, prefix), true);
    assert.equal(holds('container.cap_add in ("caps")', CREATE, prefix), false);
  });
});

describe('parseRules', () => {
  it('compiles a Falco-like rule with tags, exceptions, rate and throttle', () => {
    const set = parseRules(
      `- rule: Denials
  desc: many denials
  condition: evt.type = request and req.decision = deny
  output: "denied %user.identity at %req.endpoint"
  priority: WARNING
  tags: [gateway]
  exceptions:
    - name: ci
      condition: user.identity = ci-bot
  rate: { count: 3, within: 1m, by: user.identity }
  throttle: { within: 5m, by: [user.identity, client.address] }
`,
      'r.yaml',
    );
    const rule = set.rules[0]!;
    assert.equal(rule.priority, 'warning');
    assert.deepEqual(rule.tags, ['gateway']);
    assert.deepEqual(rule.rate, { count: 3, withinMs: 60_000, by: ['user.identity'] });
    assert.deepEqual(rule.throttle, { withinMs: 300_000, by: ['user.identity', 'client.address'] });
    assert.deepEqual(rule.outputFields, ['user.identity', 'req.endpoint', 'client.address']);
    assert.equal(rule.exceptions[0]!.test({ 'user.identity': 'ci-bot' }), true);
    assert.equal(rule.definedAt, 'r.yaml:1');
  });

  it('accepts an empty file as no rules', () => {
    assert.deepEqual(parseRules('', 'e.yaml').rules, []);
  });

  it('reports a YAML syntax error with its line and column', () => {
    assert.match(problems('- rule: a\n  condition: [x\n'), /rules\.yaml:\d+:\d+: /);
    assert.match(problems('- rule: a\n  rule: b\n'), /^rules\.yaml:2:3: Map keys must be unique/m);
  });

  it('reports a file that is not a list of entries, and an entry that is none of rule, list, macro', () => {
    assert.match(problems('rule: a\n'), /rules\.yaml:1:1: a rules file is a YAML list of entries/);
    assert.match(
      problems('- rule: a\n  condition: evt.type = x\n  output: o\n  priority: debug\n- name: b\n'),
      /rules\.yaml:5:3: an entry must be a rule, a list or a macro/,
    );
  });

  it('reports an unknown key at the key, with the closest known one', () => {
    const msg = problems(ruleWith('evt.type = x', '  prority: debug\n'));
    assert.match(msg, /rules\.yaml:5:3: unknown key "prority" \(did you mean "priority"\?\)/);
  });

  it('reports an unknown key inside rate at the key', () => {
    const msg = problems(ruleWith('evt.type = x', '  rate: { count: 2, window: 60s }\n'));
    assert.match(msg, /rules\.yaml:5:21: unknown key "window"/);
  });

  it('reports a value of the wrong type at the value', () => {
    const msg = problems(ruleWith('evt.type = x', '  enabled: "yes"\n'));
    assert.match(msg, /rules\.yaml:5:12: enabled: /);
  });

  it('reports an unknown priority at the value, listing the known ones', () => {
    const msg = problems('- rule: r\n  condition: evt.type = x\n  output: o\n  priority: urgent\n');
    assert.match(msg, /rules\.yaml:4:13: unknown priority "urgent" \(use one of: emergency, alert/);
  });

  it('reports a rule without output or priority at the rule', () => {
    assert.match(
      problems('- rule: r\n  condition: evt.type = x\n'),
      /rules\.yaml:1:3: rule "r" has no output, priority/,
    );
  });

  it('reports a rule without a condition that changes no earlier rule', () => {
    assert.match(
      problems('- rule: r\n  enabled: false\n'),
      /rules\.yaml:1:3: rule "r" has no condition and changes no earlier rule/,
    );
  });

  it('reports an unknown field in a condition at its line and column, with a suggestion', () => {
    const msg = problems(ruleWith('evt.type = x and container.privilegd = true'));
    assert.match(
      msg,
      /rules\.yaml:2:31: unknown field "container\.privilegd" \(did you mean "container\.privileged"\?\)/,
    );
  });

  it('maps a condition error inside a quoted or folded scalar to the file position', () => {
    const quoted = problems(ruleWith('"evt.type = x and (req.method = GET"'));
    assert.match(quoted, /rules\.yaml:2:49: expected "\)" but found the end of the condition/);
    const folded = problems(`- rule: r
  condition: >-
    evt.type = request
    and req.decison = deny
  output: o
  priority: debug
`);
    assert.match(folded, /rules\.yaml:4:9: unknown field "req\.decison"/);
  });

  it('reports bad condition syntax with the column of the offending token', () => {
    assert.match(
      problems(ruleWith('evt.type = x and')),
      /rules\.yaml:2:30: expected a field, a macro, "not" or "\(" but found the end/,
    );
    assert.match(problems(ruleWith('evt.type = x y')), /rules\.yaml:2:27: unexpected "y"/);
    assert.match(problems(ruleWith('evt.type ! x')), /rules\.yaml:2:23: unexpected "!"/);
    assert.match(problems(ruleWith('"evt.type = \'x"')), /rules\.yaml:2:26: unterminated string/);
    assert.match(problems(ruleWith('evt.type in x')), /rules\.yaml:2:26: expected "\("/);
    assert.match(problems(ruleWith('evt.type')), /rules\.yaml:2:22: field "evt\.type" needs an operator/);
    assert.match(problems(ruleWith('resp.status = high')), /rules\.yaml:2:28: resp\.status is a number/);
    assert.match(
      problems(ruleWith('resp.status contains 4')),
      /rules\.yaml:2:26: "contains" needs a text field/,
    );
    assert.match(
      problems(ruleWith('no_such_macro')),
      /rules\.yaml:2:14: unknown field or macro "no_such_macro"/,
    );
  });

  it('reports an output naming an unknown field at the field', () => {
    const msg = problems(
      '- rule: r\n  condition: evt.type = x\n  output: "who %user.identity from %client.addr"\n  priority: debug\n',
    );
    assert.match(
      msg,
      /rules\.yaml:3:36: unknown field "%client\.addr" in output \(did you mean "client\.address"\?/,
    );
  });

  it('reports an unknown field in rate.by and a malformed duration', () => {
    const msg = problems(ruleWith('evt.type = x', '  rate: { count: 2, within: soon, by: user.name }\n'));
    assert.match(msg, /rules\.yaml:5:\d+: "soon" is not a duration/);
    assert.match(msg, /rules\.yaml:5:\d+: unknown field "user\.name"/);
  });

  it('reports a macro that refers to itself, and an error inside a macro at the macro', () => {
    assert.match(
      problems('- macro: m\n  condition: m and evt.type = x\n' + ruleWith('m')),
      /rules\.yaml:2:14: macro "m" refers to itself/,
    );
    assert.match(
      problems('- macro: m\n  condition: evt.typ = x\n' + ruleWith('m')),
      /rules\.yaml:2:14: unknown field "evt\.typ"/,
    );
  });

  it('reports every problem of the file, not only the first, and loads nothing', () => {
    const msg = problems(
      `${ruleWith('evt.typ = x')}- rule: s\n  condition: evt.type = x\n  output: o\n  priority: loud\n`,
    );
    assert.equal(msg.split('\n').length, 3);
  });

  it('is a usage error: exit code 2', () => {
    try {
      parseRules('- rule: r\n', 'r.yaml');
      assert.fail('accepted');
    } catch (err) {
      assert.equal(toExitCode(err), 2);
    }
  });
});

describe('loadRuleSet', () => {
  it('lets a user file disable a default rule by name', () => {
    const set = loadRuleSet({
      files: [{ path: 'u.yaml', text: '- rule: Daemon configuration reloaded\n  enabled: false\n' }],
    });
    assert.equal(set.rules.find((r) => r.name === 'Daemon configuration reloaded')?.enabled, false);
  });

  it('lets a user file override a default rule, replace a list, and add a rule using default macros', () => {
    const set = loadRuleSet({
      files: [
        {
          path: 'u.yaml',
          text: `- list: allowed_registries
  items: [docker.io, registry.example.com]
- rule: Privileged container
  priority: emergency
- rule: Stopped
  condition: container_created and container.name = x
  output: "%container.name"
  priority: info
`,
        },
      ],
    });
    assert.deepEqual(set.lists.get('allowed_registries'), ['docker.io', 'registry.example.com']);
    const priv = set.rules.find((r) => r.name === 'Privileged container')!;
    assert.equal(priv.priority, 'emergency');
    assert.equal(
      priv.test({ 'docker.type': 'container', 'docker.action': 'create', 'container.privileged': true }),
      true,
    );
    assert.equal(set.rules.at(-1)?.priority, 'informational');
  });

  it('extends a list with append: true', () => {
    const set = loadRuleSet({
      files: [{ path: 'u.yaml', text: '- list: shell_binaries\n  items: [nu]\n  append: true\n' }],
    });
    assert.ok(set.lists.get('shell_binaries')?.includes('sh'));
    assert.ok(set.lists.get('shell_binaries')?.includes('nu'));
  });

  it('refuses the whole set when any file has a problem, naming that file', () => {
    assert.throws(
      () =>
        loadRuleSet({
          files: [
            { path: 'good.yaml', text: ruleWith('evt.type = x') },
            { path: 'bad.yaml', text: ruleWith('evt.type === x') },
          ],
        }),
      (err: unknown) => err instanceof DockwardError && /^bad\.yaml:2:/m.test(err.message),
    );
  });

  it('can run without the default rules', () => {
    assert.deepEqual(loadRuleSet({ defaults: false }).rules, []);
  });
});

describe('parseRuleDuration', () => {
  it('reads ms, s, m, h and d, and refuses zero, units it does not know and over 30 days', () => {
    assert.equal(parseRuleDuration('500ms'), 500);
    assert.equal(parseRuleDuration('60s'), 60_000);
    assert.equal(parseRuleDuration('1.5h'), 5_400_000);
    assert.equal(parseRuleDuration('2d'), 172_800_000);
    assert.equal(parseRuleDuration('0s'), undefined);
    assert.equal(parseRuleDuration('5 minutes'), undefined);
    assert.equal(parseRuleDuration('31d'), undefined);
  });
});

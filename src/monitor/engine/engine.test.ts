import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { RawEvent } from '../model.js';
import { createEngine } from './engine.js';
import { FIELDS, toFields } from './fields.js';
import { MonitorMetrics } from './metrics.js';
import { loadRuleSet, parseRules } from './rules.js';
import {
  at,
  connectionRecord,
  createEvent,
  execEvent,
  inspectOf,
  OLIVIA,
  requestRecord,
} from './test-support.js';

const DENY_RULES = (extra: string) =>
  parseRules(
    `- rule: Denied
  condition: evt.type = request and req.decision = deny
  output: "denied %user.identity"
  priority: error
  tags: [t1]
${extra}`,
    'engine.yaml',
  );

const deny = (s: number, cn = 'olivia') =>
  requestRecord({ time: at(s), decision: 'deny', identity: { ...OLIVIA, cn } });

describe('createEngine', () => {
  it('raises an alert in falcosidekick format, with the event time and Falco priority spelling', () => {
    const engine = createEngine(loadRuleSet({}), { hostname: 'mon-1', uuid: () => 'uuid-1' });
    const [alert, ...rest] = engine.evaluate(createEvent('evil'));
    assert.equal(rest.length, 0);
    const fields = toFields(createEvent('evil'))!;
    assert.deepEqual(alert, {
      uuid: 'uuid-1',
      output: `Container created from an image outside the allowed registries (container=evil id=${fields['container.id']} image=evil.example.com/x:1 registry=evil.example.com daemon=unix:///run/docker.sock)`,
      priority: 'Warning',
      rule: 'Image from untrusted registry',
      time: fields['evt.time'],
      output_fields: {
        'evt.time': fields['evt.time'],
        'container.name': 'evil',
        'container.id': fields['container.id'],
        'container.image': 'evil.example.com/x:1',
        'image.registry': 'evil.example.com',
        'daemon.origin': 'unix:///run/docker.sock',
      },
      source: 'dockward-docker',
      tags: ['container', 'image', 'supply_chain'],
      hostname: 'mon-1',
    });
  });

  it('labels gateway alerts dockward-gateway and renders a missing field as <NA>', () => {
    const rules = parseRules(
      '- rule: R\n  condition: evt.type = connection\n  output: "%client.address %user.identity"\n  priority: info\n',
      'r.yaml',
    );
    const [alert] = createEngine(rules, { hostname: 'h' }).evaluate(connectionRecord({ time: at(3) }));
    assert.equal(alert?.source, 'dockward-gateway');
    assert.equal(alert?.output, '127.0.0.1 <NA>');
    assert.equal(alert?.priority, 'Informational');
    assert.equal(alert?.time, at(3));
    assert.equal(alert?.output_fields['user.identity'], null);
  });

  it('stamps events without a time (source lifecycle) with the injected clock', () => {
    const rules = parseRules(
      '- rule: Lost\n  condition: evt.type = source.disconnected\n  output: "lost %daemon.origin: %source.error"\n  priority: error\n',
      'r.yaml',
    );
    const engine = createEngine(rules, { hostname: 'h', now: () => new Date('2025-01-02T03:04:05.000Z') });
    const [alert] = engine.evaluate({
      source: 'docker',
      origin: 'tcp://h:2376',
      lifecycle: 'disconnected',
      error: 'EOF',
    });
    assert.equal(alert?.time, '2025-01-02T03:04:05.000Z');
    assert.equal(alert?.output, 'lost tcp://h:2376: EOF');
  });

  it('skips a rule whose exception matches', () => {
    const rules = DENY_RULES('  exceptions:\n    - name: ci\n      condition: user.identity = ci-bot\n');
    const engine = createEngine(rules, { hostname: 'h' });
    assert.equal(engine.evaluate(deny(0, 'ci-bot')).length, 0);
    assert.equal(engine.evaluate(deny(1)).length, 1);
  });

  it('ignores disabled rules', () => {
    const rules = loadRuleSet({
      files: [{ path: 'u.yaml', text: '- rule: Image from untrusted registry\n  enabled: false\n' }],
    });
    assert.deepEqual(createEngine(rules, { hostname: 'h' }).evaluate(createEvent('evil')), []);
  });

  describe('rate', () => {
    it('alerts at the count-th match within the window, then needs a fresh burst', () => {
      const engine = createEngine(DENY_RULES('  rate: { count: 3, within: 10s, by: user.identity }\n'), {
        hostname: 'h',
      });
      const alerts = [0, 1, 2, 3, 4, 5].map((s) => engine.evaluate(deny(s)).length);
      assert.deepEqual(alerts, [0, 0, 1, 0, 0, 1]);
    });

    it('forgets matches older than the window, by event time', () => {
      const engine = createEngine(DENY_RULES('  rate: { count: 3, within: 10s, by: user.identity }\n'), {
        hostname: 'h',
      });
      const alerts = [0, 5, 11, 16, 18].map((s) => engine.evaluate(deny(s)).length);
      // 0 and 5 have left the window by 16; 11, 16, 18 are three within 10s.
      assert.deepEqual(alerts, [0, 0, 0, 0, 1]);
    });

    it('counts each key apart', () => {
      const engine = createEngine(DENY_RULES('  rate: { count: 2, within: 1m, by: user.identity }\n'), {
        hostname: 'h',
      });
      const alerts = [deny(0, 'a'), deny(1, 'b'), deny(2, 'a'), deny(3, 'b')].map(
        (e) => engine.evaluate(e).length,
      );
      assert.deepEqual(alerts, [0, 0, 1, 1]);
    });
  });

  describe('throttle', () => {
    it('suppresses repeats of a rule and key within the window and counts them', () => {
      const engine = createEngine(DENY_RULES('  throttle: { within: 1m, by: user.identity }\n'), {
        hostname: 'h',
      });
      const alerts = [deny(0), deny(10), deny(20, 'bob'), deny(59), deny(61)].map(
        (e) => engine.evaluate(e).length,
      );
      assert.deepEqual(alerts, [1, 0, 1, 0, 1]);
      assert.deepEqual(engine.stats(), { events: 5, alerts: 3, suppressed: 2 });
    });

    it('without by, throttles the rule as a whole', () => {
      const engine = createEngine(DENY_RULES('  throttle: { within: 1m }\n'), { hostname: 'h' });
      assert.deepEqual(
        [deny(0, 'a'), deny(1, 'b')].map((e) => engine.evaluate(e).length),
        [1, 0],
      );
    });
  });

  describe('bounded state', () => {
    it('keeps at most maxKeys keys per rule, forgetting the least recent', () => {
      const rules = DENY_RULES('  rate: { count: 2, within: 1h, by: user.identity }\n');
      const engine = createEngine(rules, { hostname: 'h', maxKeys: 50 });
      for (let i = 0; i < 500; i++) engine.evaluate(deny(i, `id-${i}`));
      assert.equal(engine.stateSize(), 50);
      // id-499 is among the kept keys: its second denial completes the burst.
      assert.equal(engine.evaluate(deny(500, 'id-499')).length, 1);
      // id-0 was forgotten: its second denial starts over.
      assert.equal(engine.evaluate(deny(501, 'id-0')).length, 0);
    });

    it('drops expired windows when full before the least recent live one', () => {
      const rules = DENY_RULES('  rate: { count: 2, within: 10s, by: user.identity }\n');
      const engine = createEngine(rules, { hostname: 'h', maxKeys: 3 });
      engine.evaluate(deny(100, 'a'));
      engine.evaluate(deny(101, 'b'));
      engine.evaluate(deny(50, 'late')); // arrives late: its window has expired by t=102
      engine.evaluate(deny(102, 'c')); // over the cap: "late" goes, "a" (least recent) stays
      assert.equal(engine.stateSize(), 3);
      assert.equal(engine.evaluate(deny(103, 'a')).length, 1);
    });

    it('keeps the addresses learned per identity bounded', () => {
      const engine = createEngine(loadRuleSet({}), { hostname: 'h', maxKeys: 10 });
      for (let i = 0; i < 100; i++) {
        engine.evaluate(
          connectionRecord({
            identity: { ...OLIVIA, cn: `user-${i}` },
            client: { address: '127.0.0.1', port: i },
          }),
        );
      }
      assert.ok(engine.stateSize() <= 10);
    });
  });

  describe('reconciled containers', () => {
    it('judges a container found by reconciling once, even when listed again after another reconnect', () => {
      const engine = createEngine(loadRuleSet({}), { hostname: 'h' });
      const found = (): RawEvent => ({
        ...(createEvent('priv') as Extract<RawEvent, { event: unknown }>),
        reconciled: true,
      });
      const first = engine.evaluate(found()).map((a) => a.rule);
      assert.ok(first.includes('Privileged container'));
      assert.deepEqual(engine.evaluate(found()), []);
    });

    it('does not judge again a container whose create event was seen', () => {
      const engine = createEngine(loadRuleSet({}), { hostname: 'h' });
      assert.ok(engine.evaluate(createEvent('priv')).length > 0);
      const found = { ...(createEvent('priv') as Extract<RawEvent, { event: unknown }>), reconciled: true };
      assert.deepEqual(engine.evaluate(found), []);
    });
  });

  it('counts events, alerts and suppressed alerts in Prometheus', async () => {
    const metrics = new MonitorMetrics();
    const engine = createEngine(DENY_RULES('  throttle: { within: 1m }\n'), { hostname: 'h', metrics });
    engine.evaluate(deny(0));
    engine.evaluate(deny(1));
    engine.evaluate(execEvent('benign', { entrypoint: 'id', user: '1000' }));
    const text = await metrics.registry.metrics();
    assert.match(text, /dockward_monitor_alerts_total\{rule="Denied",priority="Error"\} 1/);
    assert.match(text, /dockward_monitor_events_total\{source="gateway"\} 2/);
    assert.match(text, /dockward_monitor_events_total\{source="docker"\} 1/);
    assert.match(text, /dockward_monitor_suppressed_total\{rule="Denied"\} 1/);
  });

  it('observe() counts alerts handed to it', async () => {
    const metrics = new MonitorMetrics();
    const alerts = createEngine(loadRuleSet({}), { hostname: 'h' }).evaluate(createEvent('priv'));
    metrics.observe(alerts);
    const text = await metrics.registry.metrics();
    assert.match(text, /dockward_monitor_alerts_total\{rule="Privileged container",priority="Critical"\} 1/);
  });
});

describe('toFields', () => {
  it('has every field documented in docs/monitor-rules.md', () => {
    const doc = readFileSync(new URL('../../../docs/monitor-rules.md', import.meta.url), 'utf8');
    for (const name of Object.keys(FIELDS))
      assert.ok(doc.includes(`\`${name}\``), `${name} is not documented`);
  });

  it('reads the identity, endpoint and decision of a request record', () => {
    const f = toFields(requestRecord({ decision: 'deny', rule: 'operator/no-privileged', time: at(1) }))!;
    assert.equal(f['evt.source'], 'gateway');
    assert.equal(f['evt.type'], 'request');
    assert.equal(f['user.identity'], 'olivia');
    assert.deepEqual(f['user.ou'], ['operator']);
    assert.equal(f['req.endpoint'], 'container.create');
    assert.equal(f['req.path'], '/containers/create');
    assert.equal(f['req.decision'], 'deny');
    assert.equal(f['req.rule'], 'operator/no-privileged');
    assert.equal(f['evt.time'], at(1));
  });

  it('reads an exec from its inspect: process, arguments, tty, user and the effective user', () => {
    const f = toFields(
      execEvent('benign', { entrypoint: '/bin/busybox', arguments: ['sh', '-l'], tty: true, user: '0:0' }),
    )!;
    assert.equal(f['docker.action'], 'exec_start');
    assert.equal(f['exec.cmdline'], '/bin/busybox sh -l');
    assert.equal(f['exec.process'], 'sh');
    assert.deepEqual(f['exec.args'], ['-l']);
    assert.equal(f['exec.tty'], true);
    assert.equal(f['exec.user'], '0:0');
    assert.equal(f['exec.effective_user'], 'root');
    assert.equal(f['exec.healthcheck'], false);
  });

  it('takes the container user as the exec user when the exec names none', () => {
    const e = execEvent('benign', { entrypoint: 'id' }) as Extract<RawEvent, { event: unknown }>;
    const container = inspectOf('benign');
    container.Config = { ...(container.Config as object), User: 'app' };
    assert.equal(toFields({ ...e, container })!['exec.effective_user'], 'app');
  });

  it('falls back to the event text for an exec whose inspect is missing', () => {
    const { exec: _gone, ...e } = execEvent('benign', {
      entrypoint: 'sh',
      arguments: ['-c', 'id'],
    }) as Extract<RawEvent, { event: unknown }>;
    const f = toFields(e)!;
    assert.equal(f['exec.cmdline'], 'sh -c id');
    assert.equal(f['exec.tty'], undefined);
    assert.equal(f['exec.id'], e.event.Actor.Attributes?.execID);
  });

  it('maps source lifecycle events to source.connected / source.disconnected', () => {
    const f = toFields({ source: 'docker', origin: 'unix:///s', lifecycle: 'connected' })!;
    assert.equal(f['evt.type'], 'source.connected');
    assert.equal(f['daemon.origin'], 'unix:///s');
  });
});

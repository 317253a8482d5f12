/**
 * The rule engine: turns raw events into falcosidekick-shaped alerts. Pure apart from its own
 * state (rate windows, throttles, learned identity addresses, containers already judged), which
 * is bounded: every map holds at most `maxKeys` keys, and windows expire by event time, not by
 * the wall clock, so replaying a log gives the same alerts.
 */
import { randomUUID } from 'node:crypto';
import type { Alert, Priority, RawEvent } from '../model.js';
import { alertSource, type EventFields, type FieldValue, toFields } from './fields.js';
import type { MonitorMetrics } from './metrics.js';
import { type CompiledRule, renderOutput, type RuleSet } from './rules.js';

export interface EngineOptions {
  hostname: string;
  /** The clock for events that carry no time (source lifecycle). */
  now?: () => Date;
  uuid?: () => string;
  /** At most this many keys per rule for rates, throttles and learned values (default 10000). */
  maxKeys?: number;
  /** When given, the engine counts events, alerts and suppressed alerts itself. */
  metrics?: MonitorMetrics;
}

export interface EngineStats {
  events: number;
  alerts: number;
  suppressed: number;
}

export interface Engine {
  /** Evaluates one event against every enabled rule; returns the alerts it raises (often none). */
  evaluate(event: RawEvent): Alert[];
  stats(): EngineStats;
  /** How many keys the engine's state holds now (for tests and diagnostics). */
  stateSize(): number;
}

/** Falco's spelling of each priority. */
const FALCO_PRIORITY: Record<Priority, string> = {
  emergency: 'Emergency',
  alert: 'Alert',
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  informational: 'Informational',
  debug: 'Debug',
};

/** Values one learned key keeps (e.g. addresses per identity); the oldest is forgotten first. */
const MAX_VALUES_PER_KEY = 64;
/** Sweep expired windows this often (in events), besides whenever a map is full. */
const SWEEP_EVERY = 1000;

interface RuleState {
  rule: CompiledRule;
  windows: Map<string, number[]>;
  throttles: Map<string, number>;
  learned: Map<string, Set<string>>;
}

function keyOf(fields: EventFields, by: readonly string[]): string {
  return JSON.stringify(by.map((f) => fields[f] ?? null));
}

/** Map insertion order doubles as recency: touching a key moves it to the end. */
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

function outputValue(v: FieldValue | undefined): string | number | boolean | null | string[] {
  return v === undefined ? null : v;
}

/** Creates a stateful engine over a compiled rule set. */
export function createEngine(ruleSet: RuleSet, options: EngineOptions): Engine {
  const now = options.now ?? (() => new Date());
  const uuid = options.uuid ?? randomUUID;
  const maxKeys = Math.max(1, options.maxKeys ?? 10_000);
  const states: RuleState[] = ruleSet.rules
    .filter((r) => r.enabled)
    .map((rule) => ({ rule, windows: new Map(), throttles: new Map(), learned: new Map() }));
  // Containers already judged: a reconnect's reconcile lists them again, and must not re-alert.
  const judged = new Map<string, true>();
  const counts: EngineStats = { events: 0, alerts: 0, suppressed: 0 };

  function sweep(state: RuleState, t: number): void {
    const { rate, throttle } = state.rule;
    if (rate) {
      for (const [key, times] of state.windows) {
        if ((times[times.length - 1] ?? 0) <= t - rate.withinMs) state.windows.delete(key);
      }
    }
    if (throttle) for (const [key, until] of state.throttles) if (until <= t) state.throttles.delete(key);
  }

  function bound<V>(map: Map<string, V>, state: RuleState, t: number): void {
    if (map.size <= maxKeys) return;
    sweep(state, t);
    for (const key of map.keys()) {
      if (map.size <= maxKeys) break;
      map.delete(key);
    }
  }

  /** Applies the rule's state (learning, rate, throttle): true when it should alert now. */
  function passes(state: RuleState, fields: EventFields, t: number): boolean {
    const { rule } = state;
    if (rule.newValue) {
      const value = fields[rule.newValue.of];
      if (value === undefined) return false;
      const text = Array.isArray(value) ? value.join(',') : String(value);
      const key = keyOf(fields, rule.newValue.by);
      const seen = state.learned.get(key);
      if (!seen) {
        // The first value of a key is learned silently: it is the baseline, not news.
        touch(state.learned, key, new Set([text]));
        bound(state.learned, state, t);
        return false;
      }
      touch(state.learned, key, seen);
      if (seen.has(text)) return false;
      seen.add(text);
      if (seen.size > MAX_VALUES_PER_KEY) seen.delete(seen.values().next().value as string);
    }
    if (rule.rate) {
      const key = keyOf(fields, rule.rate.by);
      const since = t - rule.rate.withinMs;
      const times = (state.windows.get(key) ?? []).filter((x) => x > since);
      times.push(t);
      if (times.length < rule.rate.count) {
        touch(state.windows, key, times);
        bound(state.windows, state, t);
        return false;
      }
      // A burst alerts once; the next alert needs a fresh burst.
      state.windows.delete(key);
    }
    if (rule.throttle) {
      const key = keyOf(fields, rule.throttle.by);
      const until = state.throttles.get(key);
      if (until !== undefined && t < until) {
        counts.suppressed++;
        options.metrics?.observeSuppressed(rule.name);
        return false;
      }
      touch(state.throttles, key, t + rule.throttle.withinMs);
      bound(state.throttles, state, t);
    }
    return true;
  }

  function alertFor(rule: CompiledRule, fields: EventFields, time: Date): Alert {
    const outputFields: Alert['output_fields'] = { 'evt.time': time.toISOString() };
    for (const name of rule.outputFields) outputFields[name] = outputValue(fields[name]);
    return {
      uuid: uuid(),
      output: renderOutput(rule.output, fields),
      priority: FALCO_PRIORITY[rule.priority],
      rule: rule.name,
      time: time.toISOString(),
      output_fields: outputFields,
      source: alertSource(fields),
      tags: [...rule.tags],
      hostname: options.hostname,
    };
  }

  function evaluate(event: RawEvent): Alert[] {
    counts.events++;
    options.metrics?.observeEvent(event);
    const fields = toFields(event);
    if (!fields) return [];
    const stamp = typeof fields['evt.time'] === 'string' ? Date.parse(fields['evt.time']) : Number.NaN;
    const time = Number.isNaN(stamp) ? now() : new Date(stamp);
    const t = time.getTime();
    if (counts.events % SWEEP_EVERY === 0) for (const s of states) sweep(s, t);

    const containerId = fields['container.id'];
    if (fields['docker.type'] === 'container' && typeof containerId === 'string') {
      const created = fields['docker.action'] === 'create' || fields['container.reconciled'] === true;
      if (fields['container.reconciled'] === true && judged.has(containerId)) return [];
      if (created) {
        touch(judged, containerId, true);
        if (judged.size > maxKeys) judged.delete(judged.keys().next().value as string);
      } else if (fields['docker.action'] === 'destroy') judged.delete(containerId);
    }

    const alerts: Alert[] = [];
    for (const state of states) {
      const { rule } = state;
      if (!rule.test(fields)) continue;
      if (rule.exceptions.some((e) => e.test(fields))) continue;
      if (!passes(state, fields, t)) continue;
      alerts.push(alertFor(rule, fields, time));
    }
    counts.alerts += alerts.length;
    options.metrics?.observe(alerts);
    return alerts;
  }

  return {
    evaluate,
    stats: () => ({ ...counts }),
    stateSize: () =>
      judged.size + states.reduce((n, s) => n + s.windows.size + s.throttles.size + s.learned.size, 0),
  };
}

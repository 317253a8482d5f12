import { Counter, Registry } from 'prom-client';
import type { Alert, RawEvent } from '../model.js';

/**
 * The monitor's Prometheus counters, in a registry of their own. Rule names come from the rule
 * set, so the `rule` label is bounded by it; no label carries an address or an identity.
 */
export class MonitorMetrics {
  readonly registry = new Registry();
  readonly alerts = new Counter({
    name: 'dockward_monitor_alerts_total',
    help: 'Alerts raised, by rule and priority.',
    labelNames: ['rule', 'priority'] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'dockward_monitor_events_total',
    help: 'Events evaluated, by source (gateway, docker).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly suppressed = new Counter({
    name: 'dockward_monitor_suppressed_total',
    help: 'Alerts a rule throttle suppressed, by rule.',
    labelNames: ['rule'] as const,
    registers: [this.registry],
  });

  /** Counts raised alerts. */
  observe(alerts: readonly Alert[]): void {
    for (const a of alerts) this.alerts.inc({ rule: a.rule, priority: a.priority });
  }

  /** Counts one event handed to the engine. */
  observeEvent(event: RawEvent): void {
    this.events.inc({ source: event.source });
  }

  /** Counts one alert a throttle suppressed. */
  observeSuppressed(rule: string): void {
    this.suppressed.inc({ rule });
  }
}

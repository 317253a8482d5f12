/**
 * The monitor's shared vocabulary: what sources emit (raw events), what the rule engine turns them
 * into (alerts), and what sinks deliver. Sources and sinks do I/O; the engine is pure.
 */
import type { AuditRecord } from '../gateway/audit-log/record.js';

/** A message of `GET /events` as dockerd sends it (API 1.41). */
export interface DockerEventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  time: number;
  timeNano?: number;
}

/**
 * What a source hands to the engine. Docker events come enriched: for container create/start
 * the source adds `GET /containers/{id}/json`, for exec_create/exec_start `GET /exec/{id}/json`
 * (and the container's inspect, to recognise health-check execs). `reconciled` marks a
 * container found by listing after a reconnect, whose create event was never seen.
 */
export type RawEvent =
  | { source: 'gateway' /** The audit log file or feed it came from. */; origin: string; record: AuditRecord }
  | {
      source: 'docker';
      /** The daemon URL (`unix:///run/docker.sock`, `tcp://host:2376`). */
      origin: string;
      event: DockerEventMessage;
      container?: Record<string, unknown>;
      exec?: Record<string, unknown>;
      reconciled?: boolean;
    }
  | {
      source: 'docker';
      origin: string /** Source lifecycle: lost or regained the stream. */;
      lifecycle: 'connected' | 'disconnected';
      error?: string;
    };

export const PRIORITIES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'informational',
  'debug',
] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * An alert in falcosidekick's input format (so it can be forwarded to falcosidekick unchanged):
 * `uuid, output, priority, rule, time, output_fields, source, tags, hostname`.
 */
export interface Alert {
  uuid: string;
  output: string;
  /** Falco spells priorities capitalised (`Critical`, `Warning`, `Informational`). */
  priority: string;
  rule: string;
  /** RFC 3339 with nanoseconds is accepted; we write ISO 8601 milliseconds. */
  time: string;
  output_fields: Record<string, string | number | boolean | null | string[]>;
  /** `dockward-gateway` or `dockward-docker`. */
  source: string;
  tags: string[];
  hostname: string;
}

/** Where alerts go. `deliver` resolves once the alert is safely handed over (or spooled). */
export interface AlertSink {
  readonly name: string;
  deliver(alert: Alert): Promise<void>;
  /** Flushes what is pending (spool, sockets) and releases resources. */
  close(): Promise<void>;
}

/** A source of raw events; `start` begins emitting, `stop` ends it and resolves when idle. */
export interface EventSource {
  readonly name: string;
  start(emit: (event: RawEvent) => void): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Helpers for the monitor engine unit tests: raw events built from messages and inspects a real
 * dockerd 20.10 sent (test/fixtures/monitor, captured with `curl --unix-socket S /events`), and
 * audit records shaped as the gateway writes them.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionRecord, RequestRecord } from '../../gateway/audit-log/record.js';
import type { DockerEventMessage, RawEvent } from '../model.js';

const FIXTURES = new URL('../../../test/fixtures/monitor/', import.meta.url);

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

export const DOCKER_EVENTS = fixture<DockerEventMessage[]>('docker-events.json');
export const ORIGIN = 'unix:///run/docker.sock';

/** The `GET /containers/{id}/json` of a fixture container: priv, benign, evil, hc. */
export function inspectOf(name: 'priv' | 'benign' | 'evil' | 'hc'): Record<string, unknown> {
  return fixture<Record<string, unknown>>(`container-inspect-${name}.json`);
}

/** The first captured message of a container with an action (prefix, e.g. `exec_start`). */
export function messageOf(container: string, action: string, nth = 0): DockerEventMessage {
  const found = DOCKER_EVENTS.filter(
    (m) => m.Actor.Attributes?.name === container && m.Action.split(':')[0] === action,
  )[nth];
  if (!found) throw new Error(`no captured ${action} #${nth} for ${container}`);
  return structuredClone(found);
}

/** A `container create` event enriched with the container's inspect, as the source emits it. */
export function createEvent(name: 'priv' | 'benign' | 'evil' | 'hc', container = inspectOf(name)): RawEvent {
  const event = messageOf(name, 'create');
  event.Actor.ID = String(container.Id ?? event.Actor.ID);
  if (typeof container.Name === 'string')
    event.Actor.Attributes = { ...event.Actor.Attributes, name: container.Name.slice(1) };
  return { source: 'docker', origin: ORIGIN, event, container };
}

/** An inspect of the benign container with HostConfig/Config changes (a trigger made from it). */
export function variantOf(
  changes: {
    hostConfig?: Record<string, unknown>;
    config?: Record<string, unknown>;
    mounts?: unknown[];
    name?: string;
  },
  base: 'benign' | 'priv' = 'benign',
): Record<string, unknown> {
  const c = inspectOf(base);
  c.HostConfig = { ...(c.HostConfig as Record<string, unknown>), ...changes.hostConfig };
  c.Config = { ...(c.Config as Record<string, unknown>), ...changes.config };
  if (changes.mounts) c.Mounts = changes.mounts;
  if (changes.name) {
    c.Name = `/${changes.name}`;
    c.Id = `${changes.name.padEnd(12, '0')}${'f'.repeat(52)}`.slice(0, 64);
  }
  return c;
}

/**
 * An `exec_start` event with the exec's inspect. The captured exec inspects
 * (exec-inspect-*.json) show the shape: `ProcessConfig: {tty, entrypoint, arguments,
 * privileged, user?}`; `user` is absent when the exec did not ask for one.
 */
export function execEvent(
  container: 'benign' | 'hc',
  process: { entrypoint: string; arguments?: string[]; tty?: boolean; privileged?: boolean; user?: string },
  nth = 0,
): RawEvent {
  const event = messageOf(container, 'exec_start', nth);
  const cmd = [process.entrypoint, ...(process.arguments ?? [])].join(' ');
  event.Action = `exec_start: ${cmd}`;
  const exec = fixture<Record<string, unknown>>('exec-inspect-user1000.json');
  exec.ID = event.Actor.Attributes?.execID;
  exec.ProcessConfig = {
    tty: process.tty ?? false,
    entrypoint: process.entrypoint,
    arguments: process.arguments ?? [],
    privileged: process.privileged ?? false,
    ...(process.user !== undefined ? { user: process.user } : {}),
  };
  return { source: 'docker', origin: ORIGIN, event, exec, container: inspectOf(container) };
}

let seq = 1;
const HASH = 'a'.repeat(64);
const T0 = Date.parse('2025-03-01T10:00:00.000Z');

/** An ISO time `seconds` after a fixed start. */
export function at(seconds: number): string {
  return new Date(T0 + seconds * 1000).toISOString();
}

/** The hash-chain fields every record carries: the next sequence number, a fixed time and hashes. */
function chained(): { v: 1; seq: number; time: string; prev: string; hash: string } {
  return { v: 1, seq: seq++, time: at(0), prev: HASH, hash: HASH };
}

/** A request decision record as the gateway writes it. */
export function requestRecord(overrides: Partial<RequestRecord> = {}): RawEvent {
  const record: RequestRecord = {
    ...chained(),
    type: 'request',
    requestId: `req-${seq}`,
    connId: '7',
    client: { address: '127.0.0.1', port: 40312 },
    identity: { cn: 'olivia', ou: ['operator'], serial: '0a1b', fingerprint: 'f'.repeat(64) },
    method: 'POST',
    rawPath: '/v1.41/containers/create',
    canonicalPath: '/containers/create',
    apiVersion: '1.41',
    endpoint: 'container.create',
    decision: 'allow',
    userAgent: 'Docker-Client/28.0.1 (linux)',
    ...overrides,
  };
  return { source: 'gateway', origin: '/var/log/dockward/audit.log', record };
}

/** A connection record as the gateway writes it. */
export function connectionRecord(overrides: Partial<ConnectionRecord> = {}): RawEvent {
  const record: ConnectionRecord = {
    ...chained(),
    type: 'connection',
    connId: String(seq),
    event: 'accepted',
    client: { address: '127.0.0.1', port: 40312 },
    ...overrides,
  };
  return { source: 'gateway', origin: '/var/log/dockward/audit.log', record };
}

export const OLIVIA = { cn: 'olivia', ou: ['operator'], serial: '0a1b', fingerprint: 'f'.repeat(64) };

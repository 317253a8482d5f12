// Test helpers for the audit rules (only *.test.ts files import it): facts built from plain data.
import { parseDockerdArgs } from '../../daemon/cmdline.js';
import { type EffectiveConfig, mergeEffectiveConfig } from '../../daemon/effective-config.js';
import type { DaemonConfig } from '../../daemon/keys.js';
import type { AuditFacts, ContainerFact, Fact, FileFact } from '../model.js';

export const NOW = new Date('2025-06-01T00:00:00Z');

export function ok<T>(value: T): Fact<T> {
  return { state: 'ok', value };
}

export const missing = (reason = 'not collected in this test'): Fact<never> => ({ state: 'missing', reason });

/** The effective configuration of a daemon.json (and optional dockerd argv), defaults included. */
export function effective(
  config: DaemonConfig,
  argv?: string[],
  path = '/etc/docker/daemon.json',
): EffectiveConfig {
  return mergeEffectiveConfig({
    file: { path, config },
    ...(argv
      ? { flags: { where: '/lib/systemd/system/docker.service:12', parsed: parseDockerdArgs(argv) } }
      : {}),
    includeDefaults: true,
  });
}

/** Facts with only `config` known (others missing unless given). */
export function factsWith(overrides: Partial<AuditFacts> = {}): AuditFacts {
  return {
    target: { kind: 'root', root: '/fixture' },
    now: NOW,
    config: missing(),
    socketUnit: missing(),
    files: missing(),
    certs: missing(),
    keys: missing(),
    listeners: missing(),
    engine: missing(),
    dockerGroup: missing(),
    firewall: missing(),
    ...overrides,
  };
}

/** A container as inspect shows a plain `docker run busybox`. */
export function container(overrides: Partial<ContainerFact> = {}): ContainerFact {
  return {
    id: 'a'.repeat(64),
    name: '/plain',
    image: 'busybox',
    running: true,
    privileged: false,
    bindSources: [],
    networkMode: 'bridge',
    pidMode: '',
    ipcMode: 'private',
    utsMode: '',
    usernsMode: '',
    capAdd: [],
    securityOpt: [],
    devices: [],
    ...overrides,
  };
}

/** A file as the collector reports it: by default the docker socket, root:docker 0660. */
export function file(overrides: Partial<FileFact> = {}): FileFact {
  return {
    path: '/var/run/docker.sock',
    role: 'docker.sock',
    exists: true,
    type: 'socket',
    uid: 0,
    gid: 999,
    owner: 'root',
    group: 'docker',
    mode: 0o660,
    acl: [],
    ...overrides,
  };
}

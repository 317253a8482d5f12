/**
 * Hardening profiles: the settings `dockward daemon harden` merges into daemon.json.
 *
 * `baseline` is the seed 001 set. It does not write `"iptables": true` although `icc: false`
 * needs it: true is dockerd's default, and writing the key would make dockerd refuse to start on
 * hosts whose unit passes `--iptables` (a flag-vs-file conflict). When a config turns iptables
 * off, harden reports the icc/iptables conflict instead of silently re-enabling a firewall
 * setting someone chose on purpose.
 *
 * `remote-tls` is baseline plus a TLS listener that requires client certificates.
 */
import type { DaemonConfig, DaemonKey } from './keys.js';

export const PROFILE_NAMES = ['baseline', 'remote-tls'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface ProfileOptions {
  /** Folder of the server's TLS files (default /etc/docker/tls: ca.pem, cert.pem, key.pem). */
  certDir?: string;
  /** Address the TLS listener binds (default 0.0.0.0). */
  listenAddress?: string;
  /** TCP port of the TLS listener (default 2376, the conventional TLS port). */
  port?: number;
  /** Local unix socket kept next to the TLS listener (default /var/run/docker.sock). */
  socketPath?: string;
}

/** A profile: the settings and how each merges with what the user has. */
export interface Profile {
  name: string;
  description: string;
  settings: DaemonConfig;
  /** List keys whose entries are added to the user's (never removed): `hosts`. */
  unionKeys: readonly DaemonKey[];
  /** Object keys merged field by field, keeping the user's other fields: `log-opts`. */
  mergeKeys: readonly DaemonKey[];
}

export const DEFAULT_CERT_DIR = '/etc/docker/tls';

/** The seed 001 baseline. */
function baselineSettings(): DaemonConfig {
  return {
    icc: false,
    'userns-remap': 'default',
    'no-new-privileges': true,
    'log-driver': 'json-file',
    'log-opts': { 'max-size': '10m', 'max-file': '3' },
    'live-restore': true,
    // CIS 2.16: iptables rules instead of a docker-proxy process per published port.
    'userland-proxy': false,
    experimental: false,
    group: 'docker',
    'default-shm-size': '64m',
  };
}

/** Builds a named profile with its parameters filled in. */
export function buildProfile(name: ProfileName, options: ProfileOptions = {}): Profile {
  const base: Omit<Profile, 'name' | 'description' | 'settings'> = {
    unionKeys: ['hosts'],
    mergeKeys: ['log-opts'],
  };
  if (name === 'baseline') {
    return {
      ...base,
      name,
      description:
        'icc off, user namespaces, no-new-privileges, bounded json-file logs, live-restore, no userland proxy, no experimental features, socket group docker, 64m default shm',
      settings: baselineSettings(),
    };
  }
  const certDir = (options.certDir ?? DEFAULT_CERT_DIR).replace(/\/+$/, '');
  const address = options.listenAddress ?? '0.0.0.0';
  const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  const port = options.port ?? 2376;
  return {
    ...base,
    name,
    description: `baseline + the unix socket and TLS with client certificates on tcp://${host}:${port}`,
    settings: {
      ...baselineSettings(),
      hosts: [`unix://${options.socketPath ?? '/var/run/docker.sock'}`, `tcp://${host}:${port}`],
      tlsverify: true,
      tlscacert: `${certDir}/ca.pem`,
      tlscert: `${certDir}/cert.pem`,
      tlskey: `${certDir}/key.pem`,
    },
  };
}

/** True for a known profile name. */
export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

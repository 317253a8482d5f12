/**
 * The audit's shared vocabulary: what collectors gather (facts), what rules return (findings),
 * and the contract between them. Collectors do I/O; rules are pure functions of the facts.
 */
import type { EffectiveConfig } from '../daemon/effective-config.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ['pass', 'fail', 'warn', 'info', 'skip'] as const;
export type Status = (typeof STATUSES)[number];

/** Areas group the table output; every rule belongs to one. */
export const AREAS = ['daemon-config', 'daemon-files', 'tls', 'listeners', 'containers', 'host'] as const;
export type Area = (typeof AREAS)[number];

/** What can be audited: this host, a remote daemon over its API only, or an offline file tree. */
export type AuditTarget =
  | { kind: 'local' /** The daemon's socket (`unix:///var/run/docker.sock` by default). */; host: string }
  | { kind: 'remote' /** `tcp://host:port` or `unix://` of a daemon not on this filesystem. */; host: string }
  | {
      kind: 'root' /** A folder standing for `/` (etc/docker/daemon.json, etc/systemd/...). */;
      root: string;
    };

/**
 * A fact a collector tried to gather. `missing` means it does not apply to this target (a remote
 * daemon has no files to read); `error` means it should have been there and could not be read:
 * rules that need it report `skip`, and the run adds a failing `audit-input` finding, so a read
 * error is never a silent pass.
 */
export type Fact<T> =
  | { state: 'ok'; value: T }
  | { state: 'missing'; reason: string }
  | { state: 'error'; reason: string /** Where: a path, a URL. */; where?: string };

/** The roles the filesystem collector gives files; the CIS section 3 rules read them. */
export const FILE_ROLES = [
  'docker.service',
  'docker.socket',
  'etc-docker',
  'certs.d',
  'tlscacert',
  'tlscert',
  'tlskey',
  'docker.sock',
  'daemon.json',
  'etc-default-docker',
  'etc-sysconfig-docker',
  'containerd.sock',
] as const;
export type FileRole = (typeof FILE_ROLES)[number];

/** A file as `stat` + ACL reading saw it. Paths are host paths (`/etc/docker`), not under --root. */
export interface FileFact {
  path: string;
  /** The role the file plays (e.g. `daemon.json`, `docker.service`, `tlscacert`, `docker.sock`). */
  role: string;
  exists: boolean;
  type?: 'file' | 'directory' | 'socket' | 'symlink' | 'other';
  uid?: number;
  gid?: number;
  /** Names from the target's /etc/passwd and /etc/group when known. */
  owner?: string;
  group?: string;
  /** Permission bits only (`0o644`). */
  mode?: number;
  /** Extended ACL entries beyond owner/group/other (`user:bob:rw-`), empty when none. */
  acl?: string[];
  /** Set when stat itself failed for a reason other than "does not exist". */
  error?: string;
}

/** A parsed certificate found in the daemon's TLS settings or next to them. */
export interface CertFact {
  path: string;
  /** How the daemon uses it. */
  role: 'tlscacert' | 'tlscert' | 'client-cert' | 'other';
  subject: string;
  issuer: string;
  isCa: boolean;
  notBefore: string;
  notAfter: string;
  /** DNS names and IP addresses from subjectAltName. */
  dnsNames: string[];
  ipAddresses: string[];
  keyAlgorithm: 'RSA' | 'EC' | 'Ed25519' | 'other';
  keyBits?: number;
  /** e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA256`, `sha1WithRSAEncryption`. */
  signatureAlgorithm: string;
  /** How many certificates the PEM file holds (a system bundle holds >100). */
  bundleSize: number;
}

/** A private key file found on the host. */
export interface KeyFact {
  path: string;
  /** True when its public key matches a CA certificate the daemon trusts (or the file says so). */
  isCaKey: boolean;
  /** For client keys: readable by group or others. */
  mode?: number;
  role: 'tlskey' | 'ca-key' | 'client-key' | 'other';
  /** A dockward state folder's CA key (pki/ca-key.pem), not a file next to dockerd's. */
  inDockwardHome?: boolean;
}

/** A TCP port the daemon listens on, and what a loopback probe of it found. */
export interface ListenerFact {
  address: string;
  port: number;
  /**
   * Where it was seen: the process's sockets, a `-H` flag / `hosts` entry, a socket unit, or it is
   * the remote daemon's own address the audit was pointed at (`--host tcp://...`).
   */
  seenIn: Array<'process' | 'config' | 'socket-unit' | 'target'>;
  /** `GET /_ping` in plain HTTP answered "OK". */
  plainHttpPing?: boolean;
  /** A TLS handshake with no client certificate: accepted, refused, or the port does not speak TLS. */
  tlsWithoutClientCert?: 'accepted' | 'refused' | 'not-tls' | 'unreachable';
  /** What the probe saw, quotable as evidence; or why the listener was not probed. */
  probeDetail?: string;
}

/** A container (running or stopped) as `GET /containers/{id}/json` reports it. */
export interface ContainerFact {
  id: string;
  name: string;
  image: string;
  running: boolean;
  privileged: boolean;
  /** Host paths bind-mounted (and volume mountpoints are not included). */
  bindSources: string[];
  networkMode: string;
  pidMode: string;
  ipcMode: string;
  utsMode: string;
  usernsMode: string;
  capAdd: string[];
  securityOpt: string[];
  devices: string[];
}

export interface EngineFact {
  /** `GET /info` as JSON (SecurityOptions, Warnings, LoggingDriver, ...). */
  info: Record<string, unknown>;
  version: Record<string, unknown>;
  containers: ContainerFact[];
}

/** Everything collected about one target; rules read only this. */
export interface AuditFacts {
  target: AuditTarget;
  /** Time of collection (rules compare certificate dates with it). */
  now: Date;
  /** The effective daemon configuration (daemon.json + flags) with each key's source. */
  config: Fact<EffectiveConfig>;
  /** `ListenStream=` values of docker.socket (unit + drop-ins), if any. */
  socketUnit: Fact<{ path: string; listenStreams: string[] }>;
  files: Fact<FileFact[]>;
  certs: Fact<CertFact[]>;
  keys: Fact<KeyFact[]>;
  listeners: Fact<ListenerFact[]>;
  engine: Fact<EngineFact>;
  /** Members of the group owning the docker socket (effectively root). */
  dockerGroup: Fact<{ group: string; members: string[] }>;
  /** dockward's nftables table (`init --allow`); absent where the host cannot be seen. */
  firewall: Fact<FirewallFact>;
}

/** What restricts the daemon's tcp port: dockward's own nftables table, if any. */
export interface FirewallFact {
  /** `nft list table inet dockward`, or the ruleset file of an offline tree. */
  source: string;
  table: { port: number; allow: string[]; rejectsOthers: boolean } | undefined;
}

export type FactName = Exclude<keyof AuditFacts, 'target' | 'now'>;

/** What one rule says about the facts. */
export interface RuleOutcome {
  status: Status;
  /** Concrete, quotable evidence: `hosts: tcp://0.0.0.0:2375 (file:/etc/docker/daemon.json:3)`. */
  evidence: string[];
  /** Overrides the rule's remediation when the fix depends on what was found. */
  remediation?: string;
}

/** One audit rule; one small module each under src/audit/rules/. */
export interface AuditRule {
  id: string;
  /** CIS Docker Benchmark 1.6.0 number, where one exists (`2.2`, `3.15`, `5.32`). */
  cis?: string;
  severity: Severity;
  area: Area;
  title: string;
  rationale: string;
  /** The exact fix: a daemon.json snippet, a command, or `dockward daemon harden ...`. */
  remediation: string;
  /** Facts the rule reads; if one is not `ok`, the rule is reported `skip` with the reason. */
  needs: readonly FactName[];
  check(facts: AuditFacts): RuleOutcome;
}

/** One line of the report (the documented, stable JSON schema). */
export interface Finding {
  id: string;
  cis: string | null;
  severity: Severity;
  status: Status;
  area: Area;
  title: string;
  evidence: string[];
  remediation: string;
}

export interface AuditSummary {
  target: string;
  total: number;
  byStatus: Record<Status, number>;
  /** Failing findings by severity. */
  failBySeverity: Record<Severity, number>;
}

export interface AuditReport {
  findings: Finding[];
  summary: AuditSummary;
}

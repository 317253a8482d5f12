/**
 * CIS section 3: owner and mode of the daemon's files, one owner rule and one mode rule per
 * file, built from one table. Modes are compared bit by bit (a file may not grant any bit the
 * limit does not): 0606 is not "at most 660". Extended ACL entries count like group bits.
 * A file that is not there is `info` (not applicable), never a pass or a fail.
 */
import type { AuditFacts, AuditRule, FileFact, FileRole, RuleOutcome, Severity } from '../model.js';
import { describeBits, excessBits, fail, info, maybe, octal, pass, factValue, warn } from './rule-support.js';

interface FileSpec {
  role: FileRole;
  /** id prefix: `docker-sock` → `docker-sock-owner`, `docker-sock-mode`. */
  id: string;
  /** What the title calls it. */
  label: string;
  cisOwner: string;
  cisMode: string;
  /** Expected group: `root`, or `docker` (the daemon's `group` setting) for the API socket. */
  group: 'root' | 'docker-group';
  maxMode: number;
  /** For folders inside the role (certs.d holds folders per registry). */
  maxDirMode?: number;
  severity: Severity;
  why: string;
}

const SPECS: readonly FileSpec[] = [
  {
    role: 'docker.service',
    id: 'docker-service',
    label: 'docker.service (and its drop-ins)',
    cisOwner: '3.1',
    cisMode: '3.2',
    group: 'root',
    maxMode: 0o644,
    severity: 'medium',
    why: 'whoever can change the unit chooses the flags dockerd runs with, as root',
  },
  {
    role: 'docker.socket',
    id: 'docker-socket-unit',
    label: 'docker.socket',
    cisOwner: '3.3',
    cisMode: '3.4',
    group: 'root',
    maxMode: 0o644,
    severity: 'medium',
    why: 'whoever can change the socket unit can open the API on a tcp port',
  },
  {
    role: 'etc-docker',
    id: 'etc-docker',
    label: '/etc/docker',
    cisOwner: '3.5',
    cisMode: '3.6',
    group: 'root',
    maxMode: 0o755,
    severity: 'medium',
    why: '/etc/docker holds daemon.json and TLS keys',
  },
  {
    role: 'certs.d',
    id: 'registry-certs',
    label: 'registry certificates (/etc/docker/certs.d)',
    cisOwner: '3.7',
    cisMode: '3.8',
    group: 'root',
    maxMode: 0o444,
    maxDirMode: 0o755,
    severity: 'low',
    why: 'a replaced registry CA lets someone serve this host forged images',
  },
  {
    role: 'tlscacert',
    id: 'tlscacert',
    label: 'the TLS CA certificate (tlscacert)',
    cisOwner: '3.9',
    cisMode: '3.10',
    group: 'root',
    maxMode: 0o444,
    severity: 'medium',
    why: 'whoever replaces the CA certificate chooses which clients get in',
  },
  {
    role: 'tlscert',
    id: 'tlscert',
    label: 'the server certificate (tlscert)',
    cisOwner: '3.11',
    cisMode: '3.12',
    group: 'root',
    maxMode: 0o444,
    severity: 'low',
    why: 'a replaced server certificate breaks or impersonates the daemon',
  },
  {
    role: 'tlskey',
    id: 'tlskey',
    label: 'the server key (tlskey)',
    cisOwner: '3.13',
    cisMode: '3.14',
    group: 'root',
    maxMode: 0o400,
    severity: 'high',
    why: 'the server key lets its reader impersonate the daemon',
  },
  {
    role: 'docker.sock',
    id: 'docker-sock',
    label: 'the Docker socket',
    cisOwner: '3.15',
    cisMode: '3.16',
    group: 'docker-group',
    maxMode: 0o660,
    severity: 'high',
    why: 'anyone who can write to the socket is root on this host',
  },
  {
    role: 'daemon.json',
    id: 'daemon-json',
    label: 'daemon.json',
    cisOwner: '3.17',
    cisMode: '3.18',
    group: 'root',
    maxMode: 0o644,
    severity: 'medium',
    why: 'whoever can change daemon.json chooses how dockerd runs, as root',
  },
  {
    role: 'etc-default-docker',
    id: 'etc-default-docker',
    label: '/etc/default/docker',
    cisOwner: '3.19',
    cisMode: '3.20',
    group: 'root',
    maxMode: 0o644,
    severity: 'medium',
    why: 'its variables become dockerd flags on Debian-style units',
  },
  {
    role: 'etc-sysconfig-docker',
    id: 'etc-sysconfig-docker',
    label: '/etc/sysconfig/docker',
    cisOwner: '3.21',
    cisMode: '3.22',
    group: 'root',
    maxMode: 0o644,
    severity: 'medium',
    why: 'its variables become dockerd flags on Red Hat-style units',
  },
  {
    role: 'containerd.sock',
    id: 'containerd-sock',
    label: 'the containerd socket',
    cisOwner: '3.23',
    cisMode: '3.24',
    group: 'root',
    maxMode: 0o660,
    severity: 'high',
    why: 'containerd runs containers as root for whoever talks to it',
  },
];

function filesOf(facts: AuditFacts, role: FileRole): FileFact[] {
  return factValue(facts.files).filter((f) => f.role === role);
}

function ownerText(f: FileFact): string {
  return `${f.owner ?? f.uid ?? '?'}:${f.group ?? f.gid ?? '?'}`;
}

/** Files of a role that exist, or the `info` outcome saying none does. */
function present(facts: AuditFacts, spec: FileSpec): FileFact[] | RuleOutcome {
  const all = filesOf(facts, spec.role);
  const there = all.filter((f) => f.exists || f.error);
  if (there.length > 0) return there;
  return info(
    all.length > 0
      ? `not present: ${all.map((f) => f.path).join(', ')}`
      : `${cap(spec.label)}: not on this target (not configured or not installed)`,
  );
}

function ownerRule(spec: FileSpec): AuditRule {
  const wantGroup = spec.group === 'root' ? 'root' : 'docker';
  return {
    id: `${spec.id}-owner`,
    cis: spec.cisOwner,
    severity: spec.severity,
    area: 'daemon-files',
    title: `${cap(spec.label)} is owned by root:${wantGroup}`,
    rationale: `Only root may change it: ${spec.why}.`,
    remediation: `chown root:${wantGroup} <path>`,
    needs: ['files'],
    check(facts) {
      const files = present(facts, spec);
      if (!Array.isArray(files)) return files;
      // The daemon's `group` setting names the socket's group (docker unless changed).
      const group = spec.group === 'root' ? 'root' : String(maybe(facts.config)?.config.group ?? 'docker');
      const bad: FileFact[] = [];
      const unknown: string[] = [];
      for (const f of files) {
        if (f.error || f.uid === undefined) {
          unknown.push(`${f.path}: could not be checked${f.error ? `: ${f.error}` : ''}`);
          continue;
        }
        const ownerOk = f.uid === 0;
        const groupOk = f.gid === 0 || (f.group !== undefined && f.group === group);
        if (!ownerOk || !groupOk) bad.push(f);
      }
      if (bad.length > 0)
        return fail(
          [...bad.map((f) => `${f.path}: owned by ${ownerText(f)} (want root:${group})`), ...unknown],
          bad.map((f) => `chown root:${group} ${f.path}`).join(' && '),
        );
      if (unknown.length > 0) return warn(unknown);
      return pass(...files.map((f) => `${f.path}: ${ownerText(f)}`));
    },
  };
}

/**
 * Named ACL entries (`user:bob:rw-`) that grant more than the mode allows the group class: on a
 * 0400 key any entry opens it to someone else; on a 0660 socket `user:bob:rw-` is like adding bob
 * to the group, which the limit allows.
 */
function aclExcess(f: FileFact, max: number): string[] {
  const allowed = (max >> 3) & 7;
  return (f.acl ?? []).filter((entry) => {
    const perms = entry.split(':').at(-1) ?? '';
    const bits =
      (perms.includes('r') ? 4 : 0) | (perms.includes('w') ? 2 : 0) | (perms.includes('x') ? 1 : 0);
    return (bits & ~allowed) !== 0;
  });
}

function modeRule(spec: FileSpec): AuditRule {
  return {
    id: `${spec.id}-mode`,
    cis: spec.cisMode,
    severity: spec.severity,
    area: 'daemon-files',
    title: `${cap(spec.label)} is mode ${octal(spec.maxMode)} or more restrictive`,
    rationale: `Only root may write it (and, for keys, read it): ${spec.why}.`,
    remediation: `chmod ${octal(spec.maxMode).slice(1)} <path>`,
    needs: ['files'],
    check(facts) {
      const files = present(facts, spec);
      if (!Array.isArray(files)) return files;
      const bad: string[] = [];
      const ownerOnly: string[] = [];
      const fixes: string[] = [];
      const unknown: string[] = [];
      const ok: string[] = [];
      for (const f of files) {
        if (f.error || f.mode === undefined) {
          unknown.push(`${f.path}: could not be checked${f.error ? `: ${f.error}` : ''}`);
          continue;
        }
        const max = f.type === 'directory' && spec.maxDirMode !== undefined ? spec.maxDirMode : spec.maxMode;
        const excess = excessBits(f.mode, max);
        const acl = aclExcess(f, max);
        if (acl.length === 0 && excess !== 0 && (excess & 0o077) === 0) {
          // Extra bits for the owner alone (a 0600 key, a 0644 certificate): the owner rule checks
          // that the owner is root, who can read it anyway, so this is a warning, not a disclosure.
          ownerOnly.push(
            `${f.path}: mode ${octal(f.mode)}: ${describeBits(excess)} (CIS asks at most ${octal(max)})`,
          );
          fixes.push(`chmod ${octal(f.mode & max).slice(1)} ${f.path}`);
        } else if (excess !== 0 || acl.length > 0) {
          const why = [
            excess !== 0 ? describeBits(excess) : '',
            acl.length > 0 ? `ACL grants ${acl.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; ');
          bad.push(`${f.path}: mode ${octal(f.mode)}: ${why} (at most ${octal(max)})`);
          if (excess !== 0) fixes.push(`chmod ${octal(f.mode & max).slice(1)} ${f.path}`);
          if (acl.length > 0) fixes.push(`setfacl -b ${f.path}`);
        } else {
          ok.push(`${f.path}: mode ${octal(f.mode)}`);
        }
      }
      if (bad.length > 0) return fail([...bad, ...ownerOnly, ...unknown], fixes.join(' && '));
      if (unknown.length > 0 || ownerOnly.length > 0)
        return warn([...ownerOnly, ...unknown], fixes.join(' && ') || undefined);
      return pass(...ok);
    },
  };
}

/** Capitalises "the ..." labels only: file names (docker.service, daemon.json) keep their case. */
function cap(text: string): string {
  return text.startsWith('the ') ? `The ${text.slice(4)}` : text;
}

/** The 24 rules of CIS section 3, in benchmark order. */
export const DAEMON_FILE_RULES: readonly AuditRule[] = SPECS.flatMap((s) => [ownerRule(s), modeRule(s)]);

/**
 * CIS section 5 checks that matter for the daemon's safety, over every container (stopped ones
 * too: `docker start` brings them back as they are), plus `sensitive-mount`.
 */
import { posix } from 'node:path';
import type { AuditFacts, AuditRule, ContainerFact, RuleOutcome, Severity } from '../model.js';
import { fail, maybe, pass, factValue, warn } from './rule-support.js';

function who(c: ContainerFact): string {
  return `${c.name.replace(/^\//, '')} (${c.id.slice(0, 12)}, ${c.running ? 'running' : 'stopped'}, image ${c.image})`;
}

/** Builds a rule that flags each container `bad` returns a reason for. */
function containerRule(spec: {
  id: string;
  cis?: string;
  severity: Severity;
  title: string;
  rationale: string;
  remediation: string;
  bad: (c: ContainerFact, facts: AuditFacts) => string | undefined;
}): AuditRule {
  return {
    id: spec.id,
    ...(spec.cis ? { cis: spec.cis } : {}),
    severity: spec.severity,
    area: 'containers',
    title: spec.title,
    rationale: spec.rationale,
    remediation: spec.remediation,
    needs: ['engine'],
    check(facts): RuleOutcome {
      const containers = factValue(facts.engine).containers;
      const hits: string[] = [];
      for (const c of containers) {
        const reason = spec.bad(c, facts);
        if (reason) hits.push(`${who(c)}: ${reason}`);
      }
      if (hits.length > 0) return fail(hits);
      return pass(`${containers.length} container(s) checked (running and stopped)`);
    },
  };
}

function normalize(path: string): string {
  const n = posix.normalize(path);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** True when `source` is `dir` or lies under it (`/` matches only itself). */
function isAtOrUnder(source: string, dir: string): boolean {
  const s = normalize(source);
  if (dir === '/') return s === '/';
  return s === dir || s.startsWith(`${dir}/`);
}

const CIS_SENSITIVE = ['/', '/boot', '/dev', '/etc', '/lib', '/proc', '/sys', '/usr'];

export const containerSensitiveDirs = containerRule({
  id: 'container-sensitive-dirs',
  cis: '5.6',
  severity: 'high',
  title: 'Sensitive host system directories are not mounted into containers',
  rationale: 'A container that mounts /etc, /proc or /dev (read-write) can change the host and escape.',
  remediation: 'Recreate the container without -v for host system directories (use named volumes)',
  bad: (c) => {
    const hits = c.bindSources.filter((s) => CIS_SENSITIVE.some((d) => isAtOrUnder(s, d)));
    return hits.length > 0 ? `mounts ${hits.join(', ')}` : undefined;
  },
});

/** The API socket paths this daemon serves, plus the usual ones. */
function socketPaths(facts: AuditFacts): string[] {
  const paths = new Set(['/var/run/docker.sock', '/run/docker.sock']);
  for (const raw of maybe(facts.config)?.config.hosts ?? []) {
    if (raw.startsWith('unix://'))
      paths.add(normalize(raw.slice('unix://'.length) || '/var/run/docker.sock'));
  }
  return [...paths];
}

/** The bind source that exposes a socket: the socket itself or a folder above it. */
function exposesSocket(source: string, sockets: readonly string[]): boolean {
  const s = normalize(source);
  if (posix.basename(s) === 'docker.sock') return true;
  return sockets.some((p) => p === s || (s !== '/' && p.startsWith(`${s}/`)));
}

export const dockerSockMounted = containerRule({
  id: 'docker-sock-mounted',
  cis: '5.32',
  severity: 'critical',
  title: 'The Docker socket is not mounted into any container',
  rationale: 'A container holding the Docker socket can start a privileged container: root on the host.',
  remediation:
    'Recreate the container without -v /var/run/docker.sock (give it a narrow API through the dockward gateway and a policy instead)',
  bad: (c, facts) => {
    const sockets = socketPaths(facts);
    const hits = c.bindSources.filter((s) => exposesSocket(s, sockets));
    return hits.length > 0 ? `mounts ${hits.join(', ')}` : undefined;
  },
});

const SENSITIVE = [
  '/',
  '/etc',
  '/root',
  '/proc',
  '/run',
  '/var/run',
  '/var/lib/docker',
  '/run/containerd',
  '/var/run/containerd',
];

export const sensitiveMount = containerRule({
  id: 'sensitive-mount',
  severity: 'critical',
  title:
    'No container mounts the Docker or containerd socket, /, /etc, /root, /proc, /run or /var/lib/docker',
  rationale:
    "Each of these hands the container the host: the API sockets run anything as root, /etc and /root hold credentials, /proc and /var/lib/docker expose other containers' and the host's state.",
  remediation: 'Recreate the container without that bind mount',
  bad: (c, facts) => {
    const sockets = socketPaths(facts);
    const hits = c.bindSources.filter(
      (s) =>
        exposesSocket(s, sockets) ||
        posix.basename(normalize(s)) === 'containerd.sock' ||
        SENSITIVE.some((d) => isAtOrUnder(s, d)),
    );
    return hits.length > 0 ? `mounts ${hits.join(', ')}` : undefined;
  },
});

export const containerPrivileged = containerRule({
  id: 'container-privileged',
  cis: '5.5',
  severity: 'critical',
  title: 'No container is privileged',
  rationale: 'A privileged container has every capability and every device: it is root on the host.',
  remediation: 'Recreate the container without --privileged (add only the capabilities and devices it needs)',
  bad: (c) => (c.privileged ? 'privileged' : undefined),
});

/** Capabilities that amount to host root or kernel access (Falco's list, and CIS 5.4's intent). */
const DANGEROUS_CAPS = new Set([
  'ALL',
  'SYS_ADMIN',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_PTRACE',
  'SYS_BOOT',
  'SYSLOG',
  'DAC_READ_SEARCH',
  'NET_ADMIN',
  'BPF',
  'PERFMON',
  'SYS_TIME',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
]);

export const containerCapabilities: AuditRule = {
  id: 'container-capabilities',
  cis: '5.4',
  severity: 'high',
  area: 'containers',
  title: 'Linux kernel capabilities are restricted within containers',
  rationale: 'SYS_ADMIN, SYS_MODULE, SYS_PTRACE and the like give a container ways out to the host.',
  remediation:
    'Recreate the container without --cap-add for these capabilities (or with --cap-drop ALL and only what it needs)',
  needs: ['engine'],
  check(facts) {
    const containers = factValue(facts.engine).containers;
    const bad: string[] = [];
    const other: string[] = [];
    for (const c of containers) {
      const caps = c.capAdd.map((x) => x.toUpperCase().replace(/^CAP_/, ''));
      const danger = caps.filter((x) => DANGEROUS_CAPS.has(x));
      if (danger.length > 0) bad.push(`${who(c)}: --cap-add ${danger.join(', ')}`);
      else if (caps.length > 0) other.push(`${who(c)}: --cap-add ${caps.join(', ')} (confirm it is needed)`);
    }
    if (bad.length > 0) return fail([...bad, ...other]);
    if (other.length > 0) return warn(other);
    return pass(`${containers.length} container(s) add no capability`);
  },
};

function hostMode(mode: string): boolean {
  return mode === 'host';
}

export const containerHostNetwork = containerRule({
  id: 'container-host-network',
  cis: '5.10',
  severity: 'medium',
  title: "No container shares the host's network namespace",
  rationale:
    'A container on the host network sees every host interface and local-only service (including 127.0.0.1 listeners).',
  remediation: 'Recreate the container without --network host',
  bad: (c) => (hostMode(c.networkMode) ? 'network mode host' : undefined),
});

export const containerHostPid = containerRule({
  id: 'container-host-pid',
  cis: '5.16',
  severity: 'high',
  title: "No container shares the host's process namespace",
  rationale: 'With the host PID namespace a container sees and can signal (or ptrace) every host process.',
  remediation: 'Recreate the container without --pid host',
  bad: (c) => (hostMode(c.pidMode) ? 'pid mode host' : undefined),
});

export const containerHostIpc = containerRule({
  id: 'container-host-ipc',
  cis: '5.17',
  severity: 'medium',
  title: "No container shares the host's IPC namespace",
  rationale: 'The host IPC namespace exposes shared memory and semaphores of host processes.',
  remediation: 'Recreate the container without --ipc host',
  bad: (c) => (hostMode(c.ipcMode) ? 'ipc mode host' : undefined),
});

export const containerHostUts = containerRule({
  id: 'container-host-uts',
  cis: '5.21',
  severity: 'low',
  title: "No container shares the host's UTS namespace",
  rationale: "With the host UTS namespace a container can change the host's hostname.",
  remediation: 'Recreate the container without --uts host',
  bad: (c) => (hostMode(c.utsMode) ? 'uts mode host' : undefined),
});

export const containerHostUserns = containerRule({
  id: 'container-host-userns',
  cis: '5.31',
  severity: 'high',
  title: "No container shares the host's user namespace",
  rationale: 'With userns-remap on, --userns host gives that container real root on the host again.',
  remediation: 'Recreate the container without --userns host',
  bad: (c) => (hostMode(c.usernsMode) ? 'userns mode host' : undefined),
});

export const containerSeccompUnconfined = containerRule({
  id: 'container-seccomp-unconfined',
  cis: '5.22',
  severity: 'high',
  title: 'No container disables the default seccomp profile',
  rationale: 'seccomp=unconfined lets the container call every system call, kernel exploits included.',
  remediation: 'Recreate the container without --security-opt seccomp=unconfined',
  bad: (c) =>
    c.securityOpt.some((o) => /^seccomp[=:]unconfined$/i.test(o.trim()))
      ? 'security-opt seccomp=unconfined'
      : undefined,
});

/** True when the container runs with no-new-privileges (its own option, else the daemon's default). */
function hasNoNewPrivileges(c: ContainerFact, facts: AuditFacts): boolean {
  for (const o of c.securityOpt) {
    const m = /^no-new-privileges(?:[=:](.*))?$/i.exec(o.trim());
    if (m) return m[1] === undefined || m[1].toLowerCase() === 'true';
  }
  return maybe(facts.config)?.config['no-new-privileges'] === true;
}

export const containerNoNewPrivileges = containerRule({
  id: 'container-no-new-privileges',
  cis: '5.26',
  severity: 'medium',
  title: 'Containers are restricted from acquiring additional privileges',
  rationale: 'Without no-new-privileges, setuid binaries inside the container can raise privileges.',
  remediation:
    'Set "no-new-privileges": true in daemon.json (dockward daemon harden --profile baseline --write), or run containers with --security-opt no-new-privileges',
  bad: (c, facts) => (hasNoNewPrivileges(c, facts) ? undefined : 'runs without no-new-privileges'),
});

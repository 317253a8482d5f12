/** CIS 2.1, 2.6, 2.8–2.12, 2.14, 2.15, 2.17, 2.18: how dockerd runs containers. */
import type { AuditRule } from '../model.js';
import {
  daemonJsonFix,
  describeSetting,
  fail,
  HARDEN_BASELINE,
  info,
  maybe,
  pass,
  setting,
  settingIs,
  factValue,
  warn,
} from './rule-support.js';

/** `SecurityOptions` of GET /info (`name=seccomp,profile=builtin`, `name=rootless`...). */
function securityOptions(info: Record<string, unknown> | undefined): string[] {
  const list = info?.SecurityOptions;
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
}

export const rootlessMode: AuditRule = {
  id: 'rootless-mode',
  cis: '2.1',
  severity: 'info',
  area: 'daemon-config',
  title: 'The Docker daemon runs as a non-root user, if possible',
  rationale:
    'A rootless daemon turns a container escape or a stolen API credential into the power of one user instead of root.',
  remediation:
    'Where the workloads allow it, install rootless Docker (dockerd-rootless-setuptool.sh install) for the users who need it',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const live = securityOptions(maybe(facts.engine)?.info);
    if (setting(effective, 'rootless')?.value === true || live.includes('name=rootless'))
      return pass('dockerd runs rootless');
    return info('dockerd runs as root; whether rootless mode fits these workloads is a manual decision');
  },
};

export const noAufs: AuditRule = {
  id: 'no-aufs',
  cis: '2.6',
  severity: 'medium',
  area: 'daemon-config',
  title: 'The aufs storage driver is not used',
  rationale:
    'aufs is unmaintained, removed from dockerd 24 and has known kernel crashes and security problems.',
  remediation: daemonJsonFix({ 'storage-driver': 'overlay2' }),
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const configured = setting(effective, 'storage-driver')?.value;
    const live = maybe(facts.engine)?.info.Driver;
    if (configured === 'aufs') return fail([describeSetting(effective, 'storage-driver')]);
    if (live === 'aufs') return fail(['GET /info: Driver "aufs"']);
    return pass(
      typeof live === 'string' ? `GET /info: Driver "${live}"` : describeSetting(effective, 'storage-driver'),
    );
  },
};

export const defaultUlimits: AuditRule = {
  id: 'default-ulimits',
  cis: '2.8',
  severity: 'low',
  area: 'daemon-config',
  title: 'The default ulimit is configured appropriately',
  rationale:
    'Default ulimits bound what one container can take (open files, processes) before it starves the host.',
  remediation: daemonJsonFix({ 'default-ulimits': { nofile: { Name: 'nofile', Soft: 64000, Hard: 64000 } } }),
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const s = setting(effective, 'default-ulimits');
    return s?.explicit
      ? pass(describeSetting(effective, 'default-ulimits'))
      : info(
          "default-ulimits: not set (containers inherit dockerd's limits); the right values are a manual decision",
        );
  },
};

export const usernsRemap: AuditRule = {
  id: 'userns-remap',
  cis: '2.9',
  severity: 'medium',
  area: 'daemon-config',
  title: 'User namespace support is enabled',
  rationale:
    'With userns-remap, root in a container is an unprivileged user on the host: a container escape does not give root.',
  remediation: daemonJsonFix({ 'userns-remap': 'default' }, HARDEN_BASELINE),
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const value = setting(effective, 'userns-remap')?.value;
    const live = securityOptions(maybe(facts.engine)?.info).includes('name=userns');
    const evidence = describeSetting(effective, 'userns-remap');
    return (typeof value === 'string' && value !== '') || live ? pass(evidence) : fail([evidence]);
  },
};

export const cgroupParent: AuditRule = {
  id: 'cgroup-parent',
  cis: '2.10',
  severity: 'low',
  area: 'daemon-config',
  title: 'The default cgroup usage has been confirmed',
  rationale: 'A non-default cgroup-parent moves every container under another cgroup and its limits.',
  remediation:
    'Remove "cgroup-parent" from daemon.json unless the cgroup it names is meant to bound every container',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const s = setting(effective, 'cgroup-parent');
    return s?.explicit && s.value !== ''
      ? info(
          `${describeSetting(effective, 'cgroup-parent')}: confirm that this cgroup is meant to bound every container`,
        )
      : pass('cgroup-parent: not set (dockerd default)');
  },
};

export const dmBasesize: AuditRule = {
  id: 'dm-basesize',
  cis: '2.11',
  severity: 'low',
  area: 'daemon-config',
  title: 'The base device size is not changed until needed',
  rationale: 'A larger dm.basesize lets every container fill more of the host disk.',
  remediation: 'Remove dm.basesize from "storage-opts" in daemon.json unless containers need it',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const opts = effective.config['storage-opts'] ?? [];
    const hit = opts.find((o) => o.replace(/\s/g, '').startsWith('dm.basesize='));
    return hit
      ? warn([`${describeSetting(effective, 'storage-opts')}: ${hit}`])
      : pass('storage-opts: no dm.basesize');
  },
};

export const authorizationPlugin: AuditRule = {
  id: 'authz-plugin',
  cis: '2.12',
  severity: 'medium',
  area: 'daemon-config',
  title: 'Authorization for Docker client commands is enabled',
  rationale:
    'Without an authorization plugin, every client that reaches the API (socket or TLS certificate) can do everything, including start a privileged container: root on the host.',
  remediation:
    'Set "authorization-plugins" in daemon.json to an installed authorization plugin, or expose dockerd only through the dockward gateway with a policy file (dockward gateway --policy FILE)',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const plugins = effective.config['authorization-plugins'] ?? [];
    const live = maybe(facts.engine)?.info.Plugins as { Authorization?: unknown } | undefined;
    const liveList = Array.isArray(live?.Authorization) ? live.Authorization : [];
    if (plugins.length > 0 || liveList.length > 0)
      return pass(describeSetting(effective, 'authorization-plugins'));
    // A warning, as docker-bench gives: the audit cannot see a gateway in front of the daemon,
    // which is where dockward puts per-command authorization.
    return warn([
      `${describeSetting(effective, 'authorization-plugins')}: every API client is allowed everything unless a gateway with a policy sits in front`,
    ]);
  },
};

export const noNewPrivileges: AuditRule = {
  id: 'no-new-privileges',
  cis: '2.14',
  severity: 'medium',
  area: 'daemon-config',
  title: 'Containers are restricted from acquiring new privileges',
  rationale:
    'no-new-privileges stops setuid binaries and file capabilities from raising privileges inside containers by default.',
  remediation: daemonJsonFix({ 'no-new-privileges': true }, HARDEN_BASELINE),
  needs: ['config'],
  check: settingIs('no-new-privileges', true),
};

export const liveRestore: AuditRule = {
  id: 'live-restore',
  cis: '2.15',
  severity: 'low',
  area: 'daemon-config',
  title: 'Live restore is enabled',
  rationale:
    'With live-restore, containers keep running while dockerd restarts or upgrades, so security updates to the daemon are not postponed for uptime.',
  remediation: daemonJsonFix({ 'live-restore': true }, HARDEN_BASELINE),
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const evidence = describeSetting(effective, 'live-restore');
    if (setting(effective, 'live-restore')?.value === true) return pass(evidence);
    const swarm = (maybe(facts.engine)?.info.Swarm as { LocalNodeState?: unknown } | undefined)
      ?.LocalNodeState;
    // Swarm mode rejects live-restore: off is then the only possible setting.
    if (swarm === 'active')
      return info(`${evidence}; this node is in a swarm, which does not support live-restore`);
    return fail([evidence]);
  },
};

export const seccompProfile: AuditRule = {
  id: 'seccomp-profile',
  cis: '2.17',
  severity: 'high',
  area: 'daemon-config',
  title: 'A daemon-wide seccomp profile is applied',
  rationale:
    'The seccomp profile blocks ~50 system calls containers never need (kexec, mount, bpf...); unconfined removes that layer for every container.',
  remediation:
    'Remove "seccomp-profile": "unconfined" from daemon.json (the builtin profile, or a custom one, applies), then restart dockerd',
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const value = setting(effective, 'seccomp-profile')?.value;
    const live = securityOptions(maybe(facts.engine)?.info).find((s) => s.startsWith('name=seccomp'));
    const evidence = describeSetting(effective, 'seccomp-profile');
    if (value === 'unconfined' || live?.includes('profile=unconfined'))
      return fail([live ? `${evidence}; GET /info: ${live}` : evidence]);
    return pass(live ? `${evidence}; GET /info: ${live}` : evidence);
  },
};

export const noExperimental: AuditRule = {
  id: 'no-experimental',
  cis: '2.18',
  severity: 'low',
  area: 'daemon-config',
  title: 'Experimental features are not enabled in production',
  rationale: 'Experimental features are not supported and get less security review.',
  remediation: daemonJsonFix({ experimental: false }, HARDEN_BASELINE),
  needs: ['config'],
  check(facts) {
    const effective = factValue(facts.config);
    const evidence = describeSetting(effective, 'experimental');
    const live = maybe(facts.engine)?.info.ExperimentalBuild === true;
    return setting(effective, 'experimental')?.value === true || live ? fail([evidence]) : pass(evidence);
  },
};

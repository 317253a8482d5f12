/**
 * `policy check --strict`: no role other than admin may reach a "host power" construct, one that
 * hands a client the daemon's host (privileged, host namespaces, capabilities that escape,
 * devices, switched-off confinement, host mounts of system paths, the Docker socket,
 * server-side fetches into the host's network, admin-only endpoints, plugins, BuildKit's gRPC
 * and swarm services whose privileges the gateway cannot inspect). Each construct is probed as a
 * request through the compiled policy itself, so the check and the gateway cannot disagree.
 */
import { type Endpoint, findEndpointByName, ROUTES } from '../docker/endpoints/index.js';
import { canonicalBody } from './canonical-body.js';
import type { CompiledPolicy } from './compile.js';
import type { DecisionInput, PolicyIdentity } from './decision.js';

/** One way a non-admin role reaches host power. */
export interface HostPowerFinding {
  role: string;
  construct: string;
  /** The probe request, as `METHOD path?query` and the body fields that carry the construct. */
  request: string;
  /** The allow rule that lets it through. */
  rule: string;
}

interface Probe {
  construct: string;
  endpoint: string;
  query?: string;
  /** Body fields with the construct; the baseline is the same request without them. */
  body?: Record<string, unknown>;
  baseline?: Record<string, unknown>;
}

/** Capabilities that break out of a container or take over the host's kernel or network. */
export const HOST_POWER_CAPABILITIES = [
  'ALL',
  'SYS_ADMIN',
  'SYS_PTRACE',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_BOOT',
  'SYS_TIME',
  'DAC_READ_SEARCH',
  'NET_ADMIN',
  'BPF',
  'PERFMON',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'SYSLOG',
  'LINUX_IMMUTABLE',
];

/** Host paths whose mount (or a parent's) hands over the host. */
export const HOST_POWER_PATHS = [
  '/',
  '/etc',
  '/root',
  '/home',
  '/boot',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/var/run',
  '/run/docker.sock',
  '/var/run/docker.sock',
  '/run/containerd/containerd.sock',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/lib/modules',
  '/usr',
];

const IMAGE = { Image: 'busybox' };
const hc = (host: Record<string, unknown>) => ({ ...IMAGE, HostConfig: host });

function probes(): Probe[] {
  const out: Probe[] = [];
  const create = (construct: string, host: Record<string, unknown>) =>
    out.push({ construct, endpoint: 'container.create', body: hc(host), baseline: hc({}) });
  create('privileged', { Privileged: true });
  out.push({
    construct: 'privileged exec',
    endpoint: 'container.exec',
    body: { Cmd: ['sh'], Privileged: true },
    baseline: { Cmd: ['sh'] },
  });
  for (const [ns, field] of [
    ['network', 'NetworkMode'],
    ['pid', 'PidMode'],
    ['ipc', 'IpcMode'],
    ['uts', 'UTSMode'],
    ['userns', 'UsernsMode'],
    ['cgroup', 'CgroupnsMode'],
  ] as const) {
    create(`host ${ns} namespace`, { [field]: 'host' });
  }
  out.push({ construct: 'host network for a build', endpoint: 'build', query: 'networkmode=host' });
  for (const cap of HOST_POWER_CAPABILITIES) create(`capability ${cap}`, { CapAdd: [cap] });
  create('a host device', {
    Devices: [{ PathOnHost: '/dev/vda', PathInContainer: '/dev/vda', CgroupPermissions: 'rwm' }],
  });
  create('a device cgroup rule', { DeviceCgroupRules: ['b *:* rwm'] });
  create('a device request', { DeviceRequests: [{ Count: -1, Capabilities: [['gpu']] }] });
  out.push({
    construct: 'devices added by an update',
    endpoint: 'container.update',
    body: { Devices: [{ PathOnHost: '/dev/vda', PathInContainer: '/dev/vda', CgroupPermissions: 'rwm' }] },
    baseline: { Memory: 0 },
  });
  for (const opt of [
    'seccomp=unconfined',
    'apparmor=unconfined',
    'label=disable',
    'systempaths=unconfined',
  ]) {
    create(`security option ${opt}`, { SecurityOpt: [opt] });
  }
  create('empty MaskedPaths', { MaskedPaths: [] });
  create('empty ReadonlyPaths', { ReadonlyPaths: [] });
  for (const path of HOST_POWER_PATHS) {
    create(`a bind mount of ${path}`, { Binds: [`${path}:/host`] });
  }
  create('a bind mount of / (Mounts)', { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] });
  out.push({
    construct: 'a volume bound to /',
    endpoint: 'volume.create',
    body: { Name: 'v', Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: '/' } },
    baseline: { Name: 'v' },
  });
  out.push({
    construct: 'a service mounting /',
    endpoint: 'service.create',
    body: {
      TaskTemplate: {
        ContainerSpec: { Image: 'busybox', Mounts: [{ Type: 'bind', Source: '/', Target: '/h' }] },
      },
    },
    baseline: { TaskTemplate: { ContainerSpec: { Image: 'busybox' } } },
  });
  for (const [endpoint, query] of [
    ['build', 'remote=http://dockward-probe.invalid/x'],
    ['image.create', 'fromSrc=http://dockward-probe.invalid/x.tar&repo=x'],
    ['plugin.pull', 'remote=dockward-probe.invalid/p'],
    ['plugin.privileges', 'remote=dockward-probe.invalid/p'],
  ] as const) {
    out.push({ construct: `a server-side fetch from any host (${endpoint})`, endpoint, query });
  }
  // Endpoints whose power the gateway cannot inspect: reaching them at all is the finding.
  const whole = (e: Endpoint): string | undefined => {
    if (e.adminOnly) return `an admin-only endpoint (${e.name})`;
    if (e.area === 'plugins' && !e.readonly)
      return `plugin management (${e.name}): a plugin runs with host privileges`;
    if (e.name === 'grpc')
      return "BuildKit's gRPC stream (entitlements such as network.host are not inspected)";
    if (e.name === 'service.create' || e.name === 'service.update') {
      return `${e.name}: a service's Privileges and CapabilityAdd are not inspected`;
    }
    return undefined;
  };
  for (const e of ROUTES) {
    const construct = whole(e);
    if (construct) out.push({ construct, endpoint: e.name });
  }
  return out;
}

const PROBE_IDENTITY: PolicyIdentity = { cn: 'dockward-strict-probe', ou: [], serial: '00', sans: [] };

function decisionInput(
  endpoint: Endpoint,
  query: string,
  body: Record<string, unknown> | undefined,
): DecisionInput {
  let value: unknown;
  if (body !== undefined) {
    const res = canonicalBody(endpoint, Buffer.from(JSON.stringify(body)), 'application/json');
    if (!res.ok) throw new Error(`strict probe for ${endpoint.name} refused: ${res.reason}`);
    value = res.value;
  }
  return {
    identity: PROBE_IDENTITY,
    endpoint,
    method: endpoint.method,
    path: endpoint.path,
    params: {},
    query: new URLSearchParams(query),
    ...(value !== undefined ? { body: value } : {}),
  };
}

/** Every host power construct a role other than admin (or one extending admin) can reach. */
export function hostPowerFindings(policy: CompiledPolicy): HostPowerFinding[] {
  const findings: HostPowerFinding[] = [];
  const list = probes();
  for (const role of policy.roleList()) {
    if (role.name === 'admin' || role.extendsAdmin) continue;
    for (const p of list) {
      const endpoint = findEndpointByName(p.endpoint);
      if (!endpoint) throw new Error(`strict probe names unknown endpoint ${p.endpoint}`);
      const probe = decisionInput(endpoint, p.query ?? '', p.body);
      const baseline = decisionInput(endpoint, '', p.baseline ?? p.body);
      const rule = policy.reachableAs(role.name, probe, baseline);
      if (rule === undefined) continue;
      const fields = p.body ? ` ${JSON.stringify(p.body)}` : '';
      findings.push({
        role: role.name,
        construct: p.construct,
        request: `${endpoint.method} ${endpoint.path}${p.query ? `?${p.query}` : ''}${fields}`,
        rule,
      });
    }
  }
  return findings;
}

/**
 * The daemon.json model: every key dockerd (28, Linux) accepts, its value type, the command-line
 * flag it corresponds to, its default, and whether SIGHUP reloads it.
 *
 * How dockerd decides what a key is (moby `daemon/config/config.go`, findConfigurationConflicts):
 * a file key is accepted when it is the long name of a dockerd flag, or the "named option" of a
 * list/map flag (`labels` for `--label`), or one of a few keys it skips (`features`, `builder`).
 * Anything else is fatal at start. Objects under a key that is not "flat" (only `proxies`) are
 * flattened first, so `proxies.http-proxy` counts as the `--http-proxy` flag.
 *
 * This table is written from moby's flag definitions (`daemon/command/config*.go`, formerly
 * `cmd/dockerd/config*.go`), the config structs (`daemon/config/config*.go`) and the `dockerd`
 * reference. The TypeScript types of a parsed daemon.json are derived from it (`DaemonConfig`).
 */
import { closestName } from '../text/closest-name.js';

/** The shape of a value in daemon.json, mirroring the Go type dockerd decodes it into. */
export type ValueSpec =
  | { readonly kind: 'bool' }
  | { readonly kind: 'string'; readonly enum?: readonly string[] }
  | { readonly kind: 'int' }
  /** A size: `"64m"` or a number of bytes (go-units RAMInBytes via opts.MemBytes). */
  | { readonly kind: 'bytes' }
  | { readonly kind: 'list'; readonly of: ValueSpec }
  /** An object with free-form keys, each value of one type (`log-opts`, `runtimes`, ...). */
  | { readonly kind: 'map'; readonly of: ValueSpec }
  /**
   * An object with known fields. Go's decoder matches field names case-insensitively and
   * ignores fields it does not know; `required` lists fields dockerd cannot do without.
   */
  | {
      readonly kind: 'object';
      readonly fields: { readonly [name: string]: ValueSpec };
      readonly required?: readonly string[];
      /** Field names are exact and unknown ones are fatal (dockerd flattens `proxies` into flags). */
      readonly strict?: boolean;
    };

/** How a command-line value of a repeatable flag is turned into the file's shape. */
export type FlagValueFormat =
  /** `--log-opt max-size=10m` → `{ "max-size": "10m" }` */
  | 'key-value'
  /** `--default-ulimit nofile=1024:2048` → `{ nofile: { Name, Soft, Hard } }` */
  | 'ulimit'
  /** `--add-runtime name=path` → `{ name: { path } }` */
  | 'runtime'
  /** `--feature cdi` or `--feature cdi=false` → `{ cdi: true }` */
  | 'feature'
  /** `--default-address-pool base=10.0.0.0/8,size=24` → `[{ base, size }]` */
  | 'address-pool'
  /** `--default-network-opt bridge=com.docker.network.driver.mtu=1400` → `{ bridge: { ... } }` */
  | 'driver-key-value';

/** One daemon.json key. */
export interface KeySpec {
  readonly type: ValueSpec;
  /** Long flag name (without `--`); absent when the key has no flag. */
  readonly flag?: string;
  /** One-letter flag (without `-`). */
  readonly short?: string;
  /** For list/map keys: how one flag occurrence is parsed (plain lists just append). */
  readonly flagFormat?: FlagValueFormat;
  /** SIGHUP applies a new value without a restart. */
  readonly reload?: boolean;
  /** dockerd's own default on Linux (rootful), when it has one worth showing. */
  readonly default?: unknown;
  /** First dockerd major version that accepts the key (absent: older than 20.10). */
  readonly since?: number;
  /** First dockerd major version that refuses the key. */
  readonly removedIn?: number;
  /** Accepted but deprecated: the replacement or the reason. */
  readonly deprecated?: string;
  /** Accepted by dockerd in the file but silently not applied there (why, and what to write). */
  readonly ignoredInFile?: string;
  /** One line saying what it does. */
  readonly summary: string;
}

const bool = { kind: 'bool' } as const;
const str = { kind: 'string' } as const;
const int = { kind: 'int' } as const;
const bytes = { kind: 'bytes' } as const;
const strList = { kind: 'list', of: str } as const;
const strMap = { kind: 'map', of: str } as const;

/** The engine major version this table describes by default. */
export const DEFAULT_ENGINE_MAJOR = 28;

/**
 * Every daemon.json key dockerd accepts on Linux, in alphabetical order. Keys that only exist in
 * newer or older engines carry `since` / `removedIn` so a config can be checked against the
 * engine that will actually read it (Debian's 20.10 here, 28 on current hosts).
 */
export const DAEMON_KEYS = {
  'allow-direct-routing': {
    type: bool,
    flag: 'allow-direct-routing',
    since: 28,
    default: false,
    summary: 'Allow remote access to published ports on container IP addresses.',
  },
  'allow-nondistributable-artifacts': {
    type: strList,
    flag: 'allow-nondistributable-artifacts',
    reload: true,
    deprecated: 'has no effect since dockerd 28 (non-distributable layers are always pushed)',
    summary: 'Registries to which non-distributable artifacts may be pushed.',
  },
  'api-cors-header': {
    type: str,
    flag: 'api-cors-header',
    removedIn: 28,
    deprecated: 'CORS headers on the Engine API are insecure; put a reverse proxy in front instead',
    summary: 'CORS headers on the Engine API.',
  },
  'authorization-plugins': {
    type: strList,
    flag: 'authorization-plugin',
    reload: true,
    summary: 'Authorization plugins to load.',
  },
  bip: { type: str, flag: 'bip', summary: 'IPv4 address (CIDR) of the default bridge.' },
  bip6: { type: str, flag: 'bip6', since: 28, summary: 'IPv6 address (CIDR) of the default bridge.' },
  bridge: {
    type: str,
    flag: 'bridge',
    short: 'b',
    summary: 'Attach containers to this existing bridge (`none` disables the default bridge).',
  },
  'bridge-accept-fwmark': {
    type: str,
    flag: 'bridge-accept-fwmark',
    since: 28,
    summary: 'In bridge networks, accept packets carrying this firewall mark/mask.',
  },
  builder: {
    type: {
      kind: 'object',
      fields: {
        gc: {
          kind: 'object',
          fields: {
            enabled: bool,
            defaultKeepStorage: str,
            defaultReservedSpace: str,
            defaultMaxUsedSpace: str,
            defaultMinFreeSpace: str,
            policy: {
              kind: 'list',
              of: {
                kind: 'object',
                fields: {
                  all: bool,
                  filter: strList,
                  keepStorage: str,
                  keepDuration: str,
                  reservedSpace: str,
                  maxUsedSpace: str,
                  minFreeSpace: str,
                },
              },
            },
          },
        },
        history: { kind: 'object', fields: { maxAge: str, maxEntries: int } },
        entitlements: { kind: 'object', fields: { 'network-host': bool, 'security-insecure': bool } },
      },
    },
    summary: 'BuildKit settings: build-cache garbage collection, history, entitlements.',
  },
  'cdi-spec-dirs': {
    type: strList,
    flag: 'cdi-spec-dir',
    since: 25,
    summary: 'Directories holding CDI (Container Device Interface) specifications.',
  },
  'cgroup-parent': { type: str, flag: 'cgroup-parent', summary: 'Parent cgroup for all containers.' },
  containerd: { type: str, flag: 'containerd', summary: 'Address of an external containerd (gRPC socket).' },
  'containerd-namespace': {
    type: str,
    flag: 'containerd-namespace',
    default: 'moby',
    summary: 'containerd namespace for containers.',
  },
  'containerd-plugins-namespace': {
    type: str,
    flag: 'containerd-plugins-namespace',
    default: 'plugins.moby',
    // moby decodes this field from "containerd-plugin-namespace" (singular), which is not a flag
    // name and so is refused; the plural key passes the check and is then never read.
    ignoredInFile: 'dockerd accepts this key in daemon.json but never reads it; use the flag instead',
    summary: 'containerd namespace for plugins.',
  },
  'cpu-rt-period': {
    type: int,
    flag: 'cpu-rt-period',
    summary: 'CPU real-time period (µs) of the parent cgroup (cgroup v1 only).',
  },
  'cpu-rt-runtime': {
    type: int,
    flag: 'cpu-rt-runtime',
    summary: 'CPU real-time runtime (µs) of the parent cgroup (cgroup v1 only).',
  },
  'cri-containerd': {
    type: bool,
    flag: 'cri-containerd',
    default: false,
    summary: 'Start the managed containerd with the CRI plugin.',
  },
  'data-root': {
    type: str,
    flag: 'data-root',
    default: '/var/lib/docker',
    summary: 'Root directory of persistent Docker state.',
  },
  debug: { type: bool, flag: 'debug', short: 'D', reload: true, default: false, summary: 'Debug logging.' },
  'default-address-pools': {
    type: {
      kind: 'list',
      of: { kind: 'object', fields: { base: str, size: int }, required: ['base', 'size'] },
    },
    flag: 'default-address-pool',
    flagFormat: 'address-pool',
    summary: 'Address pools from which new local networks get their subnets.',
  },
  'default-cgroupns-mode': {
    type: { kind: 'string', enum: ['host', 'private'] },
    flag: 'default-cgroupns-mode',
    reload: true,
    default: 'private',
    summary: 'Default cgroup namespace mode of containers.',
  },
  'default-gateway': { type: str, flag: 'default-gateway', summary: 'IPv4 gateway of the default bridge.' },
  'default-gateway-v6': {
    type: str,
    flag: 'default-gateway-v6',
    summary: 'IPv6 gateway of the default bridge.',
  },
  'default-ipc-mode': {
    type: { kind: 'string', enum: ['private', 'shareable'] },
    flag: 'default-ipc-mode',
    reload: true,
    default: 'private',
    summary: 'Default IPC mode of containers.',
  },
  'default-network-opts': {
    type: { kind: 'map', of: strMap },
    flag: 'default-network-opt',
    flagFormat: 'driver-key-value',
    since: 24,
    summary: 'Default driver options of new networks, per driver.',
  },
  'default-runtime': {
    type: str,
    flag: 'default-runtime',
    reload: true,
    default: 'runc',
    summary: 'Default OCI runtime of containers.',
  },
  'default-shm-size': {
    type: bytes,
    flag: 'default-shm-size',
    reload: true,
    default: '64M',
    summary: 'Default /dev/shm size of containers.',
  },
  'default-ulimits': {
    type: {
      kind: 'map',
      of: { kind: 'object', fields: { Name: str, Hard: int, Soft: int }, required: ['Hard', 'Soft'] },
    },
    flag: 'default-ulimit',
    flagFormat: 'ulimit',
    summary: 'Default ulimits of containers.',
  },
  'deprecated-key-path': {
    type: str,
    deprecated: 'the libtrust key is no longer used; dockerd ignores this key',
    summary: 'Path of the legacy libtrust key.',
  },
  dns: { type: strList, flag: 'dns', summary: 'DNS servers of containers.' },
  'dns-opts': { type: strList, flag: 'dns-opt', summary: 'DNS options of containers.' },
  'dns-search': { type: strList, flag: 'dns-search', summary: 'DNS search domains of containers.' },
  'exec-opts': {
    type: strList,
    flag: 'exec-opt',
    summary: 'Runtime execution options (`native.cgroupdriver=systemd`).',
  },
  'exec-root': {
    type: str,
    flag: 'exec-root',
    default: '/var/run/docker',
    summary: 'Root directory of execution state files.',
  },
  experimental: {
    type: bool,
    flag: 'experimental',
    default: false,
    summary: 'Enable experimental features.',
  },
  features: {
    type: { kind: 'map', of: bool },
    flag: 'feature',
    flagFormat: 'feature',
    reload: true,
    summary: 'Feature switches (`containerd-snapshotter`, `cdi`, ...).',
  },
  'firewall-backend': {
    type: { kind: 'string', enum: ['iptables', 'nftables'] },
    flag: 'firewall-backend',
    since: 28,
    summary: 'Firewall backend: iptables or nftables.',
  },
  'fixed-cidr': { type: str, flag: 'fixed-cidr', summary: 'IPv4 subnet for container addresses.' },
  'fixed-cidr-v6': { type: str, flag: 'fixed-cidr-v6', summary: 'IPv6 subnet for container addresses.' },
  group: {
    type: str,
    flag: 'group',
    short: 'G',
    default: 'docker',
    summary: 'Group owning the unix socket (its members are root-equivalent).',
  },
  'host-gateway-ip': {
    type: str,
    flag: 'host-gateway-ip',
    deprecated: 'use "host-gateway-ips" (a list)',
    summary: 'Address that `host-gateway` in --add-host resolves to.',
  },
  'host-gateway-ips': {
    type: strList,
    flag: 'host-gateway-ip',
    since: 28,
    summary: 'Addresses (IPv4 and IPv6) that `host-gateway` in --add-host resolves to.',
  },
  hosts: {
    type: strList,
    flag: 'host',
    short: 'H',
    default: ['unix:///var/run/docker.sock'],
    summary: 'Sockets the API listens on (unix://, tcp://, fd://).',
  },
  'http-proxy': {
    type: str,
    flag: 'http-proxy',
    since: 23,
    ignoredInFile: 'write it inside "proxies": {"http-proxy": ...}',
    summary: 'HTTP proxy for outgoing traffic (in the file: under "proxies").',
  },
  'https-proxy': {
    type: str,
    flag: 'https-proxy',
    since: 23,
    ignoredInFile: 'write it inside "proxies": {"https-proxy": ...}',
    summary: 'HTTPS proxy for outgoing traffic (in the file: under "proxies").',
  },
  icc: {
    type: bool,
    flag: 'icc',
    default: true,
    summary: 'Inter-container communication on the default bridge.',
  },
  init: {
    type: bool,
    flag: 'init',
    default: false,
    summary: 'Run an init process in containers by default.',
  },
  'init-path': { type: str, flag: 'init-path', summary: 'Path of the docker-init binary.' },
  'insecure-registries': {
    type: strList,
    flag: 'insecure-registry',
    reload: true,
    summary: 'Registries reached without TLS verification.',
  },
  ip: {
    type: str,
    flag: 'ip',
    default: '0.0.0.0',
    summary: 'Default host address of published ports.',
  },
  'ip-forward': { type: bool, flag: 'ip-forward', default: true, summary: 'Enable IP forwarding.' },
  'ip-forward-no-drop': {
    type: bool,
    flag: 'ip-forward-no-drop',
    since: 27,
    default: false,
    summary: 'Do not set the FORWARD policy to DROP when enabling forwarding.',
  },
  'ip-masq': { type: bool, flag: 'ip-masq', default: true, summary: 'IP masquerading.' },
  ip6tables: {
    type: bool,
    flag: 'ip6tables',
    default: true,
    summary: 'Add ip6tables rules (default true since dockerd 27).',
  },
  iptables: { type: bool, flag: 'iptables', default: true, summary: 'Add iptables rules.' },
  ipv6: { type: bool, flag: 'ipv6', default: false, summary: 'IPv6 on the default bridge.' },
  labels: { type: strList, flag: 'label', reload: true, summary: 'Daemon labels (`key=value`).' },
  'live-restore': {
    type: bool,
    flag: 'live-restore',
    reload: true,
    default: false,
    summary: 'Keep containers running while dockerd restarts (incompatible with swarm).',
  },
  'log-driver': {
    type: str,
    flag: 'log-driver',
    default: 'json-file',
    summary: 'Default log driver of containers.',
  },
  'log-format': {
    type: { kind: 'string', enum: ['text', 'json'] },
    flag: 'log-format',
    since: 25,
    default: 'text',
    summary: "Format of the daemon's own logs.",
  },
  'log-level': {
    type: { kind: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic'] },
    flag: 'log-level',
    short: 'l',
    default: 'info',
    summary: "Level of the daemon's own logs.",
  },
  'log-opts': {
    type: strMap,
    flag: 'log-opt',
    flagFormat: 'key-value',
    summary: 'Default log driver options (every value is a string).',
  },
  'max-concurrent-downloads': {
    type: int,
    flag: 'max-concurrent-downloads',
    reload: true,
    default: 3,
    summary: 'Concurrent layer downloads per pull.',
  },
  'max-concurrent-uploads': {
    type: int,
    flag: 'max-concurrent-uploads',
    reload: true,
    default: 5,
    summary: 'Concurrent layer uploads per push.',
  },
  'max-download-attempts': {
    type: int,
    flag: 'max-download-attempts',
    reload: true,
    default: 5,
    summary: 'Download attempts per layer.',
  },
  'metrics-addr': { type: str, flag: 'metrics-addr', summary: 'Address of the Prometheus metrics endpoint.' },
  mtu: { type: int, flag: 'mtu', default: 1500, summary: 'MTU of the default bridge.' },
  'network-control-plane-mtu': {
    type: int,
    flag: 'network-control-plane-mtu',
    default: 1500,
    summary: 'MTU of the swarm network control plane.',
  },
  'network-diagnostic-port': {
    type: int,
    flag: 'network-diagnostic-port',
    reload: true,
    summary: 'Port of the network diagnostic server (hidden flag).',
  },
  'no-new-privileges': {
    type: bool,
    flag: 'no-new-privileges',
    default: false,
    summary: 'Set no-new-privileges on new containers by default.',
  },
  'no-proxy': {
    type: str,
    flag: 'no-proxy',
    since: 23,
    ignoredInFile: 'write it inside "proxies": {"no-proxy": ...}',
    summary: 'Hosts reached without the proxy (in the file: under "proxies").',
  },
  'node-generic-resources': {
    type: strList,
    flag: 'node-generic-resource',
    summary: 'User-defined resources advertised to swarm.',
  },
  'nri-opts': {
    type: {
      kind: 'object',
      fields: { enable: bool, 'plugin-path': str, 'plugin-config-path': str, 'socket-path': str },
    },
    flag: 'nri-opts',
    since: 29,
    summary: 'Node Resource Interface settings.',
  },
  'oom-score-adjust': {
    type: int,
    flag: 'oom-score-adjust',
    removedIn: 25,
    deprecated: "set OOMScoreAdjust in dockerd's systemd unit instead",
    summary: 'oom_score_adj of the daemon.',
  },
  pidfile: {
    type: str,
    flag: 'pidfile',
    short: 'p',
    default: '/var/run/docker.pid',
    summary: 'Path of the daemon PID file.',
  },
  proxies: {
    type: {
      kind: 'object',
      fields: { 'http-proxy': str, 'https-proxy': str, 'no-proxy': str },
      strict: true,
    },
    since: 23,
    summary: 'Proxies for outgoing traffic (pull, push, plugins).',
  },
  'raw-logs': {
    type: bool,
    flag: 'raw-logs',
    default: false,
    summary: 'Full timestamps without ANSI colors in daemon logs.',
  },
  'registry-mirrors': {
    type: strList,
    flag: 'registry-mirror',
    reload: true,
    summary: 'Registry mirrors of Docker Hub.',
  },
  rootless: { type: bool, flag: 'rootless', default: false, summary: 'Rootless mode (with RootlessKit).' },
  runtimes: {
    type: {
      kind: 'map',
      of: {
        kind: 'object',
        fields: {
          path: str,
          runtimeArgs: strList,
          runtimeType: str,
          options: { kind: 'map', of: { kind: 'string' } },
        },
      },
    },
    flag: 'add-runtime',
    flagFormat: 'runtime',
    reload: true,
    summary: 'Extra OCI runtimes (merged with --add-runtime, never a conflict).',
  },
  'seccomp-profile': {
    type: str,
    flag: 'seccomp-profile',
    default: 'builtin',
    summary: 'Default seccomp profile (`unconfined` disables it).',
  },
  'selinux-enabled': { type: bool, flag: 'selinux-enabled', default: false, summary: 'SELinux support.' },
  'shutdown-timeout': {
    type: int,
    flag: 'shutdown-timeout',
    reload: true,
    default: 15,
    summary: 'Seconds containers get to stop when dockerd shuts down.',
  },
  'storage-driver': { type: str, flag: 'storage-driver', short: 's', summary: 'Storage driver.' },
  'storage-opts': { type: strList, flag: 'storage-opt', summary: 'Storage driver options.' },
  'swarm-default-advertise-addr': {
    type: str,
    flag: 'swarm-default-advertise-addr',
    summary: 'Default swarm advertise address or interface.',
  },
  tls: { type: bool, flag: 'tls', default: false, summary: 'Use TLS (implied by tlsverify).' },
  tlscacert: {
    type: str,
    flag: 'tlscacert',
    default: '~/.docker/ca.pem',
    summary: 'CA whose client certificates are trusted (with tlsverify).',
  },
  tlscert: {
    type: str,
    flag: 'tlscert',
    default: '~/.docker/cert.pem',
    summary: 'Server certificate.',
  },
  tlskey: { type: str, flag: 'tlskey', default: '~/.docker/key.pem', summary: 'Server private key.' },
  tlsverify: {
    type: bool,
    flag: 'tlsverify',
    default: false,
    summary: 'Use TLS and require client certificates signed by tlscacert.',
  },
  'userland-proxy': {
    type: bool,
    flag: 'userland-proxy',
    default: true,
    summary: 'Userland proxy for loopback traffic to published ports.',
  },
  'userland-proxy-path': {
    type: str,
    flag: 'userland-proxy-path',
    summary: 'Path of the userland proxy binary.',
  },
  'userns-remap': {
    type: str,
    flag: 'userns-remap',
    summary: 'User namespace remapping (`default` creates the dockremap user).',
  },
} as const satisfies Record<string, KeySpec>;

/** A daemon.json key name. */
export type DaemonKey = keyof typeof DAEMON_KEYS;

/** The TypeScript value type of a `ValueSpec`. */
export type SpecValue<S> = S extends { kind: 'bool' }
  ? boolean
  : S extends { kind: 'string' }
    ? string
    : S extends { kind: 'int' }
      ? number
      : S extends { kind: 'bytes' }
        ? string | number
        : S extends { kind: 'list'; of: infer O }
          ? SpecValue<O>[]
          : S extends { kind: 'map'; of: infer O }
            ? { [name: string]: SpecValue<O> }
            : S extends { kind: 'object'; fields: infer F }
              ? { [K in keyof F]?: SpecValue<F[K]> }
              : never;

/** A parsed daemon.json: every key optional, each with the type dockerd decodes it into. */
export type DaemonConfig = { -readonly [K in DaemonKey]?: SpecValue<(typeof DAEMON_KEYS)[K]['type']> };

/** The value type of one key. */
export type DaemonValue<K extends DaemonKey> = SpecValue<(typeof DAEMON_KEYS)[K]['type']>;

/** Every key name, alphabetical. */
export const DAEMON_KEY_NAMES: readonly DaemonKey[] = Object.keys(DAEMON_KEYS) as DaemonKey[];

/** True when `name` is a daemon.json key this table knows. */
export function isDaemonKey(name: string): name is DaemonKey {
  return Object.hasOwn(DAEMON_KEYS, name);
}

/** The spec of a key (typed loosely so callers can read optional fields). */
export function keySpec(key: DaemonKey): KeySpec {
  return DAEMON_KEYS[key];
}

/**
 * Flags that set no daemon.json key. dockerd still accepts their names as file keys (its unknown-
 * key check looks names up in the flag set) but never reads them there.
 */
export const FLAG_ONLY_FLAGS: Readonly<
  Record<string, { short?: string; bool: boolean; since?: number; summary: string }>
> = {
  'config-file': { bool: false, summary: 'Path of daemon.json (default /etc/docker/daemon.json).' },
  validate: { bool: true, since: 23, summary: 'Validate the configuration and exit.' },
  version: { short: 'v', bool: true, summary: 'Print the version and exit.' },
  help: { bool: true, summary: 'Print usage.' },
  restart: { short: 'r', bool: true, summary: 'Deprecated no-op; use restart policies on containers.' },
};

/** Renamed or legacy spellings dockerd once accepted, and the key that replaced them. */
export const LEGACY_KEYS: Readonly<
  Record<string, { key: DaemonKey; flag?: string; short?: string; removedIn: number }>
> = {
  graph: { key: 'data-root', flag: 'graph', short: 'g', removedIn: 23 },
};

/** How a command-line flag maps onto the key space. */
export interface FlagSpec {
  /** Long name without dashes. */
  readonly name: string;
  readonly short?: string;
  /** The daemon.json key it sets; absent for flag-only flags. */
  readonly key?: DaemonKey;
  /** For `--http-proxy` & co: the field under `proxies` in the file. */
  readonly subKey?: string;
  /** Takes no value (`--icc`, `--icc=false`). */
  readonly bool: boolean;
  /** May be given several times, each adding to a list or map. */
  readonly repeatable: boolean;
  readonly removedIn?: number;
  readonly since?: number;
}

function buildFlagIndex(): { byLong: Map<string, FlagSpec>; byShort: Map<string, FlagSpec> } {
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  const add = (spec: FlagSpec): void => {
    // `--host-gateway-ip` feeds both the legacy and the list key; the list key is the live one.
    const existing = byLong.get(spec.name);
    if (existing && existing.key === 'host-gateway-ips') return;
    byLong.set(spec.name, spec);
    if (spec.short) byShort.set(spec.short, spec);
  };
  for (const key of DAEMON_KEY_NAMES) {
    const spec: KeySpec = DAEMON_KEYS[key];
    if (!spec.flag) continue;
    const kind = spec.type.kind;
    const isProxy = key === 'http-proxy' || key === 'https-proxy' || key === 'no-proxy';
    add({
      name: spec.flag,
      ...(spec.short ? { short: spec.short } : {}),
      key: isProxy ? 'proxies' : key,
      ...(isProxy ? { subKey: key } : {}),
      bool: kind === 'bool',
      repeatable: kind === 'list' || kind === 'map',
      ...(spec.since ? { since: spec.since } : {}),
      ...(spec.removedIn ? { removedIn: spec.removedIn } : {}),
    });
  }
  for (const [name, spec] of Object.entries(FLAG_ONLY_FLAGS)) {
    add({
      name,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.since ? { since: spec.since } : {}),
      bool: spec.bool,
      repeatable: false,
    });
  }
  for (const [name, legacy] of Object.entries(LEGACY_KEYS)) {
    add({
      name: legacy.flag ?? name,
      ...(legacy.short ? { short: legacy.short } : {}),
      key: legacy.key,
      bool: false,
      repeatable: false,
      removedIn: legacy.removedIn,
    });
  }
  return { byLong, byShort };
}

const FLAG_INDEX = buildFlagIndex();

/** Looks up a dockerd flag by long name (`host`) or one-letter name (`H`). */
export function findFlag(name: string): FlagSpec | undefined {
  return name.length === 1 ? FLAG_INDEX.byShort.get(name) : FLAG_INDEX.byLong.get(name);
}

/** Every long flag dockerd knows (for suggestions). */
export function allFlagNames(): string[] {
  return [...FLAG_INDEX.byLong.keys()];
}

/** The flag spelling of a key for messages: `-H/--host`, `--label`, or undefined. */
export function flagLabel(key: DaemonKey, subKey?: string): string | undefined {
  const spec: KeySpec = DAEMON_KEYS[subKey && key === 'proxies' ? (subKey as DaemonKey) : key];
  if (!spec?.flag) return undefined;
  return spec.short ? `-${spec.short}/--${spec.flag}` : `--${spec.flag}`;
}

/**
 * File keys dockerd lets through its unknown-key check because they are flag names, but then
 * never decodes (`label` instead of `labels`): the most confusing failure, since nothing errors.
 * Maps the accepted-but-ignored name to the key the user meant (or undefined for flag-only flags).
 */
export function ignoredFlagNameKey(name: string): { meant?: DaemonKey; why: string } | undefined {
  if (isDaemonKey(name)) return undefined;
  if (Object.hasOwn(FLAG_ONLY_FLAGS, name)) {
    return { why: `"${name}" is a command-line flag only; dockerd accepts it in daemon.json but ignores it` };
  }
  const flag = FLAG_INDEX.byLong.get(name);
  if (flag?.key && !Object.hasOwn(LEGACY_KEYS, name)) {
    return {
      meant: flag.key,
      why: `"${name}" is the flag name; dockerd accepts it in daemon.json but ignores it — the key is "${flag.key}"`,
    };
  }
  return undefined;
}

/** The closest daemon.json key to an unknown one. */
export function suggestKey(name: string): DaemonKey | undefined {
  return closestName(name, DAEMON_KEY_NAMES) as DaemonKey | undefined;
}

/** A short human name of a value type: `string`, `list of strings`, `map of booleans`... */
export function describeSpec(spec: ValueSpec): string {
  switch (spec.kind) {
    case 'bool':
      return 'a boolean';
    case 'string':
      return spec.enum ? `one of ${spec.enum.map((v) => `"${v}"`).join(', ')}` : 'a string';
    case 'int':
      return 'an integer';
    case 'bytes':
      return 'a size (a string like "64m" or a number of bytes)';
    case 'list':
      return `a list of ${plural(spec.of)}`;
    case 'map':
      return `an object whose values are ${plural(spec.of)}`;
    case 'object':
      return `an object (${Object.keys(spec.fields).join(', ')})`;
  }
}

function plural(spec: ValueSpec): string {
  switch (spec.kind) {
    case 'bool':
      return 'booleans';
    case 'string':
      return 'strings';
    case 'int':
      return 'integers';
    case 'bytes':
      return 'sizes';
    case 'list':
      return 'lists';
    case 'map':
    case 'object':
      return 'objects';
  }
}

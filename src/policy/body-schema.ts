/**
 * The shapes of the JSON request bodies whose content a policy can look at, as dockerd's Go
 * types declare them (moby `api/types/container`, `api/types/mount`, `api/types/volume`,
 * `api/types/network`, `api/types/swarm`). Go's encoding/json matches object keys to struct fields
 * case-insensitively, so every *struct* here lists its fields' canonical names; *maps*
 * (`Labels`, `DriverOpts`, ...) keep their keys exactly, as Go does. Only the fields a policy
 * reads carry a type check; the rest are `any` (passed through, still checked for duplicates).
 */

export type FieldSpec =
  | { readonly t: 'any' }
  | { readonly t: 'bool' }
  | { readonly t: 'string' }
  | { readonly t: 'number' }
  /** Go `[]string`: an array of strings (or null). */
  | { readonly t: 'strings' }
  /** Docker's `strslice.StrSlice`: a string or an array of strings; canonical form is the array. */
  | { readonly t: 'strslice' }
  /** Go `map[string]V`: keys are exact. */
  | { readonly t: 'map'; readonly values: FieldSpec }
  | { readonly t: 'array'; readonly items: FieldSpec }
  | { readonly t: 'struct'; readonly spec: StructSpec };

export interface StructField {
  readonly name: string;
  /** The name as a JSON string, ready to write. */
  readonly quoted: string;
  readonly spec: FieldSpec;
}

export interface StructSpec {
  /** Go type name, for messages. */
  readonly name: string;
  /** Fields by ASCII upper-cased name (Go's fold for ASCII keys). */
  readonly fields: ReadonlyMap<string, StructField>;
  /** Keys refused in this struct (upper-cased name -> why). */
  readonly refused?: ReadonlyMap<string, string>;
}

export const ANY: FieldSpec = { t: 'any' };
const BOOL: FieldSpec = { t: 'bool' };
const STRING: FieldSpec = { t: 'string' };
const STRINGS: FieldSpec = { t: 'strings' };
const STRSLICE: FieldSpec = { t: 'strslice' };
const STRING_MAP: FieldSpec = { t: 'map', values: STRING };
const ANY_MAP: FieldSpec = { t: 'map', values: ANY };

function struct(
  name: string,
  fields: Record<string, FieldSpec>,
  refused?: ReadonlyMap<string, string>,
): StructSpec {
  const map = new Map<string, StructField>();
  for (const [field, spec] of Object.entries(fields)) {
    map.set(field.toUpperCase(), { name: field, quoted: JSON.stringify(field), spec });
  }
  return { name, fields: map, ...(refused ? { refused } : {}) };
}
const of = (spec: StructSpec): FieldSpec => ({ t: 'struct', spec });
const arrayOf = (items: FieldSpec): FieldSpec => ({ t: 'array', items });
const mapOf = (values: FieldSpec): FieldSpec => ({ t: 'map', values });

/** Names that are `any`: known, so their case is canonicalized, but not interpreted. */
function anyFields(...names: string[]): Record<string, FieldSpec> {
  return Object.fromEntries(names.map((n) => [n, ANY]));
}

const HEALTHCHECK = struct(
  'HealthConfig',
  anyFields('Test', 'Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'),
);

/** container.Config: the portable part of a container (also the body of `POST /commit`). */
export const CONFIG_FIELDS: Record<string, FieldSpec> = {
  ...anyFields(
    'Hostname',
    'Domainname',
    'AttachStdin',
    'AttachStdout',
    'AttachStderr',
    'Tty',
    'OpenStdin',
    'StdinOnce',
    'Env',
    'ArgsEscaped',
    'WorkingDir',
    'NetworkDisabled',
    'MacAddress',
    'OnBuild',
    'StopSignal',
    'StopTimeout',
  ),
  User: STRING,
  ExposedPorts: ANY_MAP,
  Cmd: STRSLICE,
  Healthcheck: of(HEALTHCHECK),
  Image: STRING,
  Volumes: ANY_MAP,
  Entrypoint: STRSLICE,
  Labels: STRING_MAP,
  Shell: STRSLICE,
};

const DEVICE_MAPPING = struct('DeviceMapping', {
  PathOnHost: STRING,
  PathInContainer: STRING,
  CgroupPermissions: STRING,
});
const DEVICE_REQUEST = struct('DeviceRequest', {
  ...anyFields('Driver', 'Count', 'DeviceIDs', 'Capabilities'),
  Options: STRING_MAP,
});
const WEIGHT_DEVICE = struct('WeightDevice', anyFields('Path', 'Weight'));
const THROTTLE_DEVICE = struct('ThrottleDevice', anyFields('Path', 'Rate'));
const ULIMIT = struct('Ulimit', anyFields('Name', 'Hard', 'Soft'));

/** container.Resources: embedded in HostConfig and in the update body, so its fields are promoted. */
export const RESOURCES_FIELDS: Record<string, FieldSpec> = {
  ...anyFields(
    'CpuShares',
    'Memory',
    'NanoCpus',
    'CgroupParent',
    'BlkioWeight',
    'CpuPeriod',
    'CpuQuota',
    'CpuRealtimePeriod',
    'CpuRealtimeRuntime',
    'CpusetCpus',
    'CpusetMems',
    'KernelMemory',
    'KernelMemoryTCP',
    'MemoryReservation',
    'MemorySwap',
    'MemorySwappiness',
    'OomKillDisable',
    'PidsLimit',
    'CpuCount',
    'CpuPercent',
    'IOMaximumIOps',
    'IOMaximumBandwidth',
  ),
  BlkioWeightDevice: arrayOf(of(WEIGHT_DEVICE)),
  BlkioDeviceReadBps: arrayOf(of(THROTTLE_DEVICE)),
  BlkioDeviceWriteBps: arrayOf(of(THROTTLE_DEVICE)),
  BlkioDeviceReadIOps: arrayOf(of(THROTTLE_DEVICE)),
  BlkioDeviceWriteIOps: arrayOf(of(THROTTLE_DEVICE)),
  Devices: arrayOf(of(DEVICE_MAPPING)),
  DeviceCgroupRules: STRINGS,
  DeviceRequests: arrayOf(of(DEVICE_REQUEST)),
  Ulimits: arrayOf(of(ULIMIT)),
};

const DRIVER_CONFIG = struct('Driver', { Name: STRING, Options: STRING_MAP });
const MOUNT = struct('Mount', {
  Type: STRING,
  Source: STRING,
  Target: STRING,
  ReadOnly: ANY,
  Consistency: ANY,
  BindOptions: of(
    struct(
      'BindOptions',
      anyFields(
        'Propagation',
        'NonRecursive',
        'CreateMountpoint',
        'ReadOnlyNonRecursive',
        'ReadOnlyForceRecursive',
      ),
    ),
  ),
  VolumeOptions: of(
    struct('VolumeOptions', {
      NoCopy: ANY,
      Labels: STRING_MAP,
      Subpath: ANY,
      DriverConfig: of(DRIVER_CONFIG),
    }),
  ),
  TmpfsOptions: of(struct('TmpfsOptions', anyFields('SizeBytes', 'Mode', 'Options'))),
  ClusterOptions: ANY,
});

/** container.HostConfig, with Resources' promoted fields. */
export const HOST_CONFIG_FIELDS: Record<string, FieldSpec> = {
  ...anyFields(
    'ContainerIDFile',
    'AutoRemove',
    'VolumeDriver',
    'ConsoleSize',
    'Dns',
    'DnsOptions',
    'DnsSearch',
    'ExtraHosts',
    'GroupAdd',
    'Cgroup',
    'Links',
    'OomScoreAdj',
    'PublishAllPorts',
    'ReadonlyRootfs',
    'ShmSize',
    'Runtime',
    'Isolation',
    'Init',
  ),
  Binds: STRINGS,
  LogConfig: of(struct('LogConfig', { Type: ANY, Config: STRING_MAP })),
  NetworkMode: STRING,
  PortBindings: ANY_MAP,
  RestartPolicy: of(struct('RestartPolicy', anyFields('Name', 'MaximumRetryCount'))),
  VolumesFrom: STRINGS,
  Annotations: STRING_MAP,
  CapAdd: STRSLICE,
  CapDrop: STRSLICE,
  // API 1.40 only: replaced the whole capability set; read as added capabilities.
  Capabilities: STRINGS,
  CgroupnsMode: STRING,
  IpcMode: STRING,
  PidMode: STRING,
  Privileged: BOOL,
  SecurityOpt: STRINGS,
  StorageOpt: STRING_MAP,
  Tmpfs: STRING_MAP,
  UTSMode: STRING,
  UsernsMode: STRING,
  Sysctls: STRING_MAP,
  Mounts: arrayOf(of(MOUNT)),
  MaskedPaths: STRINGS,
  ReadonlyPaths: STRINGS,
  ...RESOURCES_FIELDS,
};

const ENDPOINT_SETTINGS = struct('EndpointSettings', {
  ...anyFields(
    'Links',
    'Aliases',
    'MacAddress',
    'GwPriority',
    'NetworkID',
    'EndpointID',
    'Gateway',
    'IPAddress',
    'IPPrefixLen',
    'IPv6Gateway',
    'GlobalIPv6Address',
    'GlobalIPv6PrefixLen',
    'DNSNames',
  ),
  IPAMConfig: of(struct('EndpointIPAMConfig', anyFields('IPv4Address', 'IPv6Address', 'LinkLocalIPs'))),
  DriverOpts: STRING_MAP,
});

// dockerd <= 24 decodes the create body into a wrapper that also embeds a *HostConfig: with no
// "HostConfig" key, top-level host settings ({"Image":"x","Privileged":true}) are applied
// (seen on 20.10). No client has sent them since API 1.15; refusing them removes the ambiguity.
const TOP_LEVEL_HOST_FIELDS = new Map(
  Object.keys(HOST_CONFIG_FIELDS).map((name) => [
    name.toUpperCase(),
    `"${name}" at the top level of a container create body: dockerd applies top-level host settings when HostConfig is absent, so dockward requires them inside "HostConfig"`,
  ]),
);

const CREATE_REQUEST = struct(
  'ContainerCreateRequest',
  {
    ...CONFIG_FIELDS,
    HostConfig: of(struct('HostConfig', HOST_CONFIG_FIELDS)),
    NetworkingConfig: of(struct('NetworkingConfig', { EndpointsConfig: mapOf(of(ENDPOINT_SETTINGS)) })),
    Cpuset: ANY,
  },
  TOP_LEVEL_HOST_FIELDS,
);

const EXEC_CONFIG = struct('ExecConfig', {
  ...anyFields(
    'ConsoleSize',
    'AttachStdin',
    'AttachStderr',
    'AttachStdout',
    'Detach',
    'DetachKeys',
    'Env',
    'WorkingDir',
  ),
  User: STRING,
  Privileged: BOOL,
  Tty: ANY,
  Cmd: STRINGS,
});

const UPDATE_CONFIG = struct('UpdateConfig', {
  ...RESOURCES_FIELDS,
  RestartPolicy: of(struct('RestartPolicy', anyFields('Name', 'MaximumRetryCount'))),
});

const VOLUME_CREATE = struct('VolumeCreateOptions', {
  Name: STRING,
  Driver: STRING,
  DriverOpts: STRING_MAP,
  Labels: STRING_MAP,
  ClusterVolumeSpec: ANY,
});

const IPAM = struct('IPAM', {
  Driver: ANY,
  Config: arrayOf(
    of(
      struct('IPAMConfig', { ...anyFields('Subnet', 'IPRange', 'Gateway'), AuxiliaryAddresses: STRING_MAP }),
    ),
  ),
  Options: STRING_MAP,
});
const NETWORK_CREATE = struct('NetworkCreateRequest', {
  ...anyFields(
    'Name',
    'CheckDuplicate',
    'Scope',
    'EnableIPv4',
    'EnableIPv6',
    'Internal',
    'Attachable',
    'Ingress',
    'ConfigOnly',
  ),
  Driver: STRING,
  IPAM: of(IPAM),
  ConfigFrom: of(struct('ConfigReference', anyFields('Network'))),
  Options: STRING_MAP,
  Labels: STRING_MAP,
});

// swarm.ServiceSpec (moby api/types/swarm): the swarm agent creates the task containers inside
// dockerd, never through the gateway, so what a task may mount is decided on the service spec.
const CONTAINER_SPEC = struct('ContainerSpec', {
  ...anyFields(
    'Image',
    'Labels',
    'Command',
    'Args',
    'Hostname',
    'Env',
    'Dir',
    'User',
    'Groups',
    'Privileges',
    'Init',
    'StopSignal',
    'TTY',
    'OpenStdin',
    'ReadOnly',
    'StopGracePeriod',
    'Healthcheck',
    'Hosts',
    'DNSConfig',
    'Secrets',
    'Configs',
    'Isolation',
    'Sysctls',
    'CapabilityAdd',
    'CapabilityDrop',
    'Ulimits',
    'OomScoreAdj',
  ),
  Mounts: arrayOf(of(MOUNT)),
});
const TASK_SPEC = struct('TaskSpec', {
  ...anyFields(
    'PluginSpec',
    'NetworkAttachmentSpec',
    'Resources',
    'RestartPolicy',
    'Placement',
    'Networks',
    'LogDriver',
    'ForceUpdate',
    'Runtime',
  ),
  ContainerSpec: of(CONTAINER_SPEC),
});
const SERVICE_SPEC = struct('ServiceSpec', {
  ...anyFields('Name', 'Labels', 'Mode', 'UpdateConfig', 'RollbackConfig', 'Networks', 'EndpointSpec'),
  TaskTemplate: of(TASK_SPEC),
});

export interface BodySchema {
  readonly root: FieldSpec;
  /** dockerd refuses an empty body or a non-object for these (create-like calls). */
  readonly requireObject: boolean;
}

/** The JSON bodies dockward canonicalizes with field knowledge, by endpoint name. */
export const BODY_SCHEMAS: ReadonlyMap<string, BodySchema> = new Map<string, BodySchema>([
  ['container.create', { root: of(CREATE_REQUEST), requireObject: true }],
  ['container.exec', { root: of(EXEC_CONFIG), requireObject: true }],
  ['container.update', { root: of(UPDATE_CONFIG), requireObject: true }],
  [
    'exec.start',
    { root: of(struct('ExecStartCheck', anyFields('Detach', 'Tty', 'ConsoleSize'))), requireObject: false },
  ],
  ['volume.create', { root: of(VOLUME_CREATE), requireObject: true }],
  ['network.create', { root: of(NETWORK_CREATE), requireObject: true }],
  [
    'network.connect',
    {
      root: of(struct('NetworkConnect', { Container: ANY, EndpointConfig: of(ENDPOINT_SETTINGS) })),
      requireObject: true,
    },
  ],
  [
    'network.disconnect',
    { root: of(struct('NetworkDisconnect', anyFields('Container', 'Force'))), requireObject: true },
  ],
  ['image.commit', { root: of(struct('Config', CONFIG_FIELDS)), requireObject: false }],
  ['service.create', { root: of(SERVICE_SPEC), requireObject: true }],
  ['service.update', { root: of(SERVICE_SPEC), requireObject: true }],
]);

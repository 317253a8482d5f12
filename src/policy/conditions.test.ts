import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy } from './compile.js';
import { input, type RequestSpec } from './test-support.js';

/** A policy that allows everything except what one deny rule's condition catches. */
function denyWhen(condition: string) {
  return compilePolicy(
    `version: 1
defaultRole: r
roles:
  r:
    allow:
      - id: all
        endpoints: ['*']
    deny:
      - id: c
        endpoints: ['*']
        when: ${condition}
        reason: blocked
`,
    'test.yaml',
  );
}

type Case = [title: string, condition: string, endpoint: string, request: RequestSpec, denied: boolean];

const HC = (hostConfig: Record<string, unknown>) => ({ body: { Image: 'testbox', HostConfig: hostConfig } });

const CASES: Case[] = [
  // privileged
  ['a privileged container', '{ privileged: true }', 'container.create', HC({ Privileged: true }), true],
  [
    'a container with Privileged false',
    '{ privileged: true }',
    'container.create',
    HC({ Privileged: false }),
    false,
  ],
  [
    'a privileged exec',
    '{ privileged: true }',
    'container.exec',
    { body: { Cmd: ['id'], Privileged: true } },
    true,
  ],
  ['a plain exec', '{ privileged: true }', 'container.exec', { body: { Cmd: ['id'] } }, false],
  [
    'an unprivileged container, with privileged: false',
    '{ privileged: false }',
    'container.create',
    HC({}),
    true,
  ],
  // capAdd
  [
    'SYS_ADMIN against a list',
    '{ capAdd: [SYS_ADMIN] }',
    'container.create',
    HC({ CapAdd: ['SYS_ADMIN'] }),
    true,
  ],
  [
    'cap_sys_admin (normalized) against a list',
    '{ capAdd: [SYS_ADMIN] }',
    'container.create',
    HC({ CapAdd: ['cap_sys_admin'] }),
    true,
  ],
  [
    'a list written with CAP_ prefixes',
    '{ capAdd: [CAP_NET_ADMIN] }',
    'container.create',
    HC({ CapAdd: ['net_admin'] }),
    true,
  ],
  [
    'a capability outside the list',
    '{ capAdd: [SYS_ADMIN] }',
    'container.create',
    HC({ CapAdd: ['NET_ADMIN'] }),
    false,
  ],
  ['any added capability', '{ capAdd: any }', 'container.create', HC({ CapAdd: ['CHOWN'] }), true],
  ['no capability, with any', '{ capAdd: any }', 'container.create', HC({ CapDrop: ['ALL'] }), false],
  [
    'ALL beyond the default set',
    '{ capAdd: { except: docker-default } }',
    'container.create',
    HC({ CapAdd: ['ALL'] }),
    true,
  ],
  [
    'a default capability, with except docker-default',
    '{ capAdd: { except: docker-default } }',
    'container.create',
    HC({ CapAdd: ['NET_BIND_SERVICE'] }),
    false,
  ],
  [
    'a capability beyond an explicit except list',
    '{ capAdd: { except: [CHOWN] } }',
    'container.create',
    HC({ CapAdd: ['CHOWN', 'SYS_PTRACE'] }),
    true,
  ],
  [
    'the API 1.40 Capabilities field',
    '{ capAdd: [SYS_ADMIN] }',
    'container.create',
    HC({ Capabilities: ['CAP_SYS_ADMIN'] }),
    true,
  ],
  // devices
  [
    'a mapped device',
    '{ devices: true }',
    'container.create',
    HC({ Devices: [{ PathOnHost: '/dev/sda' }] }),
    true,
  ],
  [
    'a device cgroup rule',
    '{ devices: true }',
    'container.create',
    HC({ DeviceCgroupRules: ['a *:* rwm'] }),
    true,
  ],
  [
    'a device request (GPUs)',
    '{ devices: true }',
    'container.create',
    HC({ DeviceRequests: [{ Count: -1 }] }),
    true,
  ],
  ['an empty device list', '{ devices: true }', 'container.create', HC({ Devices: [] }), false],
  [
    'devices in an update',
    '{ devices: true }',
    'container.update',
    { body: { Devices: [{ PathOnHost: '/dev/mem' }] } },
    true,
  ],
  // hostMounts
  ['a bind of / with any', '{ hostMounts: any }', 'container.create', HC({ Binds: ['/:/host'] }), true],
  [
    'a named volume with any',
    '{ hostMounts: any }',
    'container.create',
    HC({ Binds: ['data:/data', '/anon'] }),
    false,
  ],
  [
    'the socket against a path list',
    '{ hostMounts: [/var/run/docker.sock] }',
    'container.create',
    HC({ Binds: ['/var/run/docker.sock:/s'] }),
    true,
  ],
  [
    'a path under a listed folder, after cleaning',
    '{ hostMounts: [/etc] }',
    'container.create',
    HC({ Binds: ['/tmp/../etc/ssl:/s:ro'] }),
    true,
  ],
  [
    'a path beside a listed folder',
    '{ hostMounts: [/etc] }',
    'container.create',
    HC({ Binds: ['/etcetera:/s'] }),
    false,
  ],
  [
    'a parent of a listed path (/run exposes /run/docker.sock)',
    '{ hostMounts: [/run/docker.sock] }',
    'container.create',
    HC({ Binds: ['/run:/x'] }),
    true,
  ],
  [
    'the root folder against a listed path',
    '{ hostMounts: [/run/docker.sock] }',
    'container.create',
    HC({ Binds: ['/:/host:ro'] }),
    true,
  ],
  [
    'a Mounts bind of a parent, spelled with a trailing slash and dots',
    '{ hostMounts: [/var/run/docker.sock] }',
    'container.create',
    HC({ Mounts: [{ Type: 'bind', Source: '/var/./run/', Target: '/h' }] }),
    true,
  ],
  [
    'a path that climbs out of the socket back into its folder',
    '{ hostMounts: [/run/docker.sock] }',
    'container.create',
    HC({ Binds: ['/run/docker.sock/../x:/x'] }),
    false,
  ],
  [
    'a path that climbs out of the socket to its folder',
    '{ hostMounts: [/run/docker.sock] }',
    'container.create',
    HC({ Binds: ['/run/docker.sock/..:/x'] }),
    true,
  ],
  [
    'a volume with o=bind of a parent of a listed path',
    '{ hostMounts: [/run/docker.sock] }',
    'volume.create',
    { body: { Name: 'v', Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: '/run' } } },
    true,
  ],
  [
    'a sibling of a listed path is not its parent',
    '{ hostMounts: [/run/docker.sock] }',
    'container.create',
    HC({ Binds: ['/srv/run:/x', '/running:/y'] }),
    false,
  ],
  [
    'anything against the root folder',
    '{ hostMounts: [/] }',
    'container.create',
    HC({ Binds: ['/srv/data:/d'] }),
    true,
  ],
  [
    'a Mounts bind',
    '{ hostMounts: any }',
    'container.create',
    HC({ Mounts: [{ Type: 'bind', Source: '/', Target: '/h' }] }),
    true,
  ],
  [
    'a Mounts entry of an unknown type',
    '{ hostMounts: any }',
    'container.create',
    HC({ Mounts: [{ Type: 'Bind', Source: '/', Target: '/h' }] }),
    true,
  ],
  [
    'a Mounts tmpfs',
    '{ hostMounts: any }',
    'container.create',
    HC({ Mounts: [{ Type: 'tmpfs', Target: '/t' }] }),
    false,
  ],
  [
    'a Mounts volume with o=bind driver options',
    '{ hostMounts: [/] }',
    'container.create',
    HC({
      Mounts: [
        {
          Type: 'volume',
          Source: 'v',
          Target: '/v',
          VolumeOptions: { DriverConfig: { Options: { o: 'rbind,ro', device: '/etc' } } },
        },
      ],
    }),
    true,
  ],
  [
    'a Mounts volume of a plugin driver',
    '{ hostMounts: any }',
    'container.create',
    HC({
      Mounts: [
        {
          Type: 'volume',
          Source: 'v',
          Target: '/v',
          VolumeOptions: { DriverConfig: { Name: 'rexray', Options: { device: '/x' } } },
        },
      ],
    }),
    false,
  ],
  [
    'a volume create with o=bind',
    '{ hostMounts: any }',
    'volume.create',
    { body: { Name: 'v', DriverOpts: { type: 'none', o: 'bind', device: '/' } } },
    true,
  ],
  [
    'a volume create of a block device',
    '{ hostMounts: [/dev] }',
    'volume.create',
    { body: { Name: 'v', DriverOpts: { type: 'ext4', device: '/dev/sda1' } } },
    true,
  ],
  [
    'a tmpfs volume create',
    '{ hostMounts: any }',
    'volume.create',
    { body: { Name: 'v', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } } },
    false,
  ],
  ['a plain volume create', '{ hostMounts: any }', 'volume.create', { body: { Name: 'v' } }, false],
  [
    'a service whose tasks bind-mount /etc (case-folded keys)',
    '{ hostMounts: [/etc] }',
    'service.create',
    {
      body: {
        Name: 's',
        taskTemplate: {
          containerspec: { Image: 'testbox', mounts: [{ type: 'bind', source: '/etc/', target: '/x' }] },
        },
      },
    },
    true,
  ],
  [
    'a service update adding a bind mount',
    '{ hostMounts: any }',
    'service.update',
    {
      body: {
        TaskTemplate: {
          ContainerSpec: { Image: 'testbox', Mounts: [{ Type: 'bind', Source: '/srv', Target: '/srv' }] },
        },
      },
    },
    true,
  ],
  [
    'a service with a named volume and a tmpfs',
    '{ hostMounts: any }',
    'service.create',
    {
      body: {
        TaskTemplate: {
          ContainerSpec: {
            Image: 'testbox',
            Mounts: [
              { Type: 'volume', Source: 'data', Target: '/data' },
              { Type: 'tmpfs', Target: '/tmp' },
            ],
          },
        },
      },
    },
    false,
  ],
  [
    'a service volume with local-driver o=bind',
    '{ hostMounts: any }',
    'service.create',
    {
      body: {
        TaskTemplate: {
          ContainerSpec: {
            Image: 'testbox',
            Mounts: [
              {
                Type: 'volume',
                Target: '/d',
                VolumeOptions: { DriverConfig: { Name: 'local', Options: { o: 'bind', device: '/' } } },
              },
            ],
          },
        },
      },
    },
    true,
  ],
  // volumesFrom
  ['VolumesFrom', '{ volumesFrom: true }', 'container.create', HC({ VolumesFrom: ['other:ro'] }), true],
  ['no VolumesFrom', '{ volumesFrom: true }', 'container.create', HC({ VolumesFrom: null }), false],
  // hostNamespaces
  ['--pid host', '{ hostNamespaces: any }', 'container.create', HC({ PidMode: 'host' }), true],
  [
    '--network host against [network]',
    '{ hostNamespaces: [network] }',
    'container.create',
    HC({ NetworkMode: 'host' }),
    true,
  ],
  [
    '--pid host against [network]',
    '{ hostNamespaces: [network] }',
    'container.create',
    HC({ PidMode: 'host' }),
    false,
  ],
  ['--userns host', '{ hostNamespaces: [userns] }', 'container.create', HC({ UsernsMode: 'host' }), true],
  ['--uts host', '{ hostNamespaces: [uts] }', 'container.create', HC({ UTSMode: 'host' }), true],
  ['--ipc host', '{ hostNamespaces: [ipc] }', 'container.create', HC({ IpcMode: 'host' }), true],
  [
    '--cgroupns host',
    '{ hostNamespaces: [cgroupns] }',
    'container.create',
    HC({ CgroupnsMode: 'host' }),
    true,
  ],
  ['HOST in capitals', '{ hostNamespaces: any }', 'container.create', HC({ PidMode: 'HOST' }), true],
  [
    'joining another container',
    '{ hostNamespaces: any }',
    'container.create',
    HC({ NetworkMode: 'container:web', PidMode: 'container:web' }),
    false,
  ],
  [
    'a build with networkmode=host',
    '{ hostNamespaces: [network] }',
    'build',
    { query: 'networkmode=host&t=x' },
    true,
  ],
  [
    'a build with networkmode=default',
    '{ hostNamespaces: any }',
    'build',
    { query: 'networkmode=default' },
    false,
  ],
  [
    'a build with host as the second value',
    '{ hostNamespaces: any }',
    'build',
    { query: 'networkmode=bridge&networkmode=host' },
    true,
  ],
  // unconfined
  [
    'seccomp=unconfined',
    '{ unconfined: any }',
    'container.create',
    HC({ SecurityOpt: ['seccomp=unconfined'] }),
    true,
  ],
  [
    'seccomp:unconfined (old form)',
    '{ unconfined: [seccomp] }',
    'container.create',
    HC({ SecurityOpt: ['seccomp:unconfined'] }),
    true,
  ],
  [
    'a custom seccomp profile',
    '{ unconfined: [seccomp] }',
    'container.create',
    HC({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] }),
    true,
  ],
  [
    'apparmor=unconfined',
    '{ unconfined: [apparmor] }',
    'container.create',
    HC({ SecurityOpt: ['apparmor=unconfined'] }),
    true,
  ],
  [
    'another AppArmor profile',
    '{ unconfined: [apparmor] }',
    'container.create',
    HC({ SecurityOpt: ['apparmor=docker-default'] }),
    false,
  ],
  [
    'label=disable',
    '{ unconfined: [label] }',
    'container.create',
    HC({ SecurityOpt: ['label=disable'] }),
    true,
  ],
  [
    'label type override',
    '{ unconfined: [label] }',
    'container.create',
    HC({ SecurityOpt: ['label=type:spc_t'] }),
    true,
  ],
  [
    'empty MaskedPaths (systempaths=unconfined)',
    '{ unconfined: [systempaths] }',
    'container.create',
    HC({ MaskedPaths: [] }),
    true,
  ],
  [
    'null MaskedPaths (the CLI default)',
    '{ unconfined: any }',
    'container.create',
    HC({ MaskedPaths: null, ReadonlyPaths: null }),
    false,
  ],
  [
    'no-new-privileges',
    '{ unconfined: any }',
    'container.create',
    HC({ SecurityOpt: ['no-new-privileges'] }),
    false,
  ],
  [
    'seccomp unconfined against [apparmor]',
    '{ unconfined: [apparmor] }',
    'container.create',
    HC({ SecurityOpt: ['seccomp=unconfined'] }),
    false,
  ],
  // execUser
  ['exec as root', '{ execUser: [root] }', 'container.exec', { body: { User: 'root', Cmd: ['id'] } }, true],
  [
    'exec as uid 0 with a group',
    '{ execUser: [root] }',
    'container.exec',
    { body: { User: '0:10', Cmd: ['id'] } },
    true,
  ],
  ['exec as the default user', '{ execUser: [root] }', 'container.exec', { body: { Cmd: ['id'] } }, false],
  ['exec as another user', '{ execUser: [root] }', 'container.exec', { body: { User: 'nobody' } }, false],
  [
    'exec as a listed user',
    '{ execUser: [admin] }',
    'container.exec',
    { body: { User: 'admin:admin' } },
    true,
  ],
  // image
  [
    'an image in the list',
    '{ image: [busybox] }',
    'container.create',
    { body: { Image: 'busybox:1.36' } },
    true,
  ],
  [
    'an image outside the list',
    '{ image: [busybox] }',
    'container.create',
    { body: { Image: 'alpine' } },
    false,
  ],
  [
    'an image under a registry glob',
    '{ image: ["registry.example.com/team/**"] }',
    'container.create',
    { body: { Image: 'registry.example.com/team/sub/app:1' } },
    true,
  ],
  [
    'a pull of a listed image',
    '{ image: ["library/*"] }',
    'image.create',
    { query: 'fromImage=busybox&tag=latest' },
    true,
  ],
  [
    'a pull with a second fromImage outside the list',
    '{ image: [busybox] }',
    'image.create',
    { query: 'fromImage=busybox&fromImage=evil/x' },
    false,
  ],
  [
    'an image given by id',
    '{ image: ["**"] }',
    'container.create',
    { body: { Image: `sha256:${'a'.repeat(64)}` } },
    false,
  ],
  // labels
  [
    'a required label present',
    '{ labels: [team] }',
    'container.create',
    { body: { Image: 'x', Labels: { team: 'a' } } },
    true,
  ],
  [
    'a required label missing',
    '{ labels: [team] }',
    'container.create',
    { body: { Image: 'x', Labels: { Team: 'a' } } },
    false,
  ],
  [
    'a label value matching its glob',
    '{ labels: { env: "prod-*" } }',
    'volume.create',
    { body: { Labels: { env: 'prod-eu' } } },
    true,
  ],
  [
    'a label value not matching its glob',
    '{ labels: { env: "prod-*" } }',
    'network.create',
    { body: { Name: 'n', Labels: { env: 'dev' } } },
    false,
  ],
  // query
  ['a query value', '{ query: { force: ["1", "true"] } }', 'container.delete', { query: 'force=1' }, true],
  [
    'a query value in other case of name',
    '{ query: { force: ["1"] } }',
    'container.delete',
    { query: 'Force=1' },
    true,
  ],
  [
    'a query value not listed',
    '{ query: { force: ["1"] } }',
    'container.delete',
    { query: 'force=0' },
    false,
  ],
  ['a query glob', '{ query: { t: ["prod/*"] } }', 'build', { query: 't=prod/app:1' }, true],
];

describe('conditions', () => {
  const cache = new Map<string, ReturnType<typeof denyWhen>>();
  for (const [title, condition, endpoint, request, denied] of CASES) {
    it(`${denied ? 'catches' : 'lets through'} ${title} (${condition} at ${endpoint})`, () => {
      let policy = cache.get(condition);
      if (!policy) {
        policy = denyWhen(condition);
        cache.set(condition, policy);
      }
      const d = policy.decide(input(endpoint, request));
      assert.equal(d.allow, !denied, `${d.rule}: ${d.reason}`);
      assert.equal(d.rule, denied ? 'r/c' : 'r/all');
    });
  }

  it('puts what was found in the reason of a denial', () => {
    const d = denyWhen('{ hostMounts: any }').decide(input('container.create', HC({ Binds: ['/etc:/e'] })));
    assert.equal(d.reason, 'blocked; mounts host path /etc via HostConfig.Binds[0] "/etc:/e"');
  });
});

describe('rule logic', () => {
  const policy = compilePolicy(
    `version: 1
defaultRole: r
roles:
  r:
    allow:
      - id: labelled-creates
        endpoints: [container.create]
        when: { labels: [team] }
      - id: lists
        endpoints: [container.list]
    deny:
      - id: approved-images
        endpoints: [container.create, image.create]
        unless: { image: [busybox, "registry.example.com/**"] }
        reason: only approved images
      - id: privileged-and-host
        endpoints: ['*']
        when: { privileged: true, hostNamespaces: [pid] }
        reason: not both
`,
    't.yaml',
  );

  it('denies by an unless rule when its conditions do not hold, naming what failed', () => {
    const d = policy.decide(input('container.create', { body: { Image: 'alpine', Labels: { team: 'a' } } }));
    assert.equal(d.rule, 'r/approved-images');
    assert.equal(d.reason, 'only approved images; image docker.io/library/alpine is not in the list');
  });

  it('lets an unless rule pass when its conditions hold', () => {
    const d = policy.decide(input('container.create', { body: { Image: 'busybox', Labels: { team: 'a' } } }));
    assert.deepEqual([d.allow, d.rule], [true, 'r/labelled-creates']);
  });

  it('applies a when rule only when all its conditions hold', () => {
    const both = policy.decide(
      input('container.create', {
        body: { Image: 'busybox', HostConfig: { Privileged: true, PidMode: 'host' } },
      }),
    );
    assert.equal(both.rule, 'r/privileged-and-host');
    const one = policy.decide(
      input('container.create', {
        body: { Image: 'busybox', Labels: { team: 'a' }, HostConfig: { Privileged: true } },
      }),
    );
    assert.equal(one.allow, true);
  });

  it('denies by default when no allow rule applies', () => {
    const d = policy.decide(input('container.create', { body: { Image: 'busybox' } }));
    assert.deepEqual([d.allow, d.rule], [false, 'r/default-deny']);
    assert.match(d.reason, /role r has no rule that allows container.create/);
  });

  it('treats a missing body as a match for a deny rule and a miss for an allow rule (fail closed)', () => {
    const noBody = input('container.create');
    const d = policy.decide(noBody);
    assert.equal(d.allow, false);
    assert.equal(d.rule, 'r/approved-images');
    assert.match(d.reason, /the request body was not available/);
    const explained = policy.explain(noBody);
    assert.equal(explained.trace.find((t) => t.rule === 'r/approved-images')?.outcome, 'unknown');
  });

  it('checks a path pattern on the canonical path', () => {
    const p = compilePolicy(
      `version: 1
defaultRole: r
roles:
  r:
    allow:
      - id: web-logs
        methods: [get]
        paths: ['/containers/web-*/logs']
`,
      'p.yaml',
    );
    assert.equal(p.decide(input('container.logs', { path: '/containers/web-1/logs' })).allow, true);
    assert.equal(p.decide(input('container.logs', { path: '/containers/db/logs' })).allow, false);
    assert.equal(p.decide(input('container.inspect', { path: '/containers/web-1/json' })).allow, false);
  });
});

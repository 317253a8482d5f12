import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTES } from '../docker/endpoints/index.js';
import { builtinDecider, builtinRoleOf, readonlyAllows } from './builtin-roles.js';
import type { PolicyIdentity } from './decision.js';
import { input, type RequestSpec } from './test-support.js';

const policy = builtinDecider();
const who = (...ou: string[]): PolicyIdentity => ({ cn: 'c', ou, serial: '01', sans: [] });
const decide = (ou: string[], endpoint: string, spec: RequestSpec = {}) =>
  policy.decide(input(endpoint, { ...spec, identity: who(...ou) }));

describe('built-in roles: which role a certificate gets', () => {
  const cases: [string[], string][] = [
    [['admin'], 'admin'],
    [['operator'], 'operator'],
    [['readonly'], 'readonly'],
    [[], 'readonly'],
    [['ops'], 'readonly'],
    [['Admin'], 'readonly'],
    [['readonly', 'admin'], 'admin'],
    [['operator', 'readonly'], 'operator'],
  ];
  for (const [ou, role] of cases) {
    it(`gives OU [${ou.join(', ')}] the role ${role}`, () => {
      assert.equal(decide(ou, 'container.list').role, role);
      assert.equal(builtinRoleOf(ou), role);
    });
  }

  it('says at start-up that an unknown OU gets readonly', () => {
    assert.match(policy.describe(), /no or an unknown OU gets readonly/);
  });
});

describe('built-in role readonly', () => {
  it('allows exactly the reads that leak nothing', () => {
    for (const e of ROUTES) {
      const d = decide(['readonly'], e.name);
      assert.equal(d.allow, readonlyAllows(e), `${e.name}: ${d.rule}`);
    }
  });

  const denied = [
    'container.archive.get',
    'container.export',
    'container.attach.ws',
    'container.logs',
    'container.inspect',
    'container.exec',
    'exec.start',
    'swarm.inspect',
    'swarm.unlockkey',
    'image.save',
    'container.create',
  ];
  for (const name of denied) {
    it(`denies ${name}, saying which role lacks it`, () => {
      const d = decide([], name);
      assert.deepEqual([d.allow, d.rule], [false, 'readonly/default-deny']);
      assert.equal(d.reason, `role readonly has no rule that allows ${name}`);
    });
  }
});

describe('built-in role operator', () => {
  // `docker run --rm testbox echo ok` and friends, as the CLI sends them.
  const lifecycle = [
    'system.ping',
    'container.create',
    'container.attach',
    'container.wait',
    'container.start',
    'container.delete',
    'container.logs',
    'container.exec',
    'exec.start',
    'exec.inspect',
    'container.archive.get',
    'container.archive.put',
    'image.create',
    'image.load',
    'image.save',
    'image.tag',
    'image.delete',
    'build',
    'session',
    'volume.create',
    'volume.delete',
    'network.create',
    'network.connect',
    'system.auth',
  ];
  const bodies: Record<string, RequestSpec> = {
    'container.create': { body: { Image: 'testbox', Cmd: ['echo', 'ok'], HostConfig: { AutoRemove: true } } },
    'container.exec': { body: { Cmd: ['id'], User: 'root' } },
    'volume.create': { body: { Name: 'data' } },
  };
  for (const name of lifecycle) {
    it(`allows ${name}`, () => {
      const d = decide(['operator'], name, bodies[name]);
      assert.equal(d.allow, true, `${d.rule}: ${d.reason}`);
    });
  }

  const outside = [
    'swarm.init',
    'swarm.inspect',
    'service.create',
    'secret.create',
    'node.update',
    'plugin.pull',
    'grpc',
    'debug.vars',
  ];
  for (const name of outside) {
    it(`denies ${name}, which is outside the lifecycle`, () => {
      // A service spec is read for its tasks' mounts (no-host-mounts): give it a harmless one.
      const d = decide(
        ['operator'],
        name,
        name === 'service.create'
          ? { body: { Name: 's', TaskTemplate: { ContainerSpec: { Image: 'x' } } } }
          : {},
      );
      assert.deepEqual([d.allow, d.rule], [false, 'operator/default-deny']);
    });
  }

  it('is limited to its own objects: --volumes-from is left to the ownership check', () => {
    // The gateway checks that the container named is the client's (src/gateway/ownership).
    const d = decide(['operator'], 'container.create', {
      body: { Image: 'x', HostConfig: { VolumesFrom: ['mine'] } },
    });
    assert.deepEqual([d.allow, d.own], [true, true]);
    assert.equal(decide(['admin'], 'container.inspect').own, undefined);
    assert.equal(decide(['readonly'], 'container.list').own, undefined);
  });

  it('denies checkpoints, which are for admins', () => {
    assert.equal(decide(['operator'], 'container.checkpoint.create').rule, 'operator/no-checkpoints');
  });

  const dangerous: [string, string, RequestSpec, string][] = [
    [
      'docker run --privileged',
      'container.create',
      { body: { Image: 'x', HostConfig: { Privileged: true } } },
      'operator/no-privileged',
    ],
    [
      'docker exec --privileged',
      'container.exec',
      { body: { Cmd: ['sh'], Privileged: true } },
      'operator/no-privileged',
    ],
    [
      '-v /:/host',
      'container.create',
      { body: { Image: 'x', HostConfig: { Binds: ['/:/host'] } } },
      'operator/no-host-mounts',
    ],
    [
      'a bind of any host path, however harmless it looks',
      'container.create',
      { body: { Image: 'x', HostConfig: { Binds: ['/srv/www:/www:ro'] } } },
      'operator/no-host-mounts',
    ],
    [
      'a volume bound to a host path',
      'volume.create',
      { body: { Name: 'v', DriverOpts: { o: 'bind', device: '/etc', type: 'none' } } },
      'operator/no-host-mounts',
    ],
    [
      '--network host',
      'container.create',
      { body: { Image: 'x', HostConfig: { NetworkMode: 'host' } } },
      'operator/no-host-namespaces',
    ],
    ['docker build --network host', 'build', { query: 'networkmode=host' }, 'operator/no-host-namespaces'],
    [
      '--cap-add SYS_ADMIN',
      'container.create',
      { body: { Image: 'x', HostConfig: { CapAdd: ['SYS_ADMIN'] } } },
      'operator/no-extra-capabilities',
    ],
    [
      '--cap-add SYS_PTRACE',
      'container.create',
      { body: { Image: 'x', HostConfig: { CapAdd: ['SYS_PTRACE'] } } },
      'operator/no-extra-capabilities',
    ],
    [
      '--device /dev/sda',
      'container.create',
      { body: { Image: 'x', HostConfig: { Devices: [{ PathOnHost: '/dev/sda' }] } } },
      'operator/no-devices',
    ],
    [
      'docker update with a device',
      'container.update',
      { body: { Devices: [{ PathOnHost: '/dev/sda' }] } },
      'operator/no-devices',
    ],
    [
      '--security-opt seccomp=unconfined',
      'container.create',
      { body: { Image: 'x', HostConfig: { SecurityOpt: ['seccomp=unconfined'] } } },
      'operator/no-unconfined',
    ],
  ];
  for (const [title, name, spec, rule] of dangerous) {
    it(`denies ${title} by ${rule}`, () => {
      const d = decide(['operator'], name, spec);
      assert.deepEqual([d.allow, d.rule], [false, rule]);
    });
  }

  it('writes denial reasons that read well after "Error response from daemon: dockward: denied by"', () => {
    const d = decide(['operator'], 'container.create', {
      body: { Image: 'x', HostConfig: { PidMode: 'host' } },
    });
    assert.equal(
      `dockward: denied by ${d.rule}: ${d.reason}`,
      `dockward: denied by operator/no-host-namespaces: operators may not share the host's namespaces; HostConfig.PidMode is "host"`,
    );
    const caps = decide(['operator'], 'container.create', {
      body: { Image: 'x', HostConfig: { CapAdd: ['ALL', 'CHOWN'] } },
    });
    assert.equal(
      caps.reason,
      "operators may add only capabilities of Docker's default set; adds capability ALL beyond the allowed set",
    );
  });

  it('allows the hardening pattern --cap-drop ALL --cap-add NET_BIND_SERVICE', () => {
    const d = decide(['operator'], 'container.create', {
      body: { Image: 'x', HostConfig: { CapDrop: ['ALL'], CapAdd: ['NET_BIND_SERVICE'] } },
    });
    assert.equal(d.allow, true);
  });

  it('reads the body of exactly the endpoints its rules check, and of container start', () => {
    assert.deepEqual(policy.summary().bodyEndpoints, [
      'container.create',
      'container.exec',
      'container.start',
      'container.update',
      'service.create',
      'service.update',
      'volume.create',
    ]);
  });
});

describe('built-in role admin', () => {
  it('allows every endpoint, privileged or not', () => {
    for (const e of ROUTES) assert.equal(decide(['admin'], e.name).allow, true, e.name);
    const d = decide(['admin'], 'container.create', {
      body: { Image: 'x', HostConfig: { Privileged: true } },
    });
    assert.deepEqual([d.allow, d.rule], [true, 'admin/all']);
  });
});

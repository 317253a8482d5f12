// Swarm mode through the gateway with the docker contexts `dockward hosts` writes: an admin inits a
// single-node swarm on loopback and runs services; a policy role that may run services gets its
// service with a bind mount refused by the gateway (the swarm agent makes the task containers
// inside dockerd, so the service spec is the only place to check); and a daemon with
// live-restore (dockward's baseline profile sets it) refuses swarm init, with dockerd's reason.
//
// Found while building this: --bridge=none (the harness's dockerd) does not stop swarm init,
// services or overlay networks; the routing mesh cannot balance here (the kernel has no ip_vs),
// which no test below needs.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { DOCKER_CLI_28, e2eSkipReason, freeLoopbackPort, runDocker, TEST_IMAGE } from './harness/index.js';
import { ClientLab, LAB_DAEMON_CONFIG } from './support/client-lab.js';

const skip = await e2eSkipReason();

// Each task's container is made from the local test image; without this dockerd first tries to
// pull docker.io/library/testbox (and only logs the failure), and no registry may be reached.
process.env['DOCKER_SERVICE_PREFER_OFFLINE_IMAGE'] = '1';

const POLICY = `version: 1
identities:
  - match: { cn: "host-deployer" }
    role: deployer
  - match: { ou: "admin" }
    role: admin
roles:
  deployer:
    description: runs swarm services, never with host paths
    allow:
      - id: reads
        endpoints: ["@reads"]
      - id: services
        endpoints: ["service.*", "task.*"]
    deny:
      - id: no-host-mounts
        endpoints: [service.create, service.update]
        when: { hostMounts: any }
        reason: deployers may not mount host paths into service tasks
`;

// Swarm's own addresses come from the benchmarking range, never a private LAN's.
const ADDR_POOL = '198.19.0.0/16';

/** A UDP port in 1024-49151 (what dockerd accepts for the VXLAN data path) that nothing holds. */
async function freeDataPathPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free UDP port for the swarm data path');
}

describe('swarm mode through the gateway with `dockward hosts` contexts', { skip }, () => {
  let lab: ClientLab;

  before(async () => {
    lab = await ClientLab.start({ policy: POLICY });
    await lab.addHost('admin', 'admin');
    await lab.addHost('deployer');
  });
  after(async () => {
    // docker_gwbridge is a Linux bridge (and iptables rules) in the machine's namespace that outlives
    // dockerd: remove it through the daemon, once out of the swarm.
    if (lab) {
      await runDocker(['swarm', 'leave', '--force'], { env: lab.dockerd.env });
      await runDocker(['network', 'rm', 'docker_gwbridge'], { env: lab.dockerd.env });
    }
    await lab?.stop();
  });

  /** The CLI 28 with `--context NAME`, and no DOCKER_HOST, as after `dockward hosts context NAME`. */
  const docker = (context: string, args: string) =>
    lab.sh(`"${DOCKER_CLI_28}" --context ${context} ${args}`, { env: { DOCKER_HOST: '' } });
  const ok = async (context: string, args: string) => {
    const r = await docker(context, args);
    assert.equal(r.code, 0, `${context}: docker ${args}: ${r.stderr}`);
    return r.stdout;
  };
  /** Asked on the daemon's own socket, not through the gateway. */
  const daemon = async (...args: string[]) => {
    const r = await runDocker(args, { env: lab.dockerd.env });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  /** Polls (every 300 ms, at most 60 s) until `probe` returns true; fails with the last value. */
  const until = async (what: string, probe: () => Promise<string>, want: (v: string) => boolean) => {
    let last = '';
    for (let i = 0; i < 200; i++) {
      last = await probe();
      if (want(last)) return last;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.fail(`${what}: still ${JSON.stringify(last)}`);
  };
  const replicas = (name: string) => () =>
    daemon('service', 'ls', '--filter', `name=${name}`, '--format', '{{.Name}} {{.Replicas}}');

  it('admin inits a single-node swarm on loopback through its context', async () => {
    const port = await freeLoopbackPort();
    const out = await ok(
      'admin',
      `swarm init --listen-addr 127.0.0.1:${port} --advertise-addr 127.0.0.1:${port} --data-path-port ${await freeDataPathPort()} --default-addr-pool ${ADDR_POOL}`,
    );
    assert.match(out, /Swarm initialized: current node \(\w+\) is now a manager/);
    assert.equal(
      await daemon(
        'info',
        '--format',
        '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeAddr}}',
      ),
      'active true 127.0.0.1',
    );
  });

  it('admin creates a service, sees it in service ls with its task running, and removes it', async () => {
    const id = (
      await ok(
        'admin',
        `service create --detach --no-resolve-image --stop-grace-period 1s --name web ${TEST_IMAGE} sleep 300`,
      )
    ).trim();
    assert.match(id, /^[a-z0-9]{25}$/);
    await until('web running', replicas('web'), (v) => v === 'web 1/1');
    assert.match(
      await ok('admin', "service ls --format '{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}'"),
      /^web replicated 1\/1 testbox:latest$/m,
    );
    assert.match(
      await ok('admin', "service ps web --format '{{.Name}} {{.DesiredState}}'"),
      /^web\.1 Running$/m,
    );
    assert.match(await daemon('ps', '--format', '{{.Names}} {{.Command}}'), /^web\.1\.\w+ "sleep 300"$/m);

    assert.equal(await ok('admin', 'service rm web'), 'web\n');
    await until(
      'web gone',
      () => daemon('ps', '-a', '--filter', 'name=web.1', '--format', '{{.Names}}'),
      (v) => v === '',
    );
    assert.equal(await ok('admin', "service ls --format '{{.Name}}'"), '');
    // The first task made docker_gwbridge (the node's bridge for swarm networks): with addresses
    // from the lab's pool. --bridge=none only drops the default bridge.
    assert.match(
      await daemon(
        'network',
        'inspect',
        'docker_gwbridge',
        '--format',
        '{{range .IPAM.Config}}{{.Subnet}}{{end}}',
      ),
      /^198\.18\.(12[89]|1[3-9]\d|2[0-5]\d)\.0\/24$/,
    );
  });

  it('a policy role that may run services creates one with a named volume, and the gateway refuses a bind mount', async () => {
    const created = await docker(
      'deployer',
      `service create --detach --no-resolve-image --stop-grace-period 1s --name app --mount type=volume,source=appdata,target=/data ${TEST_IMAGE} sleep 300`,
    );
    assert.equal(created.code, 0, created.stderr);
    await until('app running', replicas('app'), (v) => v === 'app 1/1');

    const refused = await docker(
      'deployer',
      `service create --detach --no-resolve-image --name escape --mount type=bind,source=/etc,target=/host-etc ${TEST_IMAGE} sleep 300`,
    );
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /dockward: denied by deployer\/no-host-mounts: deployers may not mount host paths into service tasks; mounts host path \/etc via TaskTemplate\.ContainerSpec\.Mounts\[0\] type=bind/,
    );
    // Adding the mount to the running service is the same request to the policy.
    const update = await docker(
      'deployer',
      'service update --detach --mount-add type=bind,source=/,target=/host app',
    );
    assert.notEqual(update.code, 0);
    assert.match(update.stderr, /dockward: denied by deployer\/no-host-mounts: .*mounts host path \/ via/);
    // The role is about services: the swarm itself stays the admin's.
    const token = await docker('deployer', 'swarm join-token -q worker');
    assert.notEqual(token.code, 0);
    assert.match(token.stderr, /dockward: denied by deployer\/default-deny/);

    assert.equal(await daemon('service', 'ls', '--format', '{{.Name}}'), 'app');
    assert.doesNotMatch(
      await daemon(
        'service',
        'inspect',
        'app',
        '--format',
        '{{json .Spec.TaskTemplate.ContainerSpec.Mounts}}',
      ),
      /bind/,
    );
    const audited = lab
      .auditedRequests()
      .filter((r) => r.identity?.cn === 'host-deployer' && r.decision === 'deny');
    assert.deepEqual(
      audited.map((r) => [r.endpoint, r.rule]),
      [
        ['service.create', 'deployer/no-host-mounts'],
        ['service.update', 'deployer/no-host-mounts'],
        ['swarm.inspect', 'deployer/default-deny'],
      ],
    );
    assert.equal(await ok('deployer', 'service rm app'), 'app\n');
  });

  it('a daemon with live-restore (as the baseline profile sets it) refuses swarm init, and the CLI shows why', async () => {
    assert.match(await ok('admin', 'swarm leave --force'), /Node left the swarm/);
    await lab.dockerd.restart({ config: { ...LAB_DAEMON_CONFIG, 'live-restore': true } });
    assert.equal(await daemon('info', '--format', '{{.LiveRestoreEnabled}}'), 'true');
    const port = await freeLoopbackPort();
    const r = await docker(
      'admin',
      `swarm init --listen-addr 127.0.0.1:${port} --advertise-addr 127.0.0.1:${port} --default-addr-pool ${ADDR_POOL}`,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--live-restore daemon configuration is incompatible with swarm mode/);
    assert.equal(await daemon('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
  });
});

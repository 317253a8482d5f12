// Ownership through the gateway: what an operator creates carries its identity, and the
// built-in operator (own: true) may touch only that. The real docker CLI 28, real dockerd.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildBusyboxImage,
  e2eSkipReason,
  type PrivateDockerd,
  runCommand,
  runDocker,
  startDockerd,
  TEST_IMAGE,
} from './harness/index.js';
import { type GatewayProcess, makePki, type Pki, startGateway } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();
const OWNER = 'io.dockward.owner';
// User-defined networks get a bridge on the host: keep them in the test range (198.18.0.0/15),
// internal, and per run, so two runs do not share a subnet.
const NET_BASE = 100 + (process.pid % 50) * 3;
const subnet = (n: number) => ['--internal', '--subnet', `198.19.${NET_BASE + n}.0/24`];

describe('ownership: an operator may touch only its own containers and volumes', { skip }, () => {
  let dockerd: PrivateDockerd;
  let gw: GatewayProcess;
  let pki: Pki;
  const work = mkdtempSync(join(tmpdir(), 'dw-e2e-own-'));

  before(async () => {
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    pki = await makePki({ boss: 'admin', op: 'operator', op2: 'operator' });
    gw = await startGateway(dockerd, pki);
    writeFileSync(join(work, 'payload.txt'), 'from the operator\n');
    // admin's container and volume, made through the gateway (admin's creations keep no label)
    await ok('boss', ['run', '-d', '--name', 'admbox', TEST_IMAGE, 'sleep', '600']);
    await ok('boss', ['volume', 'create', 'adminvol']);
    await ok('boss', ['network', 'create', ...subnet(1), 'admnet']);
    // the operator's own
    await ok('op', ['run', '-d', '--name', 'opbox', TEST_IMAGE, 'sleep', '600']);
    await ok('op', ['volume', 'create', 'opvol']);
  });
  after(async () => {
    await gw?.stop();
    await dockerd?.cleanup();
    pki?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const as = (who: string, args: string[]) => runDocker(args, { env: gw.envFor(who) });
  async function ok(who: string, args: string[]): Promise<string> {
    const r = await as(who, args);
    assert.equal(r.code, 0, `${who}: docker ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }
  async function refused(who: string, args: string[], what: RegExp): Promise<string> {
    const r = await as(who, args);
    assert.notEqual(r.code, 0, `${who}: docker ${args.join(' ')} should be refused: ${r.stdout}`);
    assert.match(r.stderr, what, `${who}: docker ${args.join(' ')}`);
    return r.stderr;
  }
  const notAdmbox = /container admbox( \(named in [^)]+\))? belongs to another identity/;

  it('labels what the operator creates with its CN, overwriting a label it sends', async () => {
    const fmt = `{{index .Config.Labels "${OWNER}"}}`;
    assert.equal(await ok('boss', ['inspect', '--format', fmt, 'opbox']), 'op\n');
    assert.equal(
      await ok('boss', ['volume', 'inspect', '--format', `{{index .Labels "${OWNER}"}}`, 'opvol']),
      'op\n',
    );
    await ok('op', ['run', '-d', '--name', 'sneaky', '--label', `${OWNER}=boss`, TEST_IMAGE, 'sleep', '600']);
    assert.equal(await ok('boss', ['inspect', '--format', fmt, 'sneaky']), 'op\n');
    await ok('op', ['network', 'create', ...subnet(0), 'opnet']);
    assert.equal(
      await ok('boss', ['network', 'inspect', '--format', `{{index .Labels "${OWNER}"}}`, 'opnet']),
      'op\n',
    );
    assert.equal(await ok('boss', ['inspect', '--format', fmt, 'admbox']), '\n');
  });

  it("cannot inspect, cp to or from, exec into or restart admin's container", async () => {
    await refused('op', ['inspect', 'admbox'], notAdmbox);
    await refused('op', ['cp', join(work, 'payload.txt'), 'admbox:/payload.txt'], notAdmbox);
    await refused('op', ['cp', 'admbox:/etc/hostname', join(work, 'stolen')], notAdmbox);
    await refused('op', ['exec', 'admbox', 'true'], notAdmbox);
    await refused('op', ['restart', 'admbox'], notAdmbox);
    await refused('op', ['logs', 'admbox'], notAdmbox);
    await refused('op', ['rm', '-f', 'admbox'], notAdmbox);
    await refused('op', ['network', 'connect', 'opnet', 'admbox'], notAdmbox);
    assert.equal(await ok('boss', ['inspect', '--format', '{{.State.Running}}', 'admbox']), 'true\n');
  });

  it("cannot join admin's container or use its volumes", async () => {
    await refused('op', ['run', '--rm', '--pid', 'container:admbox', TEST_IMAGE, 'true'], notAdmbox);
    await refused('op', ['run', '--rm', '--ipc', 'container:admbox', TEST_IMAGE, 'true'], notAdmbox);
    await refused('op', ['run', '--rm', '--network', 'container:admbox', TEST_IMAGE, 'true'], notAdmbox);
    await refused('op', ['run', '--rm', '--volumes-from', 'admbox', TEST_IMAGE, 'true'], notAdmbox);
    const vol = /volume adminvol \(named in HostConfig\.(Binds|Mounts)\) belongs to another identity/;
    await refused('op', ['run', '--rm', '-v', 'adminvol:/x', TEST_IMAGE, 'true'], vol);
    await refused(
      'op',
      ['run', '--rm', '--mount', 'type=volume,src=adminvol,dst=/x', TEST_IMAGE, 'true'],
      vol,
    );
    await refused('op', ['volume', 'inspect', 'adminvol'], /volume adminvol belongs to another identity/);
    await refused('op', ['volume', 'rm', 'adminvol'], /volume adminvol belongs to another identity/);
  });

  const notAdmnet = (via?: string) =>
    new RegExp(
      `network admnet${via ? ` \\(named in ${via.replace(/\./g, '\\.')}\\)` : ''} belongs to another identity`,
    );

  it("cannot run on, connect to, inspect or remove admin's network", async () => {
    await refused(
      'op',
      ['run', '--rm', '--network', 'admnet', TEST_IMAGE, 'true'],
      notAdmnet('HostConfig.NetworkMode'),
    );
    // the CLI sends the first network as NetworkMode, every one in EndpointsConfig (this dockerd
    // would refuse two at create anyway; the gateway refuses first, naming the network)
    await refused(
      'op',
      ['run', '--rm', '--network', 'opnet', '--network', 'admnet', TEST_IMAGE, 'true'],
      notAdmnet('NetworkingConfig.EndpointsConfig'),
    );
    await refused('op', ['network', 'inspect', 'admnet'], notAdmnet());
    await refused('op', ['network', 'connect', 'admnet', 'opbox'], notAdmnet());
    await refused('op', ['network', 'disconnect', 'admnet', 'opbox'], notAdmnet());
    await refused('op', ['network', 'rm', 'admnet'], notAdmnet());
    const id = (await ok('boss', ['network', 'inspect', '--format', '{{.Id}}', 'admnet'])).trim();
    await refused(
      'op',
      ['network', 'inspect', id.slice(0, 12)],
      new RegExp(`network ${id.slice(0, 12)} belongs to another identity`),
    );
    const nets = (await ok('op', ['network', 'ls', '--format', '{{.Name}}'])).split('\n');
    assert.ok(!nets.includes('admnet'), nets.join(','));
    assert.equal(await ok('boss', ['network', 'inspect', '--format', '{{.Name}}', 'admnet']), 'admnet\n');
  });

  it("a raw create body naming admin's network (or host) only in EndpointsConfig is refused", async () => {
    const dir = pki.issuedDir('op');
    const create = async (name: string, body: unknown) => {
      const r = await runCommand('curl', [
        '-sS',
        '--max-time',
        '30',
        '--cacert',
        join(dir, 'ca.pem'),
        '--cert',
        join(dir, 'cert.pem'),
        '--key',
        join(dir, 'key.pem'),
        '-H',
        'content-type: application/json',
        '-d',
        JSON.stringify(body),
        '--resolve',
        `localhost:${gw.port}:127.0.0.1`,
        '-w',
        '\n%{http_code}',
        `https://localhost:${gw.port}/v1.41/containers/create?name=${name}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const at = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(at + 1)), body: r.stdout.slice(0, at) };
    };
    const viaEndpoints = await create('raw-admnet', {
      Image: TEST_IMAGE,
      HostConfig: { NetworkMode: 'default' },
      NetworkingConfig: { EndpointsConfig: { admnet: {} } },
    });
    assert.equal(viaEndpoints.status, 403, viaEndpoints.body);
    assert.match(viaEndpoints.body, notAdmnet('NetworkingConfig.EndpointsConfig'));
    const host = await create('raw-host', {
      Image: TEST_IMAGE,
      NetworkingConfig: { EndpointsConfig: { host: {} } },
    });
    assert.equal(host.status, 403, host.body);
    assert.match(
      host.body,
      /network host \(named in NetworkingConfig\.EndpointsConfig\) belongs to another identity/,
    );
    await refused(
      'op',
      ['run', '--rm', '--network', 'host', TEST_IMAGE, 'true'],
      /operator\/no-host-namespaces/,
    );
  });

  it("keeps dockerd's own none network usable, and its own networks fully", async () => {
    await ok('op', ['network', 'inspect', 'none']);
    assert.equal(
      await ok('op', ['run', '--rm', '--network', 'none', TEST_IMAGE, 'echo', 'none-ok']),
      'none-ok\n',
    );
    await ok('op', ['network', 'create', ...subnet(2), 'opnet2']);
    assert.match(
      await ok('op', ['run', '--rm', '--network', 'opnet2', TEST_IMAGE, 'sh', '-c', 'ip -4 addr show eth0']),
      new RegExp(`inet 198\\.19\\.${NET_BASE + 2}\\.`),
    );
    await ok('op', ['network', 'connect', 'opnet2', 'opbox']);
    await ok('op', ['network', 'disconnect', 'opnet2', 'opbox']);
    await ok('op', ['network', 'inspect', 'opnet2']);
    await ok('op', ['network', 'rm', 'opnet2']);
    await refused('op2', ['network', 'inspect', 'opnet'], /network opnet belongs to another identity/);
  });

  it('can do all of that to its own container and volume', async () => {
    assert.equal(await ok('op', ['inspect', '--format', '{{.Name}}', 'opbox']), '/opbox\n');
    await ok('op', ['cp', join(work, 'payload.txt'), 'opbox:/payload.txt']);
    await ok('op', ['cp', 'opbox:/payload.txt', join(work, 'back.txt')]);
    assert.equal(readFileSync(join(work, 'back.txt'), 'utf8'), 'from the operator\n');
    assert.equal(await ok('op', ['exec', 'opbox', 'cat', '/payload.txt']), 'from the operator\n');
    await ok('op', ['restart', '-t', '1', 'opbox']);
    await ok('op', ['logs', 'opbox']);
    assert.equal(
      await ok('op', [
        'run',
        '--rm',
        '--pid',
        'container:opbox',
        TEST_IMAGE,
        'sh',
        '-c',
        // the operator's sleep is visible: the pid namespace is shared
        'ps | grep -q "[s]leep 600" && echo shared',
      ]),
      'shared\n',
    );
    await ok('op', ['run', '--rm', '--volumes-from', 'opbox', TEST_IMAGE, 'true']);
    await ok('op', ['run', '--rm', '-v', 'opvol:/x', TEST_IMAGE, 'sh', '-c', 'echo kept > /x/f']);
    assert.equal(
      await ok('op', ['run', '--rm', '--mount', 'type=volume,src=opvol,dst=/x', TEST_IMAGE, 'cat', '/x/f']),
      'kept\n',
    );
    await ok('op', ['volume', 'inspect', 'opvol']);
  });

  it('creates a named volume a run mounts for the first time as the operator', async () => {
    await ok('op', ['run', '--rm', '-v', 'fresh:/x', TEST_IMAGE, 'sh', '-c', 'echo 1 > /x/f']);
    assert.equal(
      await ok('boss', ['volume', 'inspect', '--format', `{{index .Labels "${OWNER}"}}`, 'fresh']),
      'op\n',
    );
    assert.equal(await ok('op', ['run', '--rm', '-v', 'fresh:/x', TEST_IMAGE, 'cat', '/x/f']), '1\n');
  });

  it("another operator cannot touch the first one's container", async () => {
    await refused('op2', ['exec', 'opbox', 'true'], /container opbox belongs to another identity/);
    await refused('op2', ['run', '--rm', '--volumes-from', 'opbox', TEST_IMAGE, 'true'], /container opbox/);
  });

  it('lists only its own containers and volumes; admin sees all', async () => {
    const mine = (await ok('op', ['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean);
    assert.ok(mine.includes('opbox') && !mine.includes('admbox'), mine.join(','));
    const vols = (await ok('op', ['volume', 'ls', '--format', '{{.Name}}'])).split('\n').filter(Boolean);
    assert.ok(vols.includes('opvol') && !vols.includes('adminvol'), vols.join(','));
    const all = (await ok('boss', ['ps', '-a', '--format', '{{.Names}}'])).split('\n');
    assert.ok(all.includes('opbox') && all.includes('admbox'));
    // a filter of its own cannot widen the list
    const sneaky = await ok('op', ['ps', '-a', '--filter', `label=${OWNER}`, '--format', '{{.Names}}']);
    assert.ok(!sneaky.includes('admbox'));
  });

  it('follows dockerd events: a name that changes hands is refused at once', async () => {
    await ok('op', ['run', '-d', '--name', 'handover', TEST_IMAGE, 'sleep', '600']);
    await ok('op', ['exec', 'handover', 'true']); // looked up, cached
    await ok('boss', ['rm', '-f', 'handover']);
    await ok('boss', ['run', '-d', '--name', 'handover', TEST_IMAGE, 'sleep', '600']);
    await refused('op', ['exec', 'handover', 'true'], /container handover belongs to another identity/);
  });

  it('labels the images it builds; another operator cannot remove, retag or push over them', async () => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo built > /built\n`);
    const build = await runDocker(['build', '-q', '-t', 'opimg:1', '--label', `${OWNER}=boss`, ctx], {
      env: gw.envFor('op', { DOCKER_BUILDKIT: '0' }),
    });
    assert.equal(build.code, 0, build.stderr);
    const fmt = `{{index .Config.Labels "${OWNER}"}}`;
    assert.equal(await ok('boss', ['image', 'inspect', '--format', fmt, 'opimg:1']), 'op\n');
    const notOps = /image opimg:1 belongs to another identity/;
    await refused('op2', ['rmi', 'opimg:1'], notOps);
    await refused('op2', ['tag', 'opimg:1', 'mine:1'], notOps);
    // op2 cannot move op's name onto an image of its own either
    await refused(
      'op2',
      ['tag', TEST_IMAGE, 'opimg:1'],
      /image (docker.io\/library\/)?opimg:1 \(named in query repo\) belongs to another identity/,
    );
    await ok('op', ['tag', 'opimg:1', 'opimg:2']);
    await ok('op', ['rmi', 'opimg:2']);
    // a pulled (unlabelled) image is shared: the policy alone decides
    await ok('op2', ['tag', TEST_IMAGE, 'shared:1']);
  });

  it('records each refusal in the audit log like other denials', () => {
    const denials = gw
      .decisions()
      .filter((r) => r.decision === 'deny' && r.rule === 'operator/own' && r.identity?.cn === 'op');
    assert.ok(denials.length >= 10, `${denials.length} own denials recorded`);
    const seen = denials.map((r) => `${r.endpoint}: ${r.reason}`).join('\n');
    // `docker cp` asks HEAD .../archive first (stat), refused before any PUT or GET is sent
    assert.match(seen, /container\.archive\.head: container admbox belongs to another identity/);
    assert.match(seen, /container\.restart: container admbox belongs to another identity/);
    assert.match(seen, /container\.create: container admbox \(named in HostConfig\.PidMode\)/);
  });
});

// Debian's Python clients through the gateway with what `dockward hosts` writes: docker-compose
// 1.29, the Docker SDK for Python (python3-docker 5.0) and Ansible's community.docker modules.
// All of them run on Debian's /usr/bin/python3, so a pip-installed SDK elsewhere cannot stand in.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER_CLI_28, e2eSkipReason, runDocker, TEST_IMAGE } from './harness/index.js';
import { ClientLab, DEBIAN_PYTHON } from './support/client-lab.js';

const skip = await e2eSkipReason();

// network_mode none: the private dockerd runs with --bridge=none, and nothing here needs a network.
const COMPOSE_FILE = `version: "2.4"
services:
  web:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo web is up; sleep 300"]
    network_mode: none
    labels:
      dw.test: compose
  worker:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo worker $$((6*7)); sleep 300"]
    network_mode: none
`;

const SDK_SCRIPT = `
import json, sys, docker
client = docker.from_env()
out = {"sdk": docker.__version__, "api": client.version()["ApiVersion"]}
out["run"] = client.containers.run("${TEST_IMAGE}", ["echo", "from the sdk"], remove=True).decode()
c = client.containers.run("${TEST_IMAGE}", ["sh", "-c", "echo sdk-bg; sleep 60"], detach=True, name="sdk-bg", network_mode="none")
c.reload()
out["status"] = c.status
code, output = c.exec_run(["sh", "-c", "echo exec $((6*7))"])
out["exec"] = [code, output.decode()]
out["logs"] = c.logs().decode()
c.remove(force=True)
out["left"] = [x.name for x in client.containers.list(all=True, filters={"name": "sdk-bg"})]
print(json.dumps(out))
`;

const SDK_DENIED = `
import docker
try:
    docker.from_env().containers.create("${TEST_IMAGE}", ["true"])
    print("created")
except docker.errors.APIError as e:
    print(e.response.status_code, e.explanation)
`;

const PLAYBOOK = `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: start a container
      community.docker.docker_container:
        name: ansible-web
        image: ${TEST_IMAGE}
        command: ["sh", "-c", "echo from ansible; sleep 300"]
        network_mode: none
        labels:
          dw.test: ansible
        state: started
      register: created
    - name: read it back
      community.docker.docker_container_info:
        name: ansible-web
      register: info
    - name: read the image
      community.docker.docker_image_info:
        name: ${TEST_IMAGE}
      register: image
    - name: start it again (idempotent)
      community.docker.docker_container:
        name: ansible-web
        image: ${TEST_IMAGE}
        command: ["sh", "-c", "echo from ansible; sleep 300"]
        network_mode: none
        labels:
          dw.test: ansible
        state: started
      register: again
    - name: report
      ansible.builtin.debug:
        msg:
          created: "{{ created.changed }}"
          again: "{{ again.changed }}"
          running: "{{ info.container.State.Running }}"
          label: "{{ info.container.Config.Labels['dw.test'] }}"
          image_tags: "{{ image.images[0].RepoTags }}"
    - name: remove it
      community.docker.docker_container:
        name: ansible-web
        state: absent
        force_kill: true
`;

const PLAYBOOK_DENIED = `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - community.docker.docker_container:
        name: ansible-denied
        image: ${TEST_IMAGE}
        network_mode: none
        state: started
`;

interface PlayResult {
  plays: { tasks: { task: { name: string }; hosts: { localhost: Record<string, unknown> } }[] }[];
  stats: { localhost: { failures: number; ok: number } };
}

describe("Debian's Python clients through the gateway with what `dockward hosts` writes", { skip }, () => {
  let lab: ClientLab;
  let dir: string;
  // What bash has after `eval "$(dockward hosts env NAME)"`, evaluated once per host: a dockward
  // start per client command would only add time.
  let labVars: Record<string, string>;
  let viewerVars: Record<string, string>;

  before(async () => {
    lab = await ClientLab.start();
    await lab.addHost('lab', 'admin');
    await lab.addHost('viewer', 'readonly');
    labVars = await lab.hostEnv('lab');
    viewerVars = await lab.hostEnv('viewer');
    dir = join(lab.work, 'files');
    mkdirSync(dir);
    writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE_FILE);
    writeFileSync(join(dir, 'sdk.py'), SDK_SCRIPT);
    writeFileSync(join(dir, 'sdk-denied.py'), SDK_DENIED);
    writeFileSync(join(dir, 'play.yml'), PLAYBOOK);
    writeFileSync(join(dir, 'play-denied.yml'), PLAYBOOK_DENIED);
  });
  after(async () => {
    await lab?.stop();
  });

  /** What the daemon itself holds, asked over its socket (not through the gateway). */
  const daemonPs = async (filter: string) => {
    const r = await runDocker(['ps', '-a', '--filter', filter, '--format', '{{.Names}} {{.State}}'], {
      env: lab.dockerd.env,
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').filter(Boolean).sort();
  };

  it('docker-compose 1.29: up -d, ps, logs and down through the hosts env, ps through the hosts context', async () => {
    const compose = (args: string, how: { env: NodeJS.ProcessEnv }) =>
      lab.sh(`docker-compose -p dwc ${args}`, { ...how, cwd: dir });
    const viaEnv = { env: labVars };
    const version = await compose('version --short', viaEnv);
    assert.match(version.stdout, /^1\.29\./);

    const up = await compose('up -d', viaEnv);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Creating dwc_web_1 .*done/);
    assert.deepEqual(await daemonPs('label=com.docker.compose.project=dwc'), [
      'dwc_web_1 running',
      'dwc_worker_1 running',
    ]);

    const ps = await compose('ps', viaEnv);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^dwc_web_1\s.*\bUp\b/m);
    assert.match(ps.stdout, /^dwc_worker_1\s.*\bUp\b/m);
    // The context `dockward hosts context` wrote, with no DOCKER_HOST at all. docker-py finds contexts
    // next to $DOCKER_CONFIG/config.json only when that file exists ("Context 'lab' not found"
    // otherwise); `docker context use` writes it, as a user picking the context does.
    const noHost = { env: { DOCKER_HOST: '' } };
    const missing = await compose('--context lab ps --services', noHost);
    assert.match(missing.stderr, /Context 'lab' not found/);
    const use = await lab.sh(`"${DOCKER_CLI_28}" context use lab`, noHost);
    assert.equal(use.code, 0, use.stderr);
    for (const how of ['--context lab ', '']) {
      const psCtx = await compose(`${how}ps --services`, noHost);
      assert.equal(psCtx.code, 0, psCtx.stderr);
      assert.deepEqual(psCtx.stdout.trim().split('\n').sort(), ['web', 'worker']);
    }
    assert.equal((await lab.sh(`"${DOCKER_CLI_28}" context use default`, noHost)).code, 0);

    const logs = await compose('logs --no-color', viaEnv);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /web_1\s+\| web is up/);
    assert.match(logs.stdout, /worker_1\s+\| worker 42/);

    const down = await compose('down -t 1', viaEnv);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /Removing dwc_web_1 .*done/);
    assert.deepEqual(await daemonPs('label=com.docker.compose.project=dwc'), []);
  });

  it("docker-compose shows the gateway's denial for a readonly host and creates nothing", async () => {
    const up = await lab.sh('docker-compose -p dwd up -d', { env: viewerVars, cwd: dir });
    assert.notEqual(up.code, 0);
    assert.match(up.stderr, /dockward: denied by readonly\/default-deny/);
    assert.deepEqual(await daemonPs('label=com.docker.compose.project=dwd'), []);
  });

  it('the Python SDK 5.0 from docker.from_env(): run, detached run, exec_run, logs and remove', async () => {
    const r = await lab.sh(`"${DEBIAN_PYTHON}" sdk.py`, { env: labVars, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.match(String(out['sdk']), /^5\.0\./);
    assert.match(String(out['api']), /^1\.\d+$/);
    assert.equal(out['run'], 'from the sdk\n');
    assert.equal(out['status'], 'running');
    assert.deepEqual(out['exec'], [0, 'exec 42\n']);
    assert.equal(out['logs'], 'sdk-bg\n');
    assert.deepEqual(out['left'], []);
  });

  it('the Python SDK fails verification when REQUESTS_CA_BUNDLE replaces the CA of DOCKER_CERT_PATH', async () => {
    // requests' merge_environment_settings puts REQUESTS_CA_BUNDLE over the session's CA file that
    // docker-py set from DOCKER_CERT_PATH: a system bundle there cannot verify the gateway.
    const r = await lab.sh(`"${DEBIAN_PYTHON}" sdk.py`, {
      cwd: dir,
      env: { ...labVars, REQUESTS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' },
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CERTIFICATE_VERIFY_FAILED/);
  });

  it("the Python SDK gets the gateway's 403 and message for a readonly host", async () => {
    const r = await lab.sh(`"${DEBIAN_PYTHON}" sdk-denied.py`, { env: viewerVars, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^403 dockward: denied by readonly\/default-deny/);
  });

  const play = async (file: string, vars: Record<string, string>) => {
    const tmp = join(lab.work, 'ansible-tmp');
    const r = await lab.sh(`ansible-playbook -i localhost, ${file}`, {
      cwd: dir,
      env: {
        ...vars,
        ANSIBLE_STDOUT_CALLBACK: 'json',
        ANSIBLE_LOCAL_TEMP: tmp,
        ANSIBLE_REMOTE_TEMP: tmp,
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_LOCALHOST_WARNING: 'false',
        ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
      },
      timeoutMs: 180_000,
    });
    return { ...r, json: JSON.parse(r.stdout) as PlayResult };
  };
  const taskResult = (res: PlayResult, name: string) =>
    res.plays[0]?.tasks.find((t) => t.task.name === name)?.hosts.localhost;

  it('an Ansible playbook with community.docker: docker_container, docker_container_info and docker_image_info', async () => {
    const r = await play('play.yml', labVars);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.stats.localhost.failures, 0);
    const msg = taskResult(r.json, 'report')?.['msg'] as Record<string, unknown>;
    assert.deepEqual(msg, {
      created: true,
      again: false,
      running: true,
      label: 'ansible',
      image_tags: [TEST_IMAGE],
    });
    assert.deepEqual(await daemonPs('name=ansible-web'), []);
  });

  it("an Ansible task fails with the gateway's message for a readonly host", async () => {
    const r = await play('play-denied.yml', viewerVars);
    assert.equal(r.code, 2, r.stderr);
    const [task] = r.json.plays[0]?.tasks ?? [];
    assert.equal(task?.hosts.localhost['failed'], true);
    assert.match(String(task?.hosts.localhost['msg']), /dockward: denied by readonly\/default-deny/);
    assert.deepEqual(await daemonPs('name=ansible-denied'), []);
  });

  // Last: it reads what the tests above sent.
  it("recorded every client's requests in the gateway's audit log under the host's certificate, by user agent", () => {
    const audited = lab.auditedRequests();
    for (const ua of [
      /^docker-compose\/1\.29\./,
      /^docker-sdk-python\/5\.0\./,
      /^ansible-community\.docker$/,
    ]) {
      const mine = audited.filter((r) => ua.test(r.userAgent ?? ''));
      assert.ok(
        mine.some(
          (r) => r.endpoint === 'container.create' && r.decision === 'allow' && r.identity?.cn === 'host-lab',
        ),
        `${ua} not among ${[...new Set(audited.map((r) => r.userAgent))].join(', ')}`,
      );
      assert.ok(
        mine.some(
          (r) =>
            r.endpoint === 'container.create' &&
            r.decision === 'deny' &&
            r.identity?.cn === 'host-viewer' &&
            r.rule === 'readonly/default-deny',
        ),
        String(ua),
      );
    }
  });
});

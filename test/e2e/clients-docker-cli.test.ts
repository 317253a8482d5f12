// The docker CLI 28 and Debian's 20.10 CLI (/usr/bin/docker from docker.io) through the gateway,
// each reaching it both ways `dockward hosts` offers: the docker context it writes and the
// variables `eval "$(dockward hosts env NAME)"` exports. gateway-docker.test.ts covers the breadth
// of commands; this suite proves the hosts-written connection carries a representative set.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER_CLI_20, DOCKER_CLI_28, e2eSkipReason, TEST_IMAGE } from './harness/index.js';
import { ClientLab } from './support/client-lab.js';

const skip = await e2eSkipReason();

const CLIS = [
  { label: 'CLI 28', path: DOCKER_CLI_28, version: /^28\./ },
  { label: 'CLI 20.10', path: DOCKER_CLI_20, version: /^20\.10\./ },
] as const;
const WAYS = ['context', 'env'] as const;

describe('the docker CLIs through the gateway with what `dockward hosts` writes', { skip }, () => {
  let lab: ClientLab;

  before(async () => {
    lab = await ClientLab.start();
    await lab.addHost('lab', 'admin');
    await lab.addHost('viewer', 'readonly');
  });
  after(async () => {
    await lab?.stop();
  });

  it('prints bash lines for the gateway endpoint and the host certificate folder with `hosts env`', async () => {
    const r = await lab.dw(['hosts', 'env', 'lab']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`DOCKER_HOST=["']?tcp://127\\.0\\.0\\.1:${lab.port}\\b`));
    assert.match(r.stdout, /DOCKER_TLS_VERIFY=["']?1/);
    const env = await lab.hostEnv('lab');
    assert.equal(env['DOCKER_HOST'], `tcp://127.0.0.1:${lab.port}`);
    assert.ok(env['DOCKER_CERT_PATH']?.startsWith(lab.home), env['DOCKER_CERT_PATH']);
  });

  for (const cli of CLIS) {
    for (const way of WAYS) {
      it(`${cli.label} through the ${way === 'context' ? 'hosts context' : 'hosts env'}: run, exec, logs, build, save and load`, async () => {
        const tag = `${cli.label.replace(/\W/g, '').toLowerCase()}-${way}`;
        // `--context lab` on each command, or the variables bash has after `eval "$(dockward hosts env lab)"`
        // (evaluated once: a dockward start per command would only add time).
        const hostVars = way === 'env' ? await lab.hostEnv('lab') : undefined;
        const docker = async (args: string, opts: { env?: NodeJS.ProcessEnv } = {}) => {
          const line = way === 'context' ? `"${cli.path}" --context lab ${args}` : `"${cli.path}" ${args}`;
          const r = await lab.sh(line, { env: { ...(hostVars ?? { DOCKER_HOST: '' }), ...opts.env } });
          assert.equal(r.code, 0, `${line}: ${r.stderr}`);
          return r.stdout;
        };
        assert.match(await docker("version --format '{{.Client.Version}}'"), cli.version);

        assert.equal(await docker(`run --rm ${TEST_IMAGE} echo hello-${tag}`), `hello-${tag}\n`);

        const id = (
          await docker(`run -d --name ${tag} ${TEST_IMAGE} sh -c 'echo started-${tag}; sleep 60'`)
        ).trim();
        assert.match(id, /^[0-9a-f]{64}$/);
        assert.equal(await docker(`exec ${tag} sh -c 'echo exec-$((6*7))'`), 'exec-42\n');
        // busybox sh execs its last command: PID 1 is the sleep, seen from inside by the exec.
        assert.equal(await docker(`exec ${tag} cat /proc/1/cmdline`), 'sleep\u000060\u0000');
        assert.equal(await docker(`logs ${tag}`), `started-${tag}\n`);
        assert.equal(await docker(`inspect --format '{{.State.Status}}' ${tag}`), 'running\n');
        await docker(`rm -f ${tag}`);

        const ctx = join(lab.work, `build-${tag}`);
        mkdirSync(ctx);
        writeFileSync(
          join(ctx, 'Dockerfile'),
          `FROM ${TEST_IMAGE}\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n`,
        );
        writeFileSync(join(ctx, 'msg.txt'), `built-by-${tag}\n`);
        // The classic builder: the CLI 28 here has no buildx plugin, and BuildKit's /grpc is covered in gateway-docker.
        await docker(`build -q -t built-${tag}:1 "${ctx}"`, { env: { DOCKER_BUILDKIT: '0' } });
        assert.equal(await docker(`run --rm built-${tag}:1`), `built-by-${tag}\n`);

        const tar = join(lab.work, `${tag}.tar`);
        await docker(`save -o "${tar}" built-${tag}:1`);
        await docker(`rmi built-${tag}:1`);
        assert.equal(await docker(`images -q built-${tag}:1`), '');
        assert.match(await docker(`load -i "${tar}"`), new RegExp(`Loaded image: built-${tag}:1`));
        assert.equal(await docker(`run --rm built-${tag}:1`), `built-by-${tag}\n`);

        // The gateway saw this CLI's requests under host-lab's certificate.
        const ua = `Docker-Client/${(await docker("version --format '{{.Client.Version}}'")).trim()} `;
        const mine = lab.auditedRequests().filter((r) => r.userAgent?.startsWith(ua));
        for (const ep of [
          /^container\.create$/,
          /^exec\.start$/,
          /^container\.logs$/,
          /^build$/,
          /^image\.save/,
          /^image\.load$/,
        ]) {
          assert.ok(
            mine.some(
              (r) => ep.test(r.endpoint ?? '') && r.identity?.cn === 'host-lab' && r.decision === 'allow',
            ),
            `${ua}${ep}`,
          );
        }
      });
    }

    it(`${cli.label} prints the gateway's denial for a readonly host, through its context`, async () => {
      const r = await lab.sh(`"${cli.path}" --context viewer run --rm ${TEST_IMAGE} true`, {
        env: { DOCKER_HOST: '' },
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /dockward: denied by readonly\/default-deny/);
      const ps = await lab.sh(`"${cli.path}" --context viewer ps -a --format '{{.Names}}'`, {
        env: { DOCKER_HOST: '' },
      });
      assert.equal(ps.code, 0, ps.stderr);
    });
  }
});

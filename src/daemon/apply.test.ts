// `daemon apply` in systemd mode over a fixture unit tree. systemd cannot run on these machines, so
// systemctl, journalctl and dockerd --version/--validate are a scripted stand-in (ProgramRunner),
// and a small HTTP server on a unix socket plays the restarted dockerd's API. The process mode
// runs for real in test/e2e/daemon-apply.test.ts.
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockwardError } from '../errors.js';
import { applyDaemonConfig, verifyInfo } from './apply.js';
import { readDockerService } from './systemd-io.js';
import type { ProgramResult, ProgramRunner } from './systemd-io.js';
import { dockerdCommandLine } from './systemd-unit.js';

const FIXTURES = new URL('../../test/fixtures/daemon/', import.meta.url).pathname;

/**
 * A scripted systemd host: records every program run; `startCodes` are the successive exit codes
 * of `systemctl start docker.service`. docker.socket is installed (LoadState=loaded).
 */
function fakeHost(startCodes: number[], journal: string): { run: ProgramRunner; calls: string[] } {
  const calls: string[] = [];
  const ok = (stdout = ''): ProgramResult => ({ code: 0, stdout, stderr: '' });
  const run: ProgramRunner = async (program, args) => {
    const line = [program, ...args].join(' ');
    calls.push(line);
    if (args[0] === '--version') return ok('Docker version 28.1.1, build 4eba377\n');
    if (args[0] === '--validate') return ok('configuration OK\n');
    if (program === 'systemctl' && args[0] === 'start' && args[1] === 'docker.service') {
      const code = startCodes.shift() ?? 0;
      return { code, stdout: '', stderr: code === 0 ? '' : 'Job for docker.service failed.\n' };
    }
    if (program === 'systemctl' && line === 'systemctl show --property=LoadState --value docker.socket')
      return ok('loaded\n');
    if (program === 'systemctl' && line === 'systemctl show --property=MainPID --value docker.service')
      return ok('4242\n');
    if (program === 'systemctl') return ok();
    if (program === 'journalctl') return ok(journal);
    return { code: null, stdout: '', stderr: `${program}: not scripted` };
  };
  return { run, calls };
}

/**
 * What a systemd restart runs: the service stops, docker.socket is restarted (a dockerd without
 * fd:// removed its socket file) and the service starts.
 */
const RESTART_SEQUENCE = [
  'reset-failed docker.service',
  'stop docker.service',
  'show LoadState docker.socket',
  'restart docker.socket',
  'start docker.service',
];

/** `systemctl VERB [PROPERTY] UNIT`, compactly. */
function systemctlCalls(calls: readonly string[]): string[] {
  return calls
    .filter((c) => c.startsWith('systemctl '))
    .map((c) => c.replace(/^systemctl /, '').replace(/--property=(\w+) --value /, '$1 '));
}

describe('daemon apply with systemd (scripted systemctl)', () => {
  let work = '';
  let server: Server;
  let socket = '';
  let liveRestore = true;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dw-apply-unit-'));
    socket = join(work, 'api.sock');
    server = createServer((req, res) => {
      if (req.url === '/_ping') res.end('OK');
      else if (req.url === '/info')
        res.end(JSON.stringify({ LiveRestoreEnabled: liveRestore, SecurityOptions: [] }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(work, { recursive: true, force: true });
  });

  /** A copy of the stock tree with an /etc/docker/daemon.json, and a candidate that sets hosts. */
  function tree(name: string): { root: string; configPath: string; candidate: string; original: string } {
    const root = join(work, name);
    cpSync(join(FIXTURES, 'systemd-stock'), root, { recursive: true });
    const configPath = join(root, 'etc/docker/daemon.json');
    const original = '{\n  "debug": false\n}\n';
    mkdirSync(join(root, 'etc/docker'), { recursive: true });
    writeFileSync(configPath, original);
    // Socket activation stays (fd://), so only -H has to leave ExecStart.
    const candidate = join(work, `${name}-candidate.json`);
    writeFileSync(candidate, JSON.stringify({ hosts: ['fd://'], 'live-restore': true }, null, 2));
    return { root, configPath, candidate, original };
  }

  it('writes daemon.json and the documented drop-in, reloads systemd, restarts and verifies', async () => {
    const t = tree('ok');
    const host = fakeHost([0], '');
    liveRestore = true;
    const res = await applyDaemonConfig({
      configPath: t.configPath,
      from: t.candidate,
      restart: 'systemd',
      root: t.root,
      pidfile: join(work, 'no.pid'),
      host: `unix://${socket}`,
      run: host.run,
    });
    assert.equal(res.changed, true);
    assert.equal(res.mode, 'systemd');
    assert.equal(res.dockerdValidate.status, 'passed', 'dockerd 28 has --validate, so it ran');
    assert.deepEqual(JSON.parse(readFileSync(t.configPath, 'utf8')), {
      hosts: ['fd://'],
      'live-restore': true,
    });
    assert.ok(res.dropIn);
    assert.equal(
      readFileSync(res.dropIn.path, 'utf8'),
      '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n',
    );
    const service = await readDockerService(t.root);
    assert.equal(dockerdCommandLine(service!.service)?.config.hosts, undefined, 'no -H left in ExecStart');
    assert.deepEqual(systemctlCalls(host.calls), [
      'daemon-reload',
      ...RESTART_SEQUENCE,
      'show MainPID docker.service',
    ]);
    assert.deepEqual(res.verified, [
      { what: 'live-restore (LiveRestoreEnabled)', ok: true, expected: 'true', actual: 'true' },
    ]);
    assert.equal(res.restart?.newPid, 4242);
  });

  it('restores daemon.json, removes the drop-in and restarts again when dockerd fails, quoting the journal', async () => {
    const t = tree('fail');
    const host = fakeHost(
      [1, 0],
      'time="2026-01-01T00:00:00Z" level=info msg="Starting up"\nunable to configure the Docker daemon with file /etc/docker/daemon.json: the following directives are specified both as a flag and in the configuration file: hosts\n',
    );
    await assert.rejects(
      applyDaemonConfig({
        configPath: t.configPath,
        from: t.candidate,
        restart: 'systemd',
        root: t.root,
        pidfile: join(work, 'no.pid'),
        host: `unix://${socket}`,
        run: host.run,
      }),
      (err: unknown) => {
        assert.ok(err instanceof DockwardError);
        assert.equal(err.code, 'DW_E_APPLY_FAILED');
        assert.match(err.message, /dockerd said: unable to configure the Docker daemon/);
        assert.match(err.message, /rolled back/);
        return true;
      },
    );
    assert.equal(readFileSync(t.configPath, 'utf8'), t.original, 'daemon.json restored');
    assert.equal(
      existsSync(join(t.root, 'etc/systemd/system/docker.service.d/90-dockward-hosts.conf')),
      false,
    );
    assert.deepEqual(systemctlCalls(host.calls), [
      'daemon-reload',
      ...RESTART_SEQUENCE,
      // the rollback: the old files, then the socket dance again so fd:// gets a live socket file
      'daemon-reload',
      ...RESTART_SEQUENCE,
      'show MainPID docker.service',
    ]);
    const journal = host.calls.filter((c) => c.startsWith('journalctl'));
    assert.ok(journal.length > 0, 'the journal was read');
    for (const c of journal)
      assert.match(c, /--unit docker\.service --identifier dockerd /, "dockerd's own lines only");
    assert.equal(
      readdirSync(join(t.configPath, '..')).filter((n) => n.endsWith('.bak')).length,
      1,
      'the backup stays',
    );
  });

  it('restarts dockerd with an unchanged daemon.json when told why (new TLS files), writing nothing', async () => {
    const t = tree('same');
    const same = join(work, 'same-candidate.json');
    const current = '{\n  "live-restore": true\n}\n'; // what the scripted /info shows
    writeFileSync(t.configPath, current);
    writeFileSync(same, current);
    liveRestore = true;
    const quiet = fakeHost([], '');
    const untouched = await applyDaemonConfig({
      configPath: t.configPath,
      from: same,
      restart: 'systemd',
      root: t.root,
      pidfile: join(work, 'no.pid'),
      host: `unix://${socket}`,
      run: quiet.run,
    });
    assert.equal(untouched.changed, false);
    assert.equal(untouched.restart, undefined);
    assert.deepEqual(systemctlCalls(quiet.calls), [], 'no reason: nothing restarted');

    const host = fakeHost([0], '');
    const res = await applyDaemonConfig({
      configPath: t.configPath,
      from: same,
      restart: 'systemd',
      root: t.root,
      pidfile: join(work, 'no.pid'),
      host: `unix://${socket}`,
      run: host.run,
      restartReason: '/etc/docker/tls/cert.pem changed',
    });
    assert.equal(res.changed, false);
    assert.equal(res.restartReason, '/etc/docker/tls/cert.pem changed');
    assert.equal(res.restart?.newPid, 4242);
    assert.equal(res.backup, undefined);
    assert.deepEqual(systemctlCalls(host.calls), [...RESTART_SEQUENCE, 'show MainPID docker.service']);
    assert.equal(readFileSync(t.configPath, 'utf8'), current);
    assert.deepEqual(
      readdirSync(join(t.configPath, '..')).filter((n) => n.endsWith('.bak')),
      [],
      'nothing written, so no backup',
    );
  });

  it('rolls back when dockerd runs but /info shows the setting did not take', async () => {
    const t = tree('notaken');
    const host = fakeHost([0, 0], '');
    liveRestore = false;
    try {
      await assert.rejects(
        applyDaemonConfig({
          configPath: t.configPath,
          from: t.candidate,
          restart: 'systemd',
          root: t.root,
          pidfile: join(work, 'no.pid'),
          host: `unix://${socket}`,
          run: host.run,
        }),
        {
          code: 'DW_E_APPLY_FAILED',
          message: /live-restore \(LiveRestoreEnabled\): expected true, found false/,
        },
      );
    } finally {
      liveRestore = true;
    }
    assert.equal(readFileSync(t.configPath, 'utf8'), t.original);
  });

  it('refuses --restart process when no dockerd runs from the pidfile, writing nothing', async () => {
    const t = tree('noproc');
    await assert.rejects(
      applyDaemonConfig({
        configPath: t.configPath,
        from: t.candidate,
        restart: 'process',
        root: t.root,
        pidfile: join(work, 'no.pid'),
        run: fakeHost([], '').run,
      }),
      { code: 'DW_E_UPSTREAM' },
    );
    assert.equal(readFileSync(t.configPath, 'utf8'), t.original);
  });

  it('refuses a --config that is not the file dockerd reads', async () => {
    const t = tree('otherfile');
    await assert.rejects(
      applyDaemonConfig({
        configPath: join(work, 'elsewhere.json'),
        from: t.candidate,
        restart: 'systemd',
        root: t.root,
        pidfile: join(work, 'no.pid'),
        run: fakeHost([], '').run,
      }),
      { code: 'DW_E_USAGE', message: /dockerd reads .*etc\/docker\/daemon\.json/ },
    );
  });
});

describe('checking /info against a configuration', () => {
  it('expects name=userns in SecurityOptions for userns-remap and compares live-restore', () => {
    const checks = verifyInfo(
      { 'userns-remap': 'default', 'live-restore': true },
      { SecurityOptions: ['name=seccomp,profile=default'], LiveRestoreEnabled: true },
    );
    assert.deepEqual(
      checks.map((c) => [c.what, c.ok]),
      [
        ['userns-remap (SecurityOptions)', false],
        ['live-restore (LiveRestoreEnabled)', true],
      ],
    );
  });

  it('checks nothing for keys /info cannot show', () => {
    assert.deepEqual(verifyInfo({ icc: false, 'no-new-privileges': true }, {}), []);
  });
});

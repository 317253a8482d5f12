import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mergeEffectiveConfig } from './effective-config.js';
import { parseDaemonJson } from './parse.js';
import { checkConfig } from './checks.js';
import {
  dockerdCommandLine,
  effectiveService,
  parseEnvironmentFile,
  parseUnitFile,
  planFlagRemovalDropIn,
  quoteExecWord,
  splitCommandWords,
  type UnitSource,
} from './systemd-unit.js';

const FIXTURES = new URL('../../test/fixtures/daemon/', import.meta.url).pathname;

/** Reads a fixture systemd tree: the unit from lib/, drop-ins from etc/ (test-side I/O). */
function loadTree(name: string): { unit: UnitSource; dropIns: UnitSource[] } {
  const root = join(FIXTURES, name);
  const unitPath = join(root, 'lib/systemd/system/docker.service');
  const dropDir = join(root, 'etc/systemd/system/docker.service.d');
  let names: string[] = [];
  try {
    names = readdirSync(dropDir);
  } catch {
    names = [];
  }
  return {
    unit: { path: unitPath, text: readFileSync(unitPath, 'utf8') },
    dropIns: names.map((n) => ({ path: join(dropDir, n), text: readFileSync(join(dropDir, n), 'utf8') })),
  };
}

describe('the stock docker.service with hosts in daemon.json', () => {
  const { unit, dropIns } = loadTree('systemd-stock');
  const daemonJson = parseDaemonJson(readFileSync(join(FIXTURES, 'systemd-stock/daemon.json')));

  it('reads ExecStart as dockerd -H fd:// --containerd=...', () => {
    const service = effectiveService(unit, dropIns);
    assert.equal(service.execStart.length, 1);
    assert.deepEqual(service.execStart[0]?.argv, [
      '/usr/bin/dockerd',
      '-H',
      'fd://',
      '--containerd=/run/containerd/containerd.sock',
    ]);
    assert.equal(service.type, 'notify');
    assert.equal(service.environment['HTTP_PROXY'], 'http://proxy.example.internal:3128');
  });

  it('finds the conflict dockerd would die of', () => {
    const service = effectiveService(unit, dropIns);
    const effective = mergeEffectiveConfig({
      file: { path: '/etc/docker/daemon.json', config: daemonJson.config, keys: daemonJson.keyOrder },
      flags: { where: unit.path, parsed: dockerdCommandLine(service)! },
    });
    assert.deepEqual(
      effective.conflicts.map((c) => [c.key, c.flagText]),
      [['hosts', ['-H fd://']]],
    );
    const finding = checkConfig(effective).find((f) => f.code === 'hosts-conflict');
    assert.equal(finding?.severity, 'error');
  });

  it('produces exactly the documented fix: clear ExecStart, then dockerd without -H', () => {
    const fix = planFlagRemovalDropIn(unit, dropIns, { config: daemonJson.config });
    assert.equal(fix.needed, true);
    assert.equal(
      fix.content,
      '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --containerd=/run/containerd/containerd.sock\n',
    );
    assert.equal(fix.fileName, '90-dockward-hosts.conf');
    assert.deepEqual(fix.removedFlags, ['-H fd://']);
    assert.equal(fix.verified, true);
    assert.match(fix.notes.join('\n'), /socket activation/);
  });

  it('leaves no conflict once the drop-in is in place', () => {
    const fix = planFlagRemovalDropIn(unit, dropIns);
    const after = effectiveService(unit, [
      ...dropIns,
      { path: `/etc/systemd/system/docker.service.d/${fix.fileName}`, text: fix.content },
    ]);
    const effective = mergeEffectiveConfig({
      file: { path: '/etc/docker/daemon.json', config: daemonJson.config },
      flags: { where: 'unit', parsed: dockerdCommandLine(after)! },
    });
    assert.deepEqual(effective.conflicts, []);
    assert.deepEqual(
      after.notes.filter((n) => n.severity === 'error'),
      [],
    );
  });

  it('writes nothing when the command line has no -H', () => {
    const fix = planFlagRemovalDropIn(
      { path: 'docker.service', text: '[Service]\nExecStart=/usr/bin/dockerd --containerd=/run/c.sock\n' },
      [],
    );
    assert.equal(fix.needed, false);
  });
});

describe('a Debian-style unit with $DOCKER_OPTS', () => {
  const { unit, dropIns } = loadTree('systemd-debian');

  it('follows continuation lines and keeps an unknown variable with a note', () => {
    const service = effectiveService(unit, dropIns);
    assert.deepEqual(service.environmentFiles, [{ path: '/etc/default/docker', optional: true }]);
    assert.deepEqual(dockerdCommandLine(service)?.config, {
      hosts: ['fd://'],
      containerd: '/run/containerd/containerd.sock',
    });
    assert.ok(service.notes.some((n) => n.code === 'unresolved-variable'));
  });

  it('expands the variable with the EnvironmentFile values the caller read', () => {
    const env = parseEnvironmentFile(
      readFileSync(join(FIXTURES, 'systemd-debian/etc/default/docker'), 'utf8'),
    );
    const service = effectiveService(unit, dropIns, { env });
    assert.deepEqual(dockerdCommandLine(service)?.config, {
      hosts: ['fd://'],
      containerd: '/run/containerd/containerd.sock',
      dns: ['192.0.2.53'],
      labels: ['env=lab'],
    });
  });

  it('keeps the unknown variable in the rewritten ExecStart so its options still apply', () => {
    const fix = planFlagRemovalDropIn(unit, dropIns);
    assert.equal(
      fix.execStart,
      '/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock $DOCKER_OPTS',
    );
    assert.equal(fix.verified, true);
  });
});

describe('a drop-in that sets ExecStart without clearing it', () => {
  it('is reported: systemd refuses a service with two ExecStart commands', () => {
    const { unit, dropIns } = loadTree('systemd-broken');
    const service = effectiveService(unit, dropIns);
    assert.equal(service.execStart.length, 2);
    const note = service.notes.find((n) => n.code === 'execstart-not-reset');
    assert.equal(note?.severity, 'error');
    assert.match(note?.path ?? '', /10-tcp\.conf$/);
  });
});

describe('drop-in order and resets', () => {
  const unit = {
    path: '/lib/systemd/system/docker.service',
    text: '[Service]\nExecStart=/usr/bin/dockerd -H fd://\n',
  };

  it('applies drop-ins in lexical order of their names, the last ExecStart winning', () => {
    const service = effectiveService(unit, [
      {
        path: '/etc/systemd/system/docker.service.d/20-b.conf',
        text: '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --debug\n',
      },
      {
        path: '/etc/systemd/system/docker.service.d/10-a.conf',
        text: '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --icc=false\n',
      },
    ]);
    assert.deepEqual(
      service.execStart.map((c) => c.argv.slice(1)),
      [['--debug']],
    );
    assert.deepEqual(
      service.applied.map((p) => p.split('/').pop()),
      ['docker.service', '10-a.conf', '20-b.conf'],
    );
  });

  it('counts a drop-in name once, the first one listed winning (/etc before /usr/lib)', () => {
    const service = effectiveService(unit, [
      {
        path: '/etc/systemd/system/docker.service.d/override.conf',
        text: '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --debug\n',
      },
      {
        path: '/usr/lib/systemd/system/docker.service.d/override.conf',
        text: '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -D -H tcp://0.0.0.0:2375\n',
      },
    ]);
    assert.deepEqual(service.execStart[0]?.argv, ['/usr/bin/dockerd', '--debug']);
    assert.ok(service.notes.some((n) => n.code === 'dropin-masked'));
  });

  it('names the fix so it applies after a later drop-in that sets ExecStart', () => {
    const override = {
      path: '/etc/systemd/system/docker.service.d/override.conf',
      text: '[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// --debug\n',
    };
    const fix = planFlagRemovalDropIn(unit, [override]);
    assert.equal(fix.fileName, 'zz-dockward-hosts.conf');
    assert.equal(fix.execStart, '/usr/bin/dockerd --debug');
    assert.equal(fix.verified, true);
  });
});

describe('unit file syntax', () => {
  it('splits sections and assignments, skipping comments', () => {
    const a = parseUnitFile('# c\n[Unit]\nDescription = x\n; c\n[Service]\nExecStart=/bin/true\n', 'u');
    assert.deepEqual(
      a.map((x) => [x.section, x.key, x.value, x.line]),
      [
        ['Unit', 'Description', 'x', 3],
        ['Service', 'ExecStart', '/bin/true', 6],
      ],
    );
  });

  it('joins continuation lines and drops comment lines inside them', () => {
    const a = parseUnitFile(
      '[Service]\nExecStart=/usr/bin/dockerd \\\n# a comment\n  -H fd:// \\\n  --debug\n',
      'u',
    );
    assert.equal(a.length, 1);
    assert.deepEqual(
      splitCommandWords(a[0]!.value, {}).map((w) => w.values[0]),
      ['/usr/bin/dockerd', '-H', 'fd://', '--debug'],
    );
  });

  it('unquotes words, reads C escapes, $$ and %% and expands a braced variable inside a word', () => {
    const words = splitCommandWords(`/bin/x "a b" 'c d' e\\sf $$HOME 100%% --opt=\${V}/x`, { V: '/etc' });
    assert.deepEqual(
      words.map((w) => w.values),
      [['/bin/x'], ['a b'], ['c d'], ['e f'], ['$HOME'], ['100%'], ['--opt=/etc/x']],
    );
  });

  it('handles program prefixes, including @ which sets argv[0]', () => {
    const service = effectiveService(
      { path: 'u', text: '[Service]\nExecStart=-@/usr/bin/dockerd dockerd-main -H fd://\n' },
      [],
    );
    const cmd = service.execStart[0]!;
    assert.equal(cmd.prefixes, '-@');
    assert.equal(cmd.program, '/usr/bin/dockerd');
    assert.deepEqual(cmd.argv, ['dockerd-main', '-H', 'fd://']);
  });

  it('quotes a word for ExecStart only when it needs it', () => {
    assert.equal(
      quoteExecWord('--containerd=/run/containerd/containerd.sock'),
      '--containerd=/run/containerd/containerd.sock',
    );
    assert.equal(quoteExecWord('--label=a b'), '"--label=a b"');
    assert.equal(quoteExecWord('100%$'), '"100%%$$"');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerdArgs } from './cmdline.js';
import { mergeEffectiveConfig, sourceOf, tlsMode } from './effective-config.js';
import type { DaemonConfig } from './keys.js';

const flags = (line: string) => ({
  where: '/lib/systemd/system/docker.service',
  parsed: parseDockerdArgs(['/usr/bin/dockerd', ...line.split(' ').filter((w) => w !== '')]),
});
const file = (config: DaemonConfig, keys?: string[]) => ({
  path: '/etc/docker/daemon.json',
  config,
  ...(keys ? { keys } : {}),
});

describe('mergeEffectiveConfig', () => {
  it('gives every key exactly one source: the file, a flag or the default', () => {
    const effective = mergeEffectiveConfig({
      file: file({ icc: false, 'log-opts': { 'max-size': '10m' } }),
      flags: flags('-H fd:// --containerd=/run/containerd/containerd.sock'),
    });
    assert.equal(sourceOf(effective, 'icc'), 'file:/etc/docker/daemon.json');
    assert.equal(sourceOf(effective, 'hosts'), 'flag:/lib/systemd/system/docker.service');
    assert.equal(sourceOf(effective, 'iptables'), 'default');
    const keys = effective.entries.map((e) => e.key);
    assert.equal(new Set(keys).size, keys.length, 'a key appears twice');
    assert.deepEqual(effective.config.hosts, ['fd://']);
    assert.equal(effective.config.iptables, true);
    assert.deepEqual(effective.entries.find((e) => e.key === 'hosts')?.flags, ['-H fd://']);
  });

  it('reports hosts in the file with -H on the command line as a conflict, whatever the values', () => {
    const effective = mergeEffectiveConfig({
      file: file({ hosts: ['fd://'] }),
      flags: flags('-H fd://'),
    });
    assert.equal(effective.conflicts.length, 1);
    assert.equal(effective.conflicts[0]?.key, 'hosts');
    assert.equal(effective.conflicts[0]?.flag, '-H');
    assert.match(
      effective.conflicts[0]?.message ?? '',
      /specified both as a flag and in the configuration file/,
    );
  });

  it('matches list flags to their plural keys: --label and labels conflict, label and labels differ', () => {
    const effective = mergeEffectiveConfig({
      file: file({ labels: ['a=b'] }),
      flags: flags('--label c=d --log-opt max-file=3'),
    });
    assert.deepEqual(
      effective.conflicts.map((c) => [c.key, c.flagText]),
      [['labels', ['--label c=d']]],
    );
  });

  it('reports a conflict for a key that is present with a null value', () => {
    const effective = mergeEffectiveConfig({ file: file({}, ['tlsverify']), flags: flags('--tlsverify') });
    assert.deepEqual(
      effective.conflicts.map((c) => c.key),
      ['tlsverify'],
    );
  });

  it('merges runtimes from both places without a conflict, the file winning a shared name', () => {
    const effective = mergeEffectiveConfig({
      file: file({ runtimes: { crun: { path: '/usr/bin/crun' } } }),
      flags: flags('--add-runtime crun=/opt/crun --add-runtime kata=/usr/bin/kata'),
    });
    assert.deepEqual(effective.conflicts, []);
    assert.deepEqual(effective.config.runtimes, {
      crun: { path: '/usr/bin/crun' },
      kata: { path: '/usr/bin/kata' },
    });
    assert.equal(sourceOf(effective, 'runtimes.kata'), 'flag:/lib/systemd/system/docker.service');
    assert.equal(sourceOf(effective, 'runtimes.crun'), 'file:/etc/docker/daemon.json');
  });

  it('matches proxy flags to the fields under "proxies", one field at a time', () => {
    const effective = mergeEffectiveConfig({
      file: file({ proxies: { 'http-proxy': 'http://a:3128' } }),
      flags: flags('--http-proxy http://b:3128 --no-proxy localhost'),
    });
    assert.deepEqual(
      effective.conflicts.map((c) => c.key),
      ['proxies.http-proxy'],
    );
    assert.equal(sourceOf(effective, 'proxies.no-proxy'), 'flag:/lib/systemd/system/docker.service');
  });

  it('takes no value from a key dockerd ignores in the file, yet counts it for conflicts', () => {
    const effective = mergeEffectiveConfig({
      file: file({ 'http-proxy': 'http://a:3128', 'containerd-plugins-namespace': 'mine' }),
      flags: flags('--http-proxy http://b:3128'),
    });
    assert.equal(sourceOf(effective, 'containerd-plugins-namespace'), 'default');
    assert.equal(sourceOf(effective, 'http-proxy'), undefined);
    assert.deepEqual(
      effective.conflicts.map((c) => c.key),
      ['http-proxy'],
    );
  });

  it('takes the config file path from --config-file', () => {
    const effective = mergeEffectiveConfig({ flags: flags('--config-file /srv/d.json') });
    assert.equal(effective.configFile, '/srv/d.json');
  });

  it('leaves defaults out when asked', () => {
    const effective = mergeEffectiveConfig({ file: file({ icc: false }), includeDefaults: false });
    assert.deepEqual(effective.config, { icc: false });
  });
});

describe('tlsMode', () => {
  const mode = (config: DaemonConfig, line = '') =>
    tlsMode(mergeEffectiveConfig({ file: file(config), flags: flags(line) }));

  it('turns verification on for tls: true alone (dockerd since 20.10)', () => {
    assert.deepEqual(mode({ tls: true }), { tls: true, verify: true, verifyExplicit: false });
  });

  it('keeps verification off only when tlsverify: false is explicit, and TLS still on', () => {
    assert.deepEqual(mode({ tls: true, tlsverify: false }), {
      tls: true,
      verify: false,
      verifyExplicit: true,
    });
    assert.deepEqual(mode({ tlsverify: false }), { tls: true, verify: false, verifyExplicit: true });
  });

  it('lets tlsverify imply tls, from the file or from a flag', () => {
    assert.deepEqual(mode({ tlsverify: true }), { tls: true, verify: true, verifyExplicit: true });
    assert.deepEqual(mode({}, '--tlsverify'), { tls: true, verify: true, verifyExplicit: true });
    assert.deepEqual(mode({}), { tls: false, verify: false, verifyExplicit: false });
  });
});

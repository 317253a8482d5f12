import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerdArgs } from './cmdline.js';
import { unifiedDiff } from './diff.js';
import { deepEqual, harden } from './harden.js';
import type { DaemonConfig } from './keys.js';
import { parseDaemonJson, serializeDaemonJson } from './parse.js';
import { buildProfile } from './profiles.js';

const stockFlags = parseDockerdArgs([
  '/usr/bin/dockerd',
  '-H',
  'fd://',
  '--containerd=/run/containerd/containerd.sock',
]);

describe('harden with the baseline profile', () => {
  it('adds the seed 001 settings to an empty file', () => {
    const { result, changes, conflicts, changed } = harden({}, 'baseline');
    assert.deepEqual(result, {
      icc: false,
      'userns-remap': 'default',
      'no-new-privileges': true,
      'log-driver': 'json-file',
      'log-opts': { 'max-size': '10m', 'max-file': '3' },
      'live-restore': true,
      'userland-proxy': false,
      experimental: false,
      group: 'docker',
      'default-shm-size': '64m',
    });
    assert.ok(changes.every((c) => c.kind === 'add'));
    assert.deepEqual(conflicts, []);
    assert.equal(changed, true);
  });

  it('changes nothing the second time', () => {
    const first = harden({ debug: true, icc: true }, 'baseline');
    const second = harden(first.result, 'baseline');
    assert.equal(second.changed, false);
    assert.ok(second.changes.every((c) => c.kind === 'keep'));
    assert.equal(second.text, first.text);
    assert.equal(unifiedDiff(first.text, second.text), '');
  });

  it("keeps the user's other keys, their order and their other log options", () => {
    const existing: DaemonConfig = {
      'data-root': '/srv/docker',
      'log-opts': { labels: 'app', 'max-size': '50m' },
      'storage-driver': 'overlay2',
    };
    const { result } = harden(existing, 'baseline');
    assert.deepEqual(Object.keys(result).slice(0, 3), ['data-root', 'log-opts', 'storage-driver']);
    assert.deepEqual(result['log-opts'], { labels: 'app', 'max-size': '10m', 'max-file': '3' });
    assert.equal(result['data-root'], '/srv/docker');
    assert.deepEqual(existing['log-opts'], { labels: 'app', 'max-size': '50m' }, 'the input was modified');
  });

  it('reports each change with its old and new value', () => {
    const { changes } = harden({ icc: true, 'log-opts': { 'max-size': '50m' } }, 'baseline');
    assert.deepEqual(
      changes.find((c) => c.key === 'icc'),
      { key: 'icc', from: true, to: false, kind: 'change' },
    );
    assert.deepEqual(
      changes.find((c) => c.key === 'log-opts.max-size'),
      {
        key: 'log-opts.max-size',
        from: '50m',
        to: '10m',
        kind: 'change',
      },
    );
    assert.equal(changes.find((c) => c.key === 'log-opts.max-file')?.kind, 'add');
  });

  it('does not write iptables, and reports a user iptables: false as a conflict with icc', () => {
    const plain = harden({}, 'baseline');
    assert.equal('iptables' in plain.result, false);
    const { conflicts, result } = harden({ iptables: false }, 'baseline');
    assert.equal(result.iptables, false);
    assert.deepEqual(
      conflicts.map((c) => [c.code, c.resolution]),
      [['icc-needs-iptables', 'manual']],
    );
  });

  it('leaves a key the command line sets out of the file', () => {
    const flags = parseDockerdArgs(['dockerd', '--live-restore', '--icc=true']);
    const { result, changes, conflicts } = harden({}, 'baseline', { flags });
    assert.equal('live-restore' in result, false);
    assert.equal('icc' in result, false);
    assert.deepEqual(
      changes.find((c) => c.key === 'live-restore'),
      {
        key: 'live-restore',
        from: true,
        to: true,
        kind: 'keep',
        note: 'already set on the command line',
      },
    );
    assert.deepEqual(
      conflicts.map((c) => [c.key, c.code]),
      [['icc', 'flag-differs']],
    );
  });
});

describe('harden with hosts already in the file', () => {
  it('reports the existing hosts against -H conflict even when the profile does not touch hosts', () => {
    const { conflicts } = harden({ hosts: ['unix:///var/run/docker.sock'] }, 'baseline', {
      flags: stockFlags,
    });
    assert.deepEqual(
      conflicts.map((c) => [c.key, c.code, c.resolution]),
      [['hosts', 'hosts-conflict', 'systemd-drop-in']],
    );
  });
});

describe('harden with the remote-tls profile', () => {
  it('adds the unix socket, the TLS listener and the certificate paths', () => {
    const { result } = harden({}, 'remote-tls');
    assert.deepEqual(result.hosts, ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2376']);
    assert.equal(result.tlsverify, true);
    assert.equal(result.tlscacert, '/etc/docker/tls/ca.pem');
    assert.equal(result.tlscert, '/etc/docker/tls/cert.pem');
    assert.equal(result.tlskey, '/etc/docker/tls/key.pem');
  });

  it('takes the certificate folder, listen address and port as parameters', () => {
    const { result } = harden({}, 'remote-tls', {
      certDir: '/srv/tls/',
      listenAddress: '127.0.0.1',
      port: 12376,
    });
    assert.deepEqual(result.hosts, ['unix:///var/run/docker.sock', 'tcp://127.0.0.1:12376']);
    assert.equal(result.tlskey, '/srv/tls/key.pem');
    assert.deepEqual(
      buildProfile('remote-tls', { listenAddress: '::' }).settings.hosts?.[1],
      'tcp://[::]:2376',
    );
  });

  it("adds the listeners to the user's hosts instead of replacing them", () => {
    const { result, changes } = harden({ hosts: ['unix:///run/docker.sock'] }, 'remote-tls');
    assert.deepEqual(result.hosts, [
      'unix:///run/docker.sock',
      'unix:///var/run/docker.sock',
      'tcp://0.0.0.0:2376',
    ]);
    assert.equal(changes.find((c) => c.key === 'hosts')?.kind, 'change');
  });

  it('reports hosts against -H fd:// as a conflict the systemd drop-in resolves', () => {
    const { conflicts } = harden({}, 'remote-tls', { flags: stockFlags });
    assert.deepEqual(
      conflicts.map((c) => [c.key, c.code, c.resolution]),
      [['hosts', 'hosts-conflict', 'systemd-drop-in']],
    );
    assert.match(conflicts[0]?.message ?? '', /-H fd:\/\//);
  });

  it('is idempotent too, and its output parses back to the same config', () => {
    const first = harden({ debug: true }, 'remote-tls');
    const second = harden(parseDaemonJson(first.text).config, 'remote-tls');
    assert.equal(second.changed, false);
    assert.equal(second.text, first.text);
  });

  it('turns an explicit tlsverify: false into true', () => {
    const { changes } = harden({ tlsverify: false }, 'remote-tls');
    assert.deepEqual(
      changes.find((c) => c.key === 'tlsverify'),
      { key: 'tlsverify', from: false, to: true, kind: 'change' },
    );
  });
});

describe('serialization and equality helpers', () => {
  it('serializes the harden result as 2-space JSON with a trailing newline', () => {
    const { text, result } = harden({}, 'baseline');
    assert.equal(text, serializeDaemonJson(result));
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.includes('\n  "icc": false,\n'));
  });

  it('compares JSON values structurally, ignoring key order', () => {
    assert.equal(deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), true);
    assert.equal(deepEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), true);
    assert.equal(deepEqual([1, 2], [2, 1]), false);
    assert.equal(deepEqual({ a: 1 }, { a: 1, b: undefined }), false);
  });
});

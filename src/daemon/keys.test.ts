import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DAEMON_KEY_NAMES,
  DAEMON_KEYS,
  type DaemonConfig,
  findFlag,
  flagLabel,
  ignoredFlagNameKey,
  type KeySpec,
  suggestKey,
} from './keys.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../test/fixtures/daemon/${name}`, import.meta.url), 'utf8');

describe('daemon.json key table', () => {
  it('maps every key that has a flag back to that key through the flag index', () => {
    for (const key of DAEMON_KEY_NAMES) {
      const spec: KeySpec = DAEMON_KEYS[key];
      if (!spec.flag) continue;
      const flag = findFlag(spec.flag);
      assert.ok(flag, `--${spec.flag} is not in the flag index`);
      if (['http-proxy', 'https-proxy', 'no-proxy'].includes(key)) {
        assert.equal(flag.key, 'proxies');
        assert.equal(flag.subKey, key);
      } else if (key !== 'host-gateway-ip') {
        assert.equal(flag.key, key, `--${spec.flag} should set ${key}`);
      }
      if (spec.short) assert.equal(findFlag(spec.short)?.name, spec.flag);
    }
  });

  it('knows the list flags by their plural file names', () => {
    assert.equal(findFlag('H')?.key, 'hosts');
    assert.equal(findFlag('label')?.key, 'labels');
    assert.equal(findFlag('log-opt')?.key, 'log-opts');
    assert.equal(findFlag('insecure-registry')?.key, 'insecure-registries');
    assert.equal(findFlag('add-runtime')?.key, 'runtimes');
    assert.equal(findFlag('default-ulimit')?.key, 'default-ulimits');
    assert.equal(flagLabel('hosts'), '-H/--host');
    assert.equal(flagLabel('labels'), '--label');
  });

  it('knows every flag that the installed dockerd 20.10 prints in --help', () => {
    const help = fixture('dockerd-20.10-help.txt');
    const flags = [...help.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]!);
    assert.ok(flags.length > 70, `only ${flags.length} flags read from the help text`);
    const unknown = flags.filter((f) => !findFlag(f));
    assert.deepEqual(unknown, []);
  });

  it('suggests tlsverify for tlsverfy and nothing for a word that is not close to any key', () => {
    assert.equal(suggestKey('tlsverfy'), 'tlsverify');
    assert.equal(suggestKey('live-restor'), 'live-restore');
    assert.equal(suggestKey('ICC'), 'icc');
    assert.equal(suggestKey('completely-unrelated-setting'), undefined);
  });

  it('names the real key for a flag name dockerd accepts in the file but ignores', () => {
    assert.equal(ignoredFlagNameKey('label')?.meant, 'labels');
    assert.equal(ignoredFlagNameKey('host')?.meant, 'hosts');
    assert.match(ignoredFlagNameKey('config-file')?.why ?? '', /command-line flag only/);
    assert.equal(ignoredFlagNameKey('labels'), undefined);
    assert.equal(ignoredFlagNameKey('tlsverfy'), undefined);
  });

  it('types a config from the table so a wrong value type does not compile', () => {
    const config: DaemonConfig = { icc: false, 'log-opts': { 'max-size': '10m' }, hosts: ['fd://'] };
    // @ts-expect-error log-opts values are strings
    const bad: DaemonConfig = { 'log-opts': { 'max-file': 3 } };
    assert.equal(config.icc, false);
    assert.ok(bad);
  });

  it('marks the keys SIGHUP reloads and leaves TLS and hosts to a restart', () => {
    const reload = DAEMON_KEY_NAMES.filter((k) => (DAEMON_KEYS[k] as KeySpec).reload);
    for (const k of [
      'debug',
      'labels',
      'live-restore',
      'max-concurrent-downloads',
      'default-shm-size',
      'features',
    ]) {
      assert.ok(reload.includes(k as never), `${k} should reload`);
    }
    for (const k of ['hosts', 'tlsverify', 'tlscert', 'tlskey', 'tlscacert', 'icc', 'userns-remap']) {
      assert.ok(!reload.includes(k as never), `${k} should need a restart`);
    }
  });
});

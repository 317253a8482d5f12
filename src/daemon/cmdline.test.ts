import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDockerdArgs, parseGoBool, removeFlagsForKeys, splitProcCmdline } from './cmdline.js';

const parse = (line: string, engineMajor?: number) =>
  parseDockerdArgs(
    ['dockerd', ...line.split(' ').filter((w) => w !== '')],
    engineMajor === undefined ? {} : { engineMajor },
  );

describe('parseDockerdArgs', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['-H fd://', { hosts: ['fd://'] }],
    ['--host=tcp://0.0.0.0:2376', { hosts: ['tcp://0.0.0.0:2376'] }],
    [
      '-H unix:///var/run/docker.sock -H tcp://127.0.0.1:2376',
      { hosts: ['unix:///var/run/docker.sock', 'tcp://127.0.0.1:2376'] },
    ],
    ['-Hfd://', { hosts: ['fd://'] }],
    ['-H=fd://', { hosts: ['fd://'] }],
    ['--tlsverify', { tlsverify: true }],
    ['--tlscacert /etc/docker/ca.pem', { tlscacert: '/etc/docker/ca.pem' }],
    ['--tlscacert=/etc/docker/ca.pem', { tlscacert: '/etc/docker/ca.pem' }],
    ['--icc=false', { icc: false }],
    ['--iptables=0', { iptables: false }],
    ['--live-restore=True', { 'live-restore': true }],
    ['--userns-remap default', { 'userns-remap': 'default' }],
    ['--label a=b --label c=d', { labels: ['a=b', 'c=d'] }],
    ['--log-opt max-size=10m --log-opt max-file=3', { 'log-opts': { 'max-size': '10m', 'max-file': '3' } }],
    ['-D', { debug: true }],
    ['-l debug', { 'log-level': 'debug' }],
    ['-G dockerusers', { group: 'dockerusers' }],
    ['-p /run/d.pid', { pidfile: '/run/d.pid' }],
    [
      '--default-ulimit nofile=1024:2048',
      { 'default-ulimits': { nofile: { Name: 'nofile', Soft: 1024, Hard: 2048 } } },
    ],
    ['--add-runtime crun=/usr/bin/crun', { runtimes: { crun: { path: '/usr/bin/crun' } } }],
    [
      '--feature cdi --feature containerd-snapshotter=false',
      { features: { cdi: true, 'containerd-snapshotter': false } },
    ],
    [
      '--default-address-pool base=10.10.0.0/16,size=24',
      { 'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }] },
    ],
    [
      '--default-network-opt bridge=com.docker.network.driver.mtu=1400',
      { 'default-network-opts': { bridge: { 'com.docker.network.driver.mtu': '1400' } } },
    ],
    ['--http-proxy http://proxy:3128', { proxies: { 'http-proxy': 'http://proxy:3128' } }],
    ['--max-concurrent-downloads 6', { 'max-concurrent-downloads': 6 }],
    ['--containerd=/run/containerd/containerd.sock', { containerd: '/run/containerd/containerd.sock' }],
  ];
  for (const [line, expected] of cases) {
    it(`reads \`dockerd ${line}\` into the daemon.json key space`, () => {
      const parsed = parse(line);
      assert.deepEqual(parsed.issues, []);
      assert.deepEqual(parsed.config, expected);
    });
  }

  it('takes the next word as the value even when it starts with a dash, as pflag does', () => {
    assert.deepEqual(parse('--log-level -x').config, { 'log-level': '-x' });
  });

  it('does not let a boolean flag swallow the next word', () => {
    const parsed = parse('--tlsverify --tlscacert /x');
    assert.deepEqual(parsed.config, { tlsverify: true, tlscacert: '/x' });
  });

  it('reads grouped one-letter flags: booleans first, then one taking a value', () => {
    const parsed = parse('-DH fd://');
    assert.deepEqual(parsed.config, { debug: true, hosts: ['fd://'] });
    assert.deepEqual(
      parsed.occurrences.map((o) => [o.spelled, o.grouped]),
      [
        ['-D', true],
        ['-H', true],
      ],
    );
  });

  it('records --config-file without making it a key', () => {
    const parsed = parse('--config-file /srv/daemon.json -H fd://');
    assert.equal(parsed.configFile, '/srv/daemon.json');
    assert.deepEqual(parsed.keys, ['hosts']);
  });

  it('reports an unknown flag with the closest known one and goes on parsing', () => {
    const parsed = parse('--tlsverfy -H fd://');
    assert.equal(parsed.issues.length, 1);
    assert.equal(parsed.issues[0]?.code, 'unknown-flag');
    assert.equal(parsed.issues[0]?.suggestion, 'tlsverify');
    assert.deepEqual(parsed.config, { hosts: ['fd://'] });
  });

  it('reports a missing value, a bad boolean and a stray argument', () => {
    assert.equal(parse('--tlscacert').issues[0]?.code, 'missing-value');
    assert.equal(parse('--icc=maybe').issues[0]?.code, 'invalid-value');
    assert.equal(parse('--mtu big').issues[0]?.code, 'invalid-value');
    assert.equal(parse('run').issues[0]?.code, 'positional-argument');
  });

  it('accepts -g as the old name of --data-root on dockerd 20 and refuses it from 23 on', () => {
    const old = parse('-g /srv/docker', 20);
    assert.deepEqual(old.config, { 'data-root': '/srv/docker' });
    assert.deepEqual(old.issues, []);
    assert.equal(parse('-g /srv/docker', 28).issues[0]?.code, 'flag-removed');
  });

  it('refuses --validate on dockerd 20, which does not have it', () => {
    assert.equal(parse('--validate', 20).issues[0]?.code, 'flag-too-new');
    assert.deepEqual(parse('--validate --config-file /x', 28).issues, []);
  });

  it('maps --host-gateway-ip to the list key from dockerd 28 and to the single key before', () => {
    assert.deepEqual(parse('--host-gateway-ip 192.0.2.1', 28).config, { 'host-gateway-ips': ['192.0.2.1'] });
    assert.deepEqual(parse('--host-gateway-ip 192.0.2.1', 20).config, { 'host-gateway-ip': '192.0.2.1' });
  });

  it('warns when a single-value flag is repeated, since the last one wins', () => {
    const parsed = parse('--data-root /a --data-root /b');
    assert.deepEqual(parsed.config, { 'data-root': '/b' });
    assert.equal(parsed.issues[0]?.code, 'flag-repeated');
  });

  it('treats everything after -- as arguments', () => {
    assert.equal(parse('-- -H fd://').issues.length, 2);
  });
});

describe('splitProcCmdline', () => {
  it('splits /proc/<pid>/cmdline on NUL and drops the trailing one', () => {
    const argv = splitProcCmdline(
      Buffer.from('/usr/bin/dockerd\0-H\0fd://\0--tlscacert\0/etc/docker/ca.pem\0'),
    );
    assert.deepEqual(argv, ['/usr/bin/dockerd', '-H', 'fd://', '--tlscacert', '/etc/docker/ca.pem']);
    assert.deepEqual(parseDockerdArgs(argv).config, { hosts: ['fd://'], tlscacert: '/etc/docker/ca.pem' });
  });
});

describe('removeFlagsForKeys', () => {
  it('drops every form of -H and keeps the other words with their positions', () => {
    const parsed = parse(
      '-H fd:// --containerd=/run/containerd/containerd.sock --host=tcp://0.0.0.0:2375 -Hunix:///x --debug',
    );
    assert.deepEqual(removeFlagsForKeys(parsed, ['hosts']), [
      { word: '--containerd=/run/containerd/containerd.sock', index: 2 },
      { word: '--debug', index: 5 },
    ]);
  });

  it('splits a grouped word so the letters that stay keep their meaning', () => {
    const parsed = parse('-DH fd:// --icc=false');
    assert.deepEqual(
      removeFlagsForKeys(parsed, ['hosts']).map((w) => w.word),
      ['-D', '--icc=false'],
    );
  });
});

describe('parseGoBool', () => {
  it('accepts the spellings strconv.ParseBool accepts and nothing else', () => {
    for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(parseGoBool(t), true);
    for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(parseGoBool(f), false);
    assert.equal(parseGoBool('yes'), undefined);
  });
});

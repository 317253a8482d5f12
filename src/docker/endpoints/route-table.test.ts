import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockwardError } from '../../errors.js';
import {
  compileRouteTable,
  ENDPOINT_NAMES,
  type Endpoint,
  findEndpointByName,
  matchRoute,
  ROUTE_TABLE,
  ROUTES,
} from './index.js';

type Case = readonly [method: string, path: string, name: string, params?: Record<string, string>];

// Expected routing, written from dockerd's router (moby daemon/server/router/*) and checked by
// hand against a private dockerd 20.10 (HEAD, trailing slash, empty `.*`, "\n" vs "\r" cases).
const MATCHES: readonly Case[] = [
  // system
  ['GET', '/_ping', 'system.ping'],
  ['HEAD', '/_ping', 'system.ping.head'],
  ['GET', '/version', 'system.version'],
  ['GET', '/info', 'system.info'],
  ['GET', '/events', 'system.events'],
  ['GET', '/system/df', 'system.df'],
  ['POST', '/auth', 'system.auth'],
  ['POST', '/session', 'session'],
  ['POST', '/grpc', 'grpc'],
  // containers: literals win over `{id*}` routes that come later or cannot match them
  ['GET', '/containers/json', 'container.list'],
  ['POST', '/containers/create', 'container.create'],
  ['POST', '/containers/prune', 'container.prune'],
  ['GET', '/containers/abc/json', 'container.inspect', { id: 'abc' }],
  ['GET', '/containers/json/json', 'container.inspect', { id: 'json' }],
  ['GET', '/containers/abc/top', 'container.top', { id: 'abc' }],
  ['GET', '/containers/abc/logs', 'container.logs', { id: 'abc' }],
  ['GET', '/containers/abc/changes', 'container.changes', { id: 'abc' }],
  ['GET', '/containers/abc/export', 'container.export', { id: 'abc' }],
  ['GET', '/containers/abc/stats', 'container.stats', { id: 'abc' }],
  ['POST', '/containers/abc/resize', 'container.resize', { id: 'abc' }],
  ['POST', '/containers/abc/start', 'container.start', { id: 'abc' }],
  ['POST', '/containers/abc/stop', 'container.stop', { id: 'abc' }],
  ['POST', '/containers/abc/restart', 'container.restart', { id: 'abc' }],
  ['POST', '/containers/abc/kill', 'container.kill', { id: 'abc' }],
  ['POST', '/containers/abc/update', 'container.update', { id: 'abc' }],
  ['POST', '/containers/abc/rename', 'container.rename', { id: 'abc' }],
  ['POST', '/containers/abc/pause', 'container.pause', { id: 'abc' }],
  ['POST', '/containers/abc/unpause', 'container.unpause', { id: 'abc' }],
  ['POST', '/containers/abc/attach', 'container.attach', { id: 'abc' }],
  ['GET', '/containers/abc/attach/ws', 'container.attach.ws', { id: 'abc' }],
  ['POST', '/containers/abc/wait', 'container.wait', { id: 'abc' }],
  ['POST', '/containers/abc/exec', 'container.exec', { id: 'abc' }],
  ['HEAD', '/containers/abc/archive', 'container.archive.head', { id: 'abc' }],
  ['GET', '/containers/abc/archive', 'container.archive.get', { id: 'abc' }],
  ['PUT', '/containers/abc/archive', 'container.archive.put', { id: 'abc' }],
  ['DELETE', '/containers/abc', 'container.delete', { id: 'abc' }],
  // `{name:.*}` swallows slashes: dockerd routes these and then fails the lookup itself
  ['DELETE', '/containers/a/b', 'container.delete', { id: 'a/b' }],
  ['DELETE', '/containers/', 'container.delete', { id: '' }],
  ['GET', '/containers/a/logs/json', 'container.inspect', { id: 'a/logs' }],
  // the checkpoint router is registered first so its DELETE is not masked by container.delete
  [
    'DELETE',
    '/containers/abc/checkpoints/cp1',
    'container.checkpoint.delete',
    { id: 'abc', checkpoint: 'cp1' },
  ],
  ['DELETE', '/containers/a/b/checkpoints/cp1', 'container.delete', { id: 'a/b/checkpoints/cp1' }],
  ['GET', '/containers/abc/checkpoints', 'container.checkpoint.list', { id: 'abc' }],
  // exec
  ['POST', '/exec/abc/start', 'exec.start', { id: 'abc' }],
  ['POST', '/exec/abc/resize', 'exec.resize', { id: 'abc' }],
  ['GET', '/exec/abc/json', 'exec.inspect', { id: 'abc' }],
  // images: references carry "/" and ":"
  ['GET', '/images/json', 'image.list'],
  ['GET', '/images/search', 'image.search'],
  ['GET', '/images/get', 'image.save.many'],
  ['GET', '/images/busybox/get', 'image.save', { name: 'busybox' }],
  ['GET', '/images/get/get', 'image.save', { name: 'get' }],
  ['GET', '/images/library/busybox:latest/json', 'image.inspect', { name: 'library/busybox:latest' }],
  ['GET', '/images/json/json', 'image.inspect', { name: 'json' }],
  ['GET', '/images/sha256:0123abcd/history', 'image.history', { name: 'sha256:0123abcd' }],
  ['GET', '/images/busybox/attestations', 'image.attestations', { name: 'busybox' }],
  ['POST', '/images/create', 'image.create'],
  ['POST', '/images/load', 'image.load'],
  ['POST', '/images/prune', 'image.prune'],
  [
    'POST',
    '/images/reg.example.com:5000/a/b:tag/push',
    'image.push',
    { name: 'reg.example.com:5000/a/b:tag' },
  ],
  ['POST', '/images/busybox/tag', 'image.tag', { name: 'busybox' }],
  [
    'DELETE',
    '/images/reg.example.com:5000/a/b:tag',
    'image.delete',
    { name: 'reg.example.com:5000/a/b:tag' },
  ],
  ['DELETE', '/images/a@sha256:0123', 'image.delete', { name: 'a@sha256:0123' }],
  ['DELETE', '/images/busybox/json', 'image.delete', { name: 'busybox/json' }],
  // Go's `.` excludes only "\n": a "\r" in a name is routed (and rejected by the handler)
  ['DELETE', '/images/a\rb', 'image.delete', { name: 'a\rb' }],
  ['POST', '/commit', 'image.commit'],
  ['POST', '/build', 'build'],
  ['POST', '/build/prune', 'build.prune'],
  ['POST', '/build/cancel', 'build.cancel'],
  // networks: `{id:.+}` for GET, and `/networks/` is its own route
  ['GET', '/networks', 'network.list'],
  ['GET', '/networks/', 'network.list'],
  ['GET', '/networks/bridge', 'network.inspect', { id: 'bridge' }],
  ['GET', '/networks/prune', 'network.inspect', { id: 'prune' }],
  ['POST', '/networks/create', 'network.create'],
  ['POST', '/networks/prune', 'network.prune'],
  ['POST', '/networks/n1/connect', 'network.connect', { id: 'n1' }],
  ['POST', '/networks/n1/disconnect', 'network.disconnect', { id: 'n1' }],
  ['DELETE', '/networks/n1', 'network.delete', { id: 'n1' }],
  // volumes
  ['GET', '/volumes', 'volume.list'],
  ['GET', '/volumes/v1', 'volume.inspect', { name: 'v1' }],
  ['GET', '/volumes/', 'volume.inspect', { name: '' }],
  ['POST', '/volumes/create', 'volume.create'],
  ['POST', '/volumes/prune', 'volume.prune'],
  ['PUT', '/volumes/v1', 'volume.update', { name: 'v1' }],
  ['DELETE', '/volumes/v1', 'volume.delete', { name: 'v1' }],
  // swarm and its objects
  ['GET', '/swarm', 'swarm.inspect'],
  ['POST', '/swarm/init', 'swarm.init'],
  ['POST', '/swarm/join', 'swarm.join'],
  ['POST', '/swarm/leave', 'swarm.leave'],
  ['GET', '/swarm/unlockkey', 'swarm.unlockkey'],
  ['POST', '/swarm/update', 'swarm.update'],
  ['POST', '/swarm/unlock', 'swarm.unlock'],
  ['GET', '/services', 'service.list'],
  ['POST', '/services/create', 'service.create'],
  ['GET', '/services/s1', 'service.inspect', { id: 's1' }],
  ['POST', '/services/s1/update', 'service.update', { id: 's1' }],
  ['GET', '/services/s1/logs', 'service.logs', { id: 's1' }],
  ['DELETE', '/services/s1', 'service.delete', { id: 's1' }],
  ['GET', '/nodes', 'node.list'],
  ['GET', '/nodes/n1', 'node.inspect', { id: 'n1' }],
  ['POST', '/nodes/n1/update', 'node.update', { id: 'n1' }],
  ['DELETE', '/nodes/n1', 'node.delete', { id: 'n1' }],
  ['GET', '/tasks', 'task.list'],
  ['GET', '/tasks/t1', 'task.inspect', { id: 't1' }],
  ['GET', '/tasks/t1/logs', 'task.logs', { id: 't1' }],
  ['GET', '/secrets', 'secret.list'],
  ['POST', '/secrets/create', 'secret.create'],
  ['GET', '/secrets/s1', 'secret.inspect', { id: 's1' }],
  ['POST', '/secrets/s1/update', 'secret.update', { id: 's1' }],
  ['DELETE', '/secrets/s1', 'secret.delete', { id: 's1' }],
  ['GET', '/configs', 'config.list'],
  ['POST', '/configs/create', 'config.create'],
  ['GET', '/configs/c1', 'config.inspect', { id: 'c1' }],
  ['POST', '/configs/c1/update', 'config.update', { id: 'c1' }],
  ['DELETE', '/configs/c1', 'config.delete', { id: 'c1' }],
  // plugins: literals vs `{name*}`
  ['GET', '/plugins', 'plugin.list'],
  ['GET', '/plugins/privileges', 'plugin.privileges'],
  ['POST', '/plugins/pull', 'plugin.pull'],
  ['POST', '/plugins/create', 'plugin.create'],
  ['GET', '/plugins/vieux/sshfs:latest/json', 'plugin.inspect', { name: 'vieux/sshfs:latest' }],
  ['POST', '/plugins/vieux/sshfs/enable', 'plugin.enable', { name: 'vieux/sshfs' }],
  ['POST', '/plugins/vieux/sshfs/disable', 'plugin.disable', { name: 'vieux/sshfs' }],
  ['POST', '/plugins/vieux/sshfs/push', 'plugin.push', { name: 'vieux/sshfs' }],
  ['POST', '/plugins/vieux/sshfs/upgrade', 'plugin.upgrade', { name: 'vieux/sshfs' }],
  ['POST', '/plugins/vieux/sshfs/set', 'plugin.set', { name: 'vieux/sshfs' }],
  ['POST', '/plugins/pull/set', 'plugin.set', { name: 'pull' }],
  ['DELETE', '/plugins/vieux/sshfs', 'plugin.delete', { name: 'vieux/sshfs' }],
  // distribution and debug
  [
    'GET',
    '/distribution/docker.io/library/busybox:1.36/json',
    'distribution.inspect',
    {
      name: 'docker.io/library/busybox:1.36',
    },
  ],
  ['GET', '/debug/vars', 'debug.vars'],
  ['GET', '/debug/pprof/', 'debug.pprof.index'],
  ['GET', '/debug/pprof/profile', 'debug.pprof.profile'],
  ['GET', '/debug/pprof/heap', 'debug.pprof.lookup', { profile: 'heap' }],
];

// Requests dockerd answers with 404 "page not found": the gateway must see them as unknown.
const UNKNOWN: readonly (readonly [method: string, path: string])[] = [
  ['GET', '/nope'],
  ['GET', '/'],
  ['GET', ''],
  ['GET', 'containers/json'],
  ['GET', '/images/busybox'], // there is no GET /images/{name}
  ['GET', '/containers/json/'], // a trailing slash is significant
  ['GET', '/info/'],
  ['GET', '/debug/pprof'],
  ['GET', '/debug/pprof/a/b'],
  ['HEAD', '/info'], // HEAD is routed only for /_ping and the archive
  ['HEAD', '/containers/json'],
  ['HEAD', '/images/busybox/json'],
  ['get', '/info'], // methods match exactly
  ['OPTIONS', '/info'],
  ['PATCH', '/containers/abc/update'],
  ['POST', '/info'], // wrong method
  ['DELETE', '/exec/abc'], // exec instances cannot be deleted
  ['GET', '/containers/abc/start'],
  ['PUT', '/containers/abc'],
  ['GET', '/services/a/b'], // `{id}` is one segment
  ['GET', '/secrets/a/b'],
  ['POST', '/containers/abc/copy'], // removed from the API long ago
  ['GET', '/images/a\nb/json'], // `.` does not match "\n" in Go
  ['GET', '/swarm/'],
  ['GET', '/Containers/json'], // paths match case-sensitively
];

describe('the Engine API route table', () => {
  for (const [method, path, name, params] of MATCHES) {
    it(`routes ${method} ${JSON.stringify(path)} to ${name}`, () => {
      const found = matchRoute(method, path);
      assert.ok(found, `no route matched ${method} ${path}`);
      assert.equal(found.endpoint.name, name);
      assert.deepEqual({ ...found.params }, params ?? {});
    });
  }

  for (const [method, path] of UNKNOWN) {
    it(`finds no route for ${method} ${JSON.stringify(path)}`, () => {
      assert.equal(matchRoute(method, path)?.endpoint.name, undefined);
    });
  }

  it('marks attach and exec start as TCP hijacks, attach/ws as a WebSocket, session and grpc as h2c', () => {
    assert.equal(matchRoute('POST', '/containers/abc/attach')?.endpoint.hijack, 'tcp');
    assert.equal(matchRoute('POST', '/exec/abc/start')?.endpoint.hijack, 'tcp');
    assert.equal(matchRoute('GET', '/containers/abc/attach/ws')?.endpoint.hijack, 'websocket');
    assert.equal(matchRoute('POST', '/session')?.endpoint.hijack, 'h2c');
    assert.equal(matchRoute('POST', '/grpc')?.endpoint.hijack, 'h2c');
    const hijackers = ROUTES.filter((e) => e.hijack !== undefined).map((e) => e.name);
    assert.deepEqual(hijackers.sort(), [
      'container.attach',
      'container.attach.ws',
      'exec.start',
      'grpc',
      'session',
    ]);
  });

  it('routes HEAD only for the ping and the archive stat, as dockerd does', () => {
    const heads = ROUTES.filter((e) => e.method === 'HEAD').map((e) => e.name);
    assert.deepEqual(heads.sort(), ['container.archive.head', 'system.ping.head']);
  });

  it('marks the reads that hand out secrets or file contents as sensitive', () => {
    for (const name of [
      'container.archive.get',
      'container.export',
      'container.attach',
      'container.attach.ws',
      'container.logs',
      'container.inspect',
      'exec.start',
      'image.save',
      'image.save.many',
      'swarm.inspect',
      'swarm.unlockkey',
    ]) {
      assert.equal(findEndpointByName(name)?.sensitive, true, `${name} should be sensitive`);
    }
    assert.notEqual(findEndpointByName('container.list')?.sensitive, true);
  });

  it('marks the open-ended streams so no fixed timeout cuts them', () => {
    for (const name of ['system.events', 'container.logs', 'container.stats', 'container.wait', 'build']) {
      assert.ok(findEndpointByName(name)?.streams, `${name} should stream`);
    }
    assert.equal(findEndpointByName('container.archive.put')?.streams, 'request');
  });

  it('declares the body kind the canonicalizer must handle', () => {
    assert.equal(findEndpointByName('container.create')?.body, 'json');
    assert.equal(findEndpointByName('container.exec')?.body, 'json');
    assert.equal(findEndpointByName('exec.start')?.body, 'json');
    assert.equal(findEndpointByName('build')?.body, 'tar');
    assert.equal(findEndpointByName('container.archive.put')?.body, 'tar');
    assert.equal(findEndpointByName('image.create')?.body, 'binary');
    assert.equal(findEndpointByName('container.start')?.body, 'none');
  });

  it('gives every endpoint a unique dotted lower-case name', () => {
    assert.equal(new Set(ENDPOINT_NAMES).size, ENDPOINT_NAMES.length);
    assert.equal(ENDPOINT_NAMES.length, ROUTES.length);
    for (const name of ENDPOINT_NAMES) assert.match(name, /^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/);
  });

  it('gives every endpoint an area, a summary, a body kind and a path starting with "/"', () => {
    for (const e of ROUTES) {
      assert.ok(e.area.length > 0, `${e.name} has no area`);
      assert.ok(e.summary.length > 0, `${e.name} has no summary`);
      assert.ok(['json', 'tar', 'binary', 'none'].includes(e.body), `${e.name} has body ${e.body}`);
      assert.ok(e.path.startsWith('/'), `${e.name} path ${e.path}`);
      for (const alt of e.altPaths ?? []) assert.ok(alt.startsWith('/'), `${e.name} alt path ${alt}`);
    }
  });

  it('treats GET and HEAD as reads, except the WebSocket attach that carries stdin', () => {
    for (const e of ROUTES) {
      if (e.method !== 'GET' && e.method !== 'HEAD') continue;
      assert.equal(e.readonly, e.name !== 'container.attach.ws', `${e.name} readonly`);
    }
    assert.equal(findEndpointByName('container.create')?.readonly, false);
  });

  it('keeps areas on distinct first path segments, so the order of areas cannot change a match', () => {
    const areaOfSegment = new Map<string, string>();
    for (const e of ROUTES) {
      for (const path of [e.path, ...(e.altPaths ?? [])]) {
        const segment = path.split('/')[1]!;
        const area = areaOfSegment.get(segment);
        assert.ok(area === undefined || area === e.area, `/${segment} is used by ${area} and ${e.area}`);
        areaOfSegment.set(segment, e.area);
      }
    }
  });

  it('reaches every route: each path template, filled in, matches its own endpoint', () => {
    for (const e of ROUTES) {
      const path = e.path.replace(/\{[a-zA-Z]+[*+]?\}/g, 'x1');
      assert.equal(ROUTE_TABLE.match(e.method, path)?.endpoint.name, e.name, `${e.method} ${path}`);
    }
  });

  it('finds endpoints by name and answers undefined for an unknown name', () => {
    assert.equal(findEndpointByName('image.create')?.path, '/images/create');
    assert.equal(findEndpointByName('container.exec')?.path, '/containers/{id*}/exec');
    assert.equal(findEndpointByName('no.such.endpoint'), undefined);
  });

  it('hands out frozen endpoints and params', () => {
    const found = matchRoute('GET', '/containers/abc/json')!;
    assert.ok(Object.isFrozen(found.endpoint));
    assert.ok(Object.isFrozen(found.params));
    assert.ok(Object.isFrozen(ROUTES));
  });
});

describe('compileRouteTable', () => {
  const base: Endpoint = {
    name: 'x.get',
    method: 'GET',
    path: '/x',
    area: 'system',
    summary: 's',
    body: 'none',
    readonly: true,
  };

  function compileError(routes: readonly Endpoint[]): DockwardError {
    try {
      compileRouteTable(routes);
    } catch (err) {
      assert.ok(err instanceof DockwardError);
      return err;
    }
    assert.fail('compileRouteTable accepted a bad table');
  }

  it('refuses a table that names two endpoints alike', () => {
    const err = compileError([base, { ...base, path: '/y' }]);
    assert.equal(err.code, 'DW_E_INTERNAL');
    assert.match(err.message, /x\.get.*declared twice/);
  });

  it('refuses the same method and path declared twice, which would leave one unreachable', () => {
    assert.match(compileError([base, { ...base, name: 'x.again' }]).message, /repeats route GET \/x/);
  });

  it('refuses malformed paths and names', () => {
    assert.match(compileError([{ ...base, path: 'x' }]).message, /does not start with/);
    assert.match(compileError([{ ...base, path: '/{id}' }]).message, /malformed segment/);
    assert.match(compileError([{ ...base, path: '/x//y' }]).message, /malformed segment/);
    assert.match(compileError([{ ...base, path: '/x/{id:.*}' }]).message, /malformed segment/);
    assert.match(compileError([{ ...base, path: '/x/{id}/{id}' }]).message, /repeats variable/);
    assert.match(compileError([{ ...base, name: 'X.Get' }]).message, /dotted lower-case/);
  });

  it('refuses a hijacking endpoint that does not stream both ways', () => {
    assert.match(compileError([{ ...base, hijack: 'tcp' }]).message, /stream both ways/);
  });

  it('matches in declaration order: the first route whose path and method match wins', () => {
    const wide: Endpoint = { ...base, name: 'wide', method: 'DELETE', path: '/x/{rest*}' };
    const narrow: Endpoint = { ...base, name: 'narrow', method: 'DELETE', path: '/x/{a}/y/{b}' };
    assert.equal(compileRouteTable([narrow, wide]).match('DELETE', '/x/1/y/2')?.endpoint.name, 'narrow');
    assert.equal(compileRouteTable([wide, narrow]).match('DELETE', '/x/1/y/2')?.endpoint.name, 'wide');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventTarget } from './events-watcher.js';
import { OwnerCache } from './owner-cache.js';
import { OWNER_LABEL } from './owner-label.js';
import { type DockerCall, factsOf, Ownership } from './ownership.js';

/**
 * A stand-in for dockerd's inspect answers (no daemon in a unit test; test/e2e/gateway-ownership
 * runs the same checks against a real one). Counts the calls, so the cache can be seen working.
 */
function fakeDocker() {
  const containers = new Map<string, { Id: string; Name: string; owner?: string }>();
  const volumes = new Map<string, { owner?: string }>();
  const execs = new Map<string, string>();
  /** image name → owner ('' for a pulled, unlabelled image) */
  const images = new Map<string, string>();
  const calls: string[] = [];
  const call: DockerCall = async (method, path, body) => {
    calls.push(`${method} ${path}`);
    let m = /^\/containers\/([^/]+)\/json$/.exec(path);
    if (m) {
      const c = containers.get(m[1]!) ?? [...containers.values()].find((x) => x.Id.startsWith(m![1]!));
      if (!c) return { status: 404, json: { message: 'No such container' } };
      return {
        status: 200,
        json: {
          Id: c.Id,
          Name: `/${c.Name}`,
          Config: { Labels: c.owner ? { [OWNER_LABEL]: c.owner } : null },
        },
      };
    }
    m = /^\/exec\/([^/]+)\/json$/.exec(path);
    if (m) {
      const cid = execs.get(m[1]!);
      return cid ? { status: 200, json: { ID: m[1], ContainerID: cid } } : { status: 404, json: {} };
    }
    if (method === 'POST' && path === '/volumes/create') {
      const b = body as { Name: string; Labels: Record<string, string> };
      if (!volumes.has(b.Name)) volumes.set(b.Name, { owner: b.Labels[OWNER_LABEL]! });
      const v = volumes.get(b.Name)!;
      return { status: 201, json: { Name: b.Name, Labels: v.owner ? { [OWNER_LABEL]: v.owner } : {} } };
    }
    m = /^\/images\/(.+)\/json$/.exec(path);
    if (m) {
      const owner = images.get(m[1]!);
      if (owner === undefined) return { status: 404, json: {} };
      return {
        status: 200,
        json: { Id: 'sha256:1', Config: { Labels: owner ? { [OWNER_LABEL]: owner } : null } },
      };
    }
    m = /^\/volumes\/([^/]+)$/.exec(path);
    if (m) {
      const v = volumes.get(m[1]!);
      if (!v) return { status: 404, json: {} };
      return { status: 200, json: { Name: m[1], Labels: v.owner ? { [OWNER_LABEL]: v.owner } : {} } };
    }
    return { status: 500, json: {} };
  };
  const put = (name: string, id: string, owner?: string) =>
    containers.set(name, { Id: id, Name: name, ...(owner ? { owner } : {}) });
  return { call, calls, containers, volumes, execs, images, put };
}

describe('Ownership.check', () => {
  it("allows the identity's own objects and refuses another's, saying whose and where", async () => {
    const d = fakeDocker();
    d.put('mine', 'aaa111', 'alice');
    d.put('theirs', 'bbb222', 'bob');
    const own = new Ownership(d.call);
    assert.equal(await own.check([{ kind: 'container', ref: 'mine', via: 'path' }], 'alice'), undefined);
    const err = await own.check([{ kind: 'container', ref: 'theirs', via: 'HostConfig.PidMode' }], 'alice');
    assert.equal(err?.code, 'DW_E_DENIED');
    assert.equal(err?.message, 'container theirs (named in HostConfig.PidMode) belongs to another identity');
  });

  it('treats a missing owner label as not yours (fail closed)', async () => {
    const d = fakeDocker();
    d.put('legacy', 'ccc333');
    const err = await new Ownership(d.call).check(
      [{ kind: 'container', ref: 'legacy', via: 'path' }],
      'alice',
    );
    assert.match(err?.message ?? '', /container legacy belongs to another identity \(it has no owner label/);
  });

  it('checks an exec through its container', async () => {
    const d = fakeDocker();
    d.put('theirs', 'bbb222', 'bob');
    d.execs.set('e1', 'bbb222');
    const own = new Ownership(d.call);
    assert.match(
      (await own.check([{ kind: 'exec', ref: 'e1', via: 'path' }], 'alice'))!.message,
      /theirs \(of exec e1\)/,
    );
    assert.equal(await own.check([{ kind: 'exec', ref: 'e1', via: 'path' }], 'bob'), undefined);
    assert.equal(
      (await own.check([{ kind: 'exec', ref: 'nope', via: 'path' }], 'bob'))?.code,
      'DW_E_NOT_FOUND',
    );
  });

  it('answers a missing object as dockerd would (404), never forwarding a guess', async () => {
    const err = await new Ownership(fakeDocker().call).check(
      [{ kind: 'container', ref: 'ghost', via: 'path' }],
      'a',
    );
    assert.equal(err?.code, 'DW_E_NOT_FOUND');
    assert.equal(err?.message, 'No such container: ghost');
  });

  it('creates a missing named volume labelled for the identity, and refuses one that another made first', async () => {
    const d = fakeDocker();
    const own = new Ownership(d.call);
    const ref = { kind: 'volume' as const, ref: 'data', via: 'HostConfig.Binds', createIfMissing: true };
    assert.equal(await own.check([ref], 'alice'), undefined);
    assert.equal(d.volumes.get('data')?.owner, 'alice');
    assert.match(
      (await own.check([{ ...ref }], 'bob'))?.message ?? '',
      /volume data .* belongs to another identity/,
    );
  });

  it("refuses another identity's built image but lets shared (unlabelled) images follow the policy", async () => {
    const d = fakeDocker();
    d.images.set('bobs:1', 'bob');
    d.images.set('busybox', '');
    const own = new Ownership(d.call);
    const img = (ref: string, extra = {}) => [
      { kind: 'image' as const, ref, via: 'path', sharedIfUnlabelled: true, ...extra },
    ];
    assert.match(
      (await own.check(img('bobs:1'), 'alice'))?.message ?? '',
      /image bobs:1 belongs to another identity/,
    );
    assert.equal(await own.check(img('bobs:1'), 'bob'), undefined);
    assert.equal(await own.check(img('busybox'), 'alice'), undefined);
    assert.equal(await own.check(img('new:tag', { missingOk: true }), 'alice'), undefined);
    assert.equal((await own.check(img('gone'), 'alice'))?.code, 'DW_E_NOT_FOUND');
  });

  it('refuses (fails closed) when dockerd cannot be asked', async () => {
    const own = new Ownership(async () => {
      throw new Error('connect ENOENT /var/run/docker.sock');
    });
    await assert.rejects(own.check([{ kind: 'container', ref: 'x', via: 'path' }], 'a'), {
      code: 'DW_E_UPSTREAM',
      message: /cannot check who owns container x: connect ENOENT/,
    });
  });
});

describe('the lookup cache', () => {
  it('is used only while the events watcher is live, and an event drops the entry', async () => {
    const d = fakeDocker();
    d.put('web', 'aaa111', 'alice');
    const cache = new OwnerCache();
    const own = new Ownership(d.call, { cache });
    const ref = [{ kind: 'container' as const, ref: 'web', via: 'path' }];
    await own.check(ref, 'alice');
    await own.check(ref, 'alice');
    assert.equal(d.calls.length, 2, 'watcher down: every request looks up');
    cache.setLive(true);
    await own.check(ref, 'alice');
    await own.check(ref, 'alice');
    assert.equal(d.calls.length, 3, 'watcher up: looked up once');
    // admin removes it and makes its own "web": the destroy and create events drop the entry
    d.put('web', 'fff999', 'boss');
    const t = eventTarget(
      JSON.stringify({
        Type: 'container',
        Action: 'destroy',
        Actor: { ID: 'aaa111', Attributes: { name: 'web' } },
      }),
    );
    assert.ok(t);
    cache.invalidate(t.kind, t.id, t.name);
    assert.match((await own.check(ref, 'alice'))?.message ?? '', /belongs to another identity/);
    cache.setLive(false);
    assert.equal(cache.size, 0);
  });

  it('does not keep an answer that a concurrent event may have outdated', () => {
    const cache = new OwnerCache();
    cache.setLive(true);
    const token = cache.begin();
    cache.invalidate('container', 'x', 'web');
    cache.store('container', 'web', { exists: true, id: 'x', name: 'web', owner: 'a' }, token);
    assert.equal(cache.get('container', 'web'), undefined);
    cache.store('container', 'web', { exists: true, id: 'x', name: 'web', owner: 'a' }, cache.begin());
    assert.equal(cache.get('container', 'web')?.owner, 'a');
  });

  it("reads events of containers, volumes and networks, with a rename's old name", () => {
    assert.deepEqual(
      eventTarget(
        '{"Type":"container","Action":"rename","Actor":{"ID":"abc","Attributes":{"name":"new","oldName":"/old"}}}',
      ),
      { kind: 'container', id: 'abc', name: 'new', oldName: 'old' },
    );
    assert.deepEqual(
      eventTarget('{"Type":"volume","Action":"destroy","Actor":{"ID":"v1","Attributes":{}}}'),
      {
        kind: 'volume',
        id: 'v1',
        name: undefined,
      },
    );
    assert.equal(eventTarget('{"Type":"image","Action":"pull","Actor":{"ID":"x"}}'), undefined);
    assert.equal(eventTarget('not json'), undefined);
  });
});

describe('predefined networks', () => {
  it("are dockerd's own none and default bridge, never a network that only takes the name", () => {
    const bridgeOpts = { 'com.docker.network.bridge.default_bridge': 'true' };
    assert.equal(factsOf('network', { Name: 'none', Driver: 'null', Labels: {} }).predefined, true);
    assert.equal(
      factsOf('network', { Name: 'bridge', Driver: 'bridge', Options: bridgeOpts }).predefined,
      true,
    );
    // an admin's network called bridge on a daemon started with --bridge=none
    assert.equal(factsOf('network', { Name: 'bridge', Driver: 'bridge', Options: {} }).predefined, undefined);
    assert.equal(factsOf('network', { Name: 'host', Driver: 'host' }).predefined, undefined);
    const labelled = { Name: 'none', Driver: 'null', Labels: { [OWNER_LABEL]: 'op' } };
    assert.equal(factsOf('network', labelled).predefined, undefined);
  });

  it('are usable by every identity; an unlabelled network of admin is not', async () => {
    const nets: Record<string, unknown> = {
      none: { Id: 'n0', Name: 'none', Driver: 'null' },
      host: { Id: 'h0', Name: 'host', Driver: 'host' },
      admnet: { Id: 'a0', Name: 'admnet', Driver: 'bridge' },
      opnet: { Id: 'o0', Name: 'opnet', Driver: 'bridge', Labels: { [OWNER_LABEL]: 'op' } },
    };
    const call: DockerCall = async (_m, path) => {
      const n = nets[path.replace('/networks/', '')];
      return n ? { status: 200, json: n } : { status: 404, json: {} };
    };
    const own = new Ownership(call);
    const check = (ref: string) => own.check([{ kind: 'network', ref, via: 'path' }], 'op');
    assert.equal(await check('none'), undefined);
    assert.equal(await check('opnet'), undefined);
    assert.match(String((await check('admnet'))?.message), /^network admnet belongs to another identity/);
    assert.match(String((await check('host'))?.message), /^network host belongs to another identity/);
    assert.match(String((await check('gone'))?.message), /^network gone not found$/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTES } from '../../docker/endpoints/index.js';
import { hostConfigRefs, objectRefs } from './references.js';

const endpoint = (name: string) => {
  const e = ROUTES.find((r) => r.name === name);
  assert.ok(e, name);
  return e;
};
const none = new URLSearchParams();

describe('objectRefs', () => {
  it('names the object of every container, exec, volume and network route with a path parameter', () => {
    // A new route that names an object in its path is covered without a change here.
    for (const e of ROUTES) {
      if (!['containers', 'exec', 'volumes', 'networks'].includes(e.area)) continue;
      const param = /\{(\w+)[*+]?\}/.exec(e.path)?.[1];
      if (!param) continue;
      const refs = objectRefs(e, { [param]: 'x' }, none, undefined);
      assert.ok(refs.length >= 1, `${e.name} names no object`);
    }
  });

  it('maps an exec id to an exec lookup and a volume name to a volume', () => {
    assert.deepEqual(objectRefs(endpoint('exec.start'), { id: 'e1' }, none, {}), [
      { kind: 'exec', ref: 'e1', via: 'path' },
    ]);
    assert.deepEqual(objectRefs(endpoint('volume.delete'), { name: 'v' }, none, undefined), [
      { kind: 'volume', ref: 'v', via: 'path' },
    ]);
  });

  it('reads the container of a commit and of a network connect', () => {
    assert.deepEqual(objectRefs(endpoint('image.commit'), {}, new URLSearchParams('container=c1'), {}), [
      { kind: 'container', ref: 'c1', via: 'query container' },
    ]);
    const refs = objectRefs(endpoint('network.connect'), { id: 'n' }, none, { Container: 'c2' });
    assert.deepEqual(
      refs.map((r) => `${r.kind}:${r.ref}`),
      ['network:n', 'container:c2'],
    );
  });

  it('finds container:X modes, VolumesFrom, Links and named volumes in a create body', () => {
    const refs = objectRefs(endpoint('container.create'), {}, none, {
      Image: 'x',
      HostConfig: {
        PidMode: 'container:a',
        IpcMode: 'container:b',
        NetworkMode: 'container:c',
        VolumesFrom: ['d:ro', 'e'],
        Links: ['/f:alias'],
        Binds: ['vol1:/data', '/host:/h', 'vol2:/x:ro'],
        Mounts: [
          { Type: 'volume', Source: 'vol3', Target: '/m' },
          { Type: 'volume', Target: '/anon' },
          { Type: 'bind', Source: '/etc', Target: '/e' },
        ],
      },
    });
    assert.deepEqual(
      refs.map((r) => `${r.kind}:${r.ref}:${r.via}${r.createIfMissing ? ':create' : ''}`),
      [
        'container:a:HostConfig.PidMode',
        'container:b:HostConfig.IpcMode',
        'container:c:HostConfig.NetworkMode',
        'container:d:HostConfig.VolumesFrom',
        'container:e:HostConfig.VolumesFrom',
        'container:f:HostConfig.Links',
        'volume:vol1:HostConfig.Binds:create',
        'volume:vol2:HostConfig.Binds:create',
        'volume:vol3:HostConfig.Mounts:create',
      ],
    );
  });

  it('ignores host and default modes and anonymous volumes', () => {
    assert.deepEqual(
      hostConfigRefs(
        { PidMode: 'host', NetworkMode: 'default', Binds: ['/anon'], Mounts: [{ Type: 'tmpfs' }] },
        'H',
      ),
      [],
    );
  });

  it('names the networks a create body attaches: NetworkMode and EndpointsConfig keys', () => {
    const refs = (body: unknown) =>
      objectRefs(endpoint('container.create'), {}, new URLSearchParams(), body).map(
        (r) => `${r.ref} ${r.via}`,
      );
    assert.deepEqual(refs({ HostConfig: { NetworkMode: 'admnet' } }), ['admnet HostConfig.NetworkMode']);
    assert.deepEqual(
      refs({
        HostConfig: { NetworkMode: 'admnet' },
        NetworkingConfig: { EndpointsConfig: { admnet: {}, other: {} } },
      }),
      [
        'admnet HostConfig.NetworkMode',
        'admnet NetworkingConfig.EndpointsConfig',
        'other NetworkingConfig.EndpointsConfig',
      ],
    );
    // bridge is looked up (only dockerd's own is shared); default, none and host mode name none
    assert.deepEqual(refs({ HostConfig: { NetworkMode: 'bridge' } }), ['bridge HostConfig.NetworkMode']);
    for (const mode of ['default', 'none', 'host', ''])
      assert.deepEqual(
        refs({ HostConfig: { NetworkMode: mode }, NetworkingConfig: { EndpointsConfig: { [mode]: {} } } }),
        [],
      );
    // host attached to a container of another mode is a network like any other (fail closed)
    assert.deepEqual(
      refs({ HostConfig: { NetworkMode: 'default' }, NetworkingConfig: { EndpointsConfig: { host: {} } } }),
      ['host NetworkingConfig.EndpointsConfig'],
    );
  });

  it("names a built image's rm, tag and push, and a tag's target, as shared when unlabelled", () => {
    const refs = objectRefs(
      endpoint('image.tag'),
      { name: 'app:1' },
      new URLSearchParams('repo=app&tag=latest'),
      undefined,
    );
    assert.deepEqual(refs, [
      { kind: 'image', ref: 'app:1', via: 'path', sharedIfUnlabelled: true },
      { kind: 'image', ref: 'app:latest', via: 'query repo', sharedIfUnlabelled: true, missingOk: true },
    ]);
    assert.equal(objectRefs(endpoint('image.delete'), { name: 'x' }, none, undefined).length, 1);
    assert.equal(objectRefs(endpoint('image.inspect'), { name: 'x' }, none, undefined).length, 0);
  });

  it('reads a legacy start body as host configuration', () => {
    const refs = objectRefs(endpoint('container.start'), { id: 'me' }, none, { VolumesFrom: ['other'] });
    assert.deepEqual(
      refs.map((r) => `${r.kind}:${r.ref}`),
      ['container:me', 'container:other'],
    );
  });
});

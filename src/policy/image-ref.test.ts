import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imagePatternProblem, normalizeImagePattern, parseImageRef } from './image-ref.js';

describe('parseImageRef', () => {
  const named: [string, string, string?][] = [
    ['busybox', 'docker.io/library/busybox'],
    ['busybox:1.36', 'docker.io/library/busybox', '1.36'],
    ['library/busybox', 'docker.io/library/busybox'],
    ['docker.io/busybox', 'docker.io/library/busybox'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox'],
    ['team/app:v1', 'docker.io/team/app', 'v1'],
    ['registry.example.com/team/app', 'registry.example.com/team/app'],
    ['localhost/app', 'localhost/app'],
    ['localhost:5000/app:dev', 'localhost:5000/app', 'dev'],
    ['Registry/app', 'Registry/app'],
    [`busybox@sha256:${'a'.repeat(64)}`, 'docker.io/library/busybox'],
  ];
  for (const [ref, repository, tag] of named) {
    it(`normalizes ${ref} to ${repository}`, () => {
      const r = parseImageRef(ref);
      assert.equal(r.kind, 'named');
      if (r.kind !== 'named') return;
      assert.equal(r.repository, repository);
      assert.equal(r.tag, tag);
    });
  }

  it('treats sha256 ids and bare hex names as image ids (dockerd falls back to an id prefix)', () => {
    for (const ref of [`sha256:${'b'.repeat(64)}`, 'c0ffee', 'abc123'])
      assert.equal(parseImageRef(ref).kind, 'id');
  });

  it('reports references dockerd would refuse', () => {
    for (const ref of ['BusyBox', 'busybox:', 'a//b', 'busybox@sha256:xyz', '']) {
      assert.equal(parseImageRef(ref).kind, 'invalid', ref);
    }
  });
});

describe('image patterns', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox'],
    ['library/*', 'docker.io/library/*'],
    ['team/*', 'docker.io/team/*'],
    ['registry.example.com/team/**', 'registry.example.com/team/**'],
    ['**', '**'],
    ['*/team/app', '*/team/app'],
  ];
  for (const [pattern, normalized] of cases) {
    it(`normalizes the pattern ${pattern} to ${normalized}`, () =>
      assert.equal(normalizeImagePattern(pattern), normalized));
  }
  it('refuses patterns with a tag or digest, and a lone "*"', () => {
    assert.match(imagePatternProblem('busybox:1.36') ?? '', /without a tag or digest/);
    assert.match(imagePatternProblem('*') ?? '', /write "\*\*"/);
    assert.equal(imagePatternProblem('localhost:5000/app'), undefined);
  });
});

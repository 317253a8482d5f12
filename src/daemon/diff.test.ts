import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { unifiedDiff } from './diff.js';
import { harden } from './harden.js';
import { serializeDaemonJson } from './parse.js';

const dir = mkdtempSync(join(tmpdir(), 'dockward-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** GNU diff's unified output for the same two texts (the reference implementation). */
function gnuDiff(before: string, after: string): string {
  writeFileSync(join(dir, 'old'), before);
  writeFileSync(join(dir, 'new'), after);
  const res = spawnSync(
    'diff',
    ['-u', '--label', 'a/daemon.json', '--label', 'b/daemon.json', 'old', 'new'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  assert.ok(res.status === 0 || res.status === 1, res.stderr);
  return res.stdout;
}

/** Applies a diff with GNU patch and returns the patched text. */
function applyPatch(before: string, patch: string): string {
  writeFileSync(join(dir, 'target'), before);
  const res = spawnSync('patch', ['--quiet', '--force', 'target'], {
    cwd: dir,
    input: patch,
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  return readFileSync(join(dir, 'target'), 'utf8');
}

const lines = (n: number, tag = ''): string =>
  Array.from({ length: n }, (_, i) => `line ${i + 1}${tag}`).join('\n');

describe('unifiedDiff', () => {
  it('returns nothing for equal texts', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n'), '');
  });

  it('writes the --- and +++ headers and an @@ hunk like diff -u', () => {
    const before = '{\n  "icc": true\n}\n';
    const afterText = '{\n  "icc": false,\n  "live-restore": true\n}\n';
    const ours = unifiedDiff(before, afterText);
    assert.equal(
      ours,
      '--- a/daemon.json\n+++ b/daemon.json\n@@ -1,3 +1,4 @@\n {\n-  "icc": true\n+  "icc": false,\n+  "live-restore": true\n }\n',
    );
    assert.equal(ours, gnuDiff(before, afterText));
  });

  it('matches GNU diff on changes far apart (two hunks) and on a change at the start and the end', () => {
    const base = lines(30);
    const far = base.replace('line 2\n', 'line two\n').replace('line 28\n', 'line 28 changed\n');
    assert.equal(unifiedDiff(`${base}\n`, `${far}\n`), gnuDiff(`${base}\n`, `${far}\n`));
    const ends = `first\n${lines(10)}\nlast\n`;
    assert.equal(unifiedDiff(`${lines(10)}\n`, ends), gnuDiff(`${lines(10)}\n`, ends));
  });

  it('marks a missing final newline the way diff does', () => {
    const ours = unifiedDiff('a\nb', 'a\nb\n');
    assert.equal(ours, gnuDiff('a\nb', 'a\nb\n'));
    assert.match(ours, /\\ No newline at end of file/);
  });

  it('handles an empty side', () => {
    assert.equal(unifiedDiff('', 'x\n'), gnuDiff('', 'x\n'));
    assert.equal(unifiedDiff('x\ny\n', ''), gnuDiff('x\ny\n', ''));
  });

  it('produces a patch that GNU patch applies to get the hardened file', () => {
    const before = serializeDaemonJson({
      'data-root': '/srv/docker',
      icc: true,
      'log-opts': { 'max-size': '50m' },
    });
    const { text } = harden(JSON.parse(before), 'remote-tls');
    assert.equal(applyPatch(before, unifiedDiff(before, text)), text);
  });
});

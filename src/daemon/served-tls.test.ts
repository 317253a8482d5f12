import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { processStartTime, servedTlsFiles, tlsFilesNewerThan } from './served-tls.js';

describe('whether dockerd serves the TLS files on disk', () => {
  const work = mkdtempSync(join(tmpdir(), 'dw-served-tls-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("reads a process's start time from /proc, before now and after the machine booted", () => {
    const started = processStartTime(process.pid);
    assert.ok(started !== undefined);
    assert.ok(started <= Date.now(), 'not in the future');
    assert.ok(
      started > Date.now() - process.uptime() * 1000 - 5_000,
      'within this process lifetime (+ /proc rounding)',
    );
    assert.equal(processStartTime(2 ** 22 + 1), undefined, 'no such pid');
  });

  it('lists tlscacert, tlscert and tlskey of a configuration', () => {
    assert.deepEqual(
      servedTlsFiles({
        tlscacert: '/a/ca.pem',
        tlscert: '/a/cert.pem',
        tlskey: '/a/key.pem',
        tlsverify: true,
      }),
      ['/a/ca.pem', '/a/cert.pem', '/a/key.pem'],
    );
    assert.deepEqual(servedTlsFiles({ tlsverify: true }), []);
  });

  it('names the files written after the process started, not those written before or missing', async () => {
    const old = join(work, 'ca.pem');
    const fresh = join(work, 'cert.pem');
    writeFileSync(old, 'x');
    writeFileSync(fresh, 'y');
    const started = Date.now() - 60_000;
    utimesSync(old, new Date(started - 3_600_000), new Date(started - 3_600_000));
    assert.deepEqual(await tlsFilesNewerThan([old, fresh, join(work, 'missing.pem')], started), [fresh]);
    assert.deepEqual(await tlsFilesNewerThan([old, fresh], Date.now() + 60_000), []);
  });
});

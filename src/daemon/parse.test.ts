import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isDockwardError, toExitCode } from '../errors.js';
import {
  analyzeDaemonJson,
  DaemonConfigError,
  decodeDaemonJsonBytes,
  parseDaemonJson,
  serializeDaemonJson,
} from './parse.js';

const fixtureBytes = (name: string): Uint8Array =>
  readFileSync(new URL(`../../test/fixtures/daemon/${name}`, import.meta.url));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

function errorsOf(text: string, engineMajor?: number) {
  return analyzeDaemonJson(text, engineMajor === undefined ? {} : { engineMajor }).issues.filter(
    (i) => i.severity === 'error',
  );
}

describe('parseDaemonJson', () => {
  it('accepts a file that starts with a UTF-8 byte order mark, as dockerd does', () => {
    const parsed = parseDaemonJson(fixtureBytes('daemon-bom.json'));
    assert.deepEqual(parsed.config, { icc: false, 'log-opts': { 'max-size': '10m' } });
    assert.deepEqual(parsed.keyOrder, ['icc', 'log-opts']);
    assert.deepEqual(parseDaemonJson('\uFEFF{"debug": true}').config, { debug: true });
  });

  it('decodes UTF-16 with a byte order mark, which Windows PowerShell writes', () => {
    const text = '{"debug": true}';
    const le = new Uint8Array([0xff, 0xfe, ...Buffer.from(text, 'utf16le')]);
    assert.equal(decodeDaemonJsonBytes(le), text);
    assert.deepEqual(parseDaemonJson(le).config, { debug: true });
  });

  it('reads an empty or blank file as an empty configuration', () => {
    assert.deepEqual(parseDaemonJson('').config, {});
    assert.deepEqual(parseDaemonJson(' \n\t\n').config, {});
  });

  it('reports the line and column of invalid JSON', () => {
    const err = thrown(() =>
      parseDaemonJson(fixtureBytes('daemon-invalid.json'), { source: 'daemon-invalid.json' }),
    );
    assert.ok(err instanceof DaemonConfigError);
    assert.equal(err.code, 'DW_E_INPUT');
    assert.equal(toExitCode(err), 2);
    const issue = err.issues[0]!;
    assert.equal(issue.code, 'json-syntax');
    // The missing comma is noticed where the next key starts: line 4, column 3.
    assert.equal(issue.line, 4);
    assert.equal(issue.column, 3);
    assert.match(err.message, /daemon-invalid\.json, line 4, column 3: invalid JSON/);
    assert.match(err.message, /comma may be missing/);
  });

  it('refuses trailing commas, comments and single quotes like Go does', () => {
    assert.equal(errorsOf('{"icc": false,}')[0]?.code, 'json-syntax');
    assert.equal(errorsOf('{"icc": false} // no')[0]?.code, 'json-syntax');
    assert.equal(errorsOf("{'icc': false}")[0]?.code, 'json-syntax');
  });

  it('refuses a top level that is not an object', () => {
    const [issue] = errorsOf('["icc"]');
    assert.equal(issue?.code, 'root-not-object');
    assert.match(issue?.message ?? '', /found array/);
  });

  it('names an unknown key and the closest known one', () => {
    const [issue] = errorsOf('{\n  "tlsverfy": true\n}');
    assert.equal(issue?.code, 'unknown-key');
    assert.equal(issue?.suggestion, 'tlsverify');
    assert.match(issue?.message ?? '', /unknown key "tlsverfy" \(did you mean "tlsverify"\?\)/);
    assert.equal(issue?.line, 2);
    assert.equal(issue?.column, 3);
  });

  it('names the key, the expected type and what it found for a wrong type', () => {
    const issues = errorsOf('{"log-opts": {"max-size": 10}}');
    assert.equal(issues.length, 1);
    assert.equal(issues[0]?.code, 'wrong-type');
    assert.equal(issues[0]?.path, 'log-opts.max-size');
    assert.match(issues[0]?.message ?? '', /log-opts\.max-size must be a string, found number 10/);
  });

  it('collects every error of a file instead of stopping at the first', () => {
    const err = thrown(() => parseDaemonJson(fixtureBytes('daemon-typo.json'), { source: 'daemon.json' }));
    assert.ok(err instanceof DaemonConfigError);
    const codes = err.issues.filter((i) => i.severity === 'error').map((i) => `${i.code}:${i.path}`);
    assert.deepEqual(codes, ['unknown-key:tlsverfy', 'wrong-type:log-opts.max-size', 'wrong-type:icc']);
    assert.match(err.message, /daemon\.json has 3 problems/);
    assert.ok(isDockwardError(err));
  });

  it('tells integers from other numbers, since Go will not decode 1.5 into an int', () => {
    assert.equal(errorsOf('{"max-concurrent-downloads": 1.5}')[0]?.code, 'wrong-type');
    assert.equal(errorsOf('{"max-concurrent-downloads": "3"}')[0]?.code, 'wrong-type');
    assert.deepEqual(errorsOf('{"max-concurrent-downloads": 3}'), []);
  });

  it('accepts a size as a string with a unit or as a number of bytes', () => {
    assert.deepEqual(errorsOf('{"default-shm-size": "64m"}'), []);
    assert.deepEqual(errorsOf('{"default-shm-size": 67108864}'), []);
    assert.equal(errorsOf('{"default-shm-size": "lots"}')[0]?.code, 'invalid-value');
  });

  it('checks object fields the way Go decodes them: case-insensitive names, required fields', () => {
    assert.deepEqual(
      errorsOf('{"default-ulimits": {"nofile": {"name": "nofile", "hard": 64000, "soft": 64000}}}'),
      [],
    );
    const [missing] = errorsOf('{"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1}}}');
    assert.match(missing?.message ?? '', /lacks "Hard"/);
    const pools = errorsOf('{"default-address-pools": [{"base": "10.10.0.0/16", "size": "24"}]}');
    assert.equal(pools[0]?.path, 'default-address-pools[0].size');
  });

  it('refuses values dockerd refuses at start: bad hosts, labels, log levels and exec options', () => {
    assert.match(errorsOf('{"hosts": ["ssh://x"]}')[0]?.message ?? '', /invalid bind address/);
    assert.equal(errorsOf('{"labels": ["novalue"]}')[0]?.code, 'invalid-value');
    assert.equal(errorsOf('{"log-level": "verbose"}')[0]?.code, 'invalid-value');
    assert.deepEqual(errorsOf('{"log-level": "DEBUG"}'), []);
    assert.deepEqual(errorsOf('{"log-level": "", "firewall-backend": ""}'), []);
    assert.equal(errorsOf('{"exec-opts": ["isolation=hyperv"]}')[0]?.code, 'invalid-value');
    assert.deepEqual(errorsOf('{"exec-opts": ["native.cgroupdriver=systemd"]}'), []);
  });

  it('warns about a flag name used as a key, which dockerd accepts and then ignores', () => {
    const analysis = analyzeDaemonJson('{"label": ["a=b"], "http-proxy": "http://p:3128"}');
    assert.equal(analysis.ok, true);
    const warnings = analysis.issues.map((i) => `${i.code}:${i.path}:${i.suggestion ?? ''}`);
    assert.deepEqual(warnings, ['key-ignored:label:labels', 'key-ignored:http-proxy:']);
  });

  it('refuses an unknown field under proxies, since dockerd turns those fields into flag names', () => {
    const [issue] = errorsOf('{"proxies": {"http_proxy": "http://p:3128"}}');
    assert.equal(issue?.code, 'unknown-key');
    assert.equal(issue?.suggestion, 'http-proxy');
    assert.deepEqual(errorsOf('{"proxies": {"https-proxy": "http://p:3128"}}'), []);
  });

  it('checks keys against the engine version that will read the file', () => {
    assert.deepEqual(errorsOf('{"firewall-backend": "nftables"}', 28), []);
    assert.equal(errorsOf('{"firewall-backend": "nftables"}', 20)[0]?.code, 'key-too-new');
    assert.deepEqual(errorsOf('{"oom-score-adjust": -500}', 20), []);
    assert.equal(errorsOf('{"oom-score-adjust": -500}', 28)[0]?.code, 'key-removed');
    assert.equal(errorsOf('{"graph": "/srv/docker"}', 28)[0]?.suggestion, 'data-root');
  });

  it('warns that null still counts as set, and that a duplicate key keeps the last value', () => {
    const analysis = analyzeDaemonJson('{"hosts": null, "icc": true, "icc": false}');
    assert.equal(analysis.ok, true);
    assert.deepEqual(
      analysis.issues.map((i) => i.code),
      ['null-value', 'duplicate-key'],
    );
    assert.deepEqual(analysis.config, { icc: false });
    assert.deepEqual(analysis.keyOrder, ['hosts', 'icc']);
  });

  it('refuses a file that is not UTF-8', () => {
    const analysis = analyzeDaemonJson(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]));
    assert.equal(analysis.issues[0]?.code, 'encoding');
    assert.match(analysis.issues[0]?.message ?? '', /at byte 2/);
  });

  it('writes 2-space JSON with a trailing newline', () => {
    assert.equal(
      serializeDaemonJson({ icc: false, hosts: ['fd://'] }),
      '{\n  "icc": false,\n  "hosts": [\n    "fd://"\n  ]\n}\n',
    );
  });
});

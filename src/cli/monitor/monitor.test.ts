import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../index.js';

const base = mkdtempSync(join(tmpdir(), 'dw-cli-monitor-'));
after(() => rmSync(base, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['--home', join(base, 'home'), ...argv], {
    stdout: {
      write: (chunk: string) => {
        stdout += chunk;
      },
    },
    stderr: {
      write: (chunk: string) => {
        stderr += chunk;
      },
    },
  });
  return { code, stdout, stderr };
}

describe('dockward monitor (CLI)', () => {
  it('documents sources, sinks and an example in --help', async () => {
    const r = await cli('monitor', '--help');
    assert.equal(r.code, 0);
    for (const word of [
      '--audit-log',
      '--docker',
      '--sink',
      'webhook:URL',
      'syslog:tcp://',
      '--no-default-rules',
    ]) {
      assert.ok(r.stdout.includes(word), `help names ${word}`);
    }
  });

  const badRules = join(base, 'bad.yaml');
  writeFileSync(
    badRules,
    '- rule: X\n  desc: d\n  condition: docker.type =\n  output: o\n  priority: warning\n',
  );
  const bad: [string, string[], RegExp][] = [
    ['no source at all', ['monitor'], /at least one source/],
    [
      'an unknown sink',
      ['monitor', '--docker', 'unix:///x.sock', '--sink', 'kafka:x'],
      /unknown sink "kafka"/,
    ],
    [
      'a webhook that is not http',
      ['monitor', '--docker', 'unix:///x.sock', '--sink', 'webhook:ftp://h/'],
      /http/,
    ],
    [
      'a syslog URL without a port',
      ['monitor', '--docker', 'unix:///x.sock', '--sink', 'syslog:udp://h'],
      /no port/,
    ],
    [
      'a daemon URL of another scheme',
      ['monitor', '--docker', 'http://h:2375'],
      /only unix:\/\/ and tcp:\/\//,
    ],
    ['a tcp daemon without TLS files', ['monitor', '--docker', 'tcp://127.0.0.1:2376'], /needs TLS/],
    ['a host name not in the inventory', ['monitor', '--docker', 'nosuchhost'], /no host "nosuchhost"/],
    [
      'a rules file that does not exist',
      ['monitor', '--docker', 'unix:///x.sock', '--rules', join(base, 'no.yaml')],
      /cannot read the rules file/,
    ],
    [
      'a malformed rules file',
      ['monitor', '--docker', 'unix:///x.sock', '--rules', badRules],
      /bad\.yaml:3:\d+/,
    ],
    [
      'a bad reconnect delay',
      ['monitor', '--docker', 'unix:///x.sock', '--reconnect-delay', 'soon'],
      /reconnect-delay/,
    ],
    [
      'a bad metrics address',
      ['monitor', '--docker', 'unix:///x.sock', '--metrics', 'nowhere'],
      /is not HOST:PORT/,
    ],
  ];
  for (const [what, argv, message] of bad) {
    it(`exits 2 with what, where and how to fix for ${what}`, async () => {
      const r = await cli(...argv);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\[DW_E_[A-Z_]+\]/);
    });
  }
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import {
  dockerdErrorLine,
  inspectProcess,
  isAlive,
  ProcessRestarter,
  parseRestartMode,
  readPidfile,
  stopProcess,
} from './restart.js';

describe("dockerd's error line", () => {
  it('is the last plain line, where dockerd prints why it stopped', () => {
    const log = [
      'time="2026-01-01T00:00:00Z" level=info msg="Starting up"',
      'time="2026-01-01T00:00:01Z" level=warning msg="something minor"',
      'failed to start daemon: You specified --iptables=false with --icc=false. ICC=false uses iptables to function. Please set --icc or --iptables to true',
      '',
    ].join('\n');
    assert.match(dockerdErrorLine(log) ?? '', /^failed to start daemon: You specified --iptables=false/);
  });

  it("falls back to the last fatal or error message and skips dockward's own header lines", () => {
    const log = [
      '--- dockward: restarting dockerd at 2026-01-01T00:00:00Z: dockerd -D',
      'time="2026-01-01T00:00:00Z" level=error msg="cannot \\"listen\\""',
      'time="2026-01-01T00:00:01Z" level=info msg="bye"',
    ].join('\n');
    assert.equal(dockerdErrorLine(log), 'cannot "listen"');
  });

  it('is undefined for an empty log', () => {
    assert.equal(dockerdErrorLine(''), undefined);
  });
});

describe('parsing --restart', () => {
  it('accepts the three modes and auto, and refuses anything else with DW_E_USAGE', () => {
    for (const m of ['systemd', 'process', 'none', 'auto']) assert.equal(parseRestartMode(m), m);
    assert.throws(() => parseRestartMode('reboot'), { code: 'DW_E_USAGE' });
  });
});

// A stand-in for dockerd, as a process restart sees it: it writes its pidfile, prints a line,
// and fails like dockerd ("failed to start daemon: ...") when a marker file exists.
const FAKE_DAEMON = `
const fs = require('node:fs');
const [pidfile, marker] = process.argv.slice(1);
if (fs.existsSync(marker)) { console.error('failed to start daemon: ' + fs.readFileSync(marker, 'utf8')); process.exit(3); }
fs.writeFileSync(pidfile, String(process.pid));
console.log('fake dockerd up, FAKE_ENV=' + process.env.FAKE_ENV);
process.on('SIGTERM', () => { fs.rmSync(pidfile, { force: true }); process.exit(0); });
setInterval(() => {}, 1 << 30);
`;

describe('restarting a process from its pidfile', () => {
  const work = mkdtempSync(join(tmpdir(), 'dw-restart-'));
  const pidfile = join(work, 'fake.pid');
  const marker = join(work, 'fail-next-start');
  const logFile = join(work, 'fake.log');
  const started: number[] = [];
  after(async () => {
    for (const pid of [...started, readPidfile(pidfile) ?? 0])
      if (pid > 0 && isAlive(pid)) await stopProcess(pid, 5_000);
    rmSync(work, { recursive: true, force: true });
  });

  async function startOriginal(): Promise<number> {
    const child = spawn(process.execPath, ['-e', FAKE_DAEMON, pidfile, marker], {
      env: { ...process.env, FAKE_ENV: 'from-the-original' },
      stdio: 'ignore',
      detached: true,
    });
    child.unref();
    for (let i = 0; i < 100 && readPidfile(pidfile) !== child.pid; i++) await sleep(50);
    assert.equal(readPidfile(pidfile), child.pid, 'the original wrote its pidfile');
    started.push(child.pid!);
    return child.pid!;
  }

  it('stops it and starts the same command line with the same environment, output to the log', async () => {
    const oldPid = await startOriginal();
    const proc = await inspectProcess(oldPid);
    assert.ok(proc);
    const restarter = new ProcessRestarter(proc, {
      pidfile,
      logFile,
      stopTimeoutMs: 5_000,
      startTimeoutMs: 10_000,
    });
    const attempt = await restarter.restart();
    assert.ok(attempt.pid);
    started.push(attempt.pid);
    assert.equal(isAlive(oldPid), false, 'the old process is gone');
    assert.equal(readPidfile(pidfile), attempt.pid, 'the new one wrote the pidfile');
    assert.equal(attempt.exited(), undefined);
    const again = await inspectProcess(attempt.pid);
    assert.deepEqual(again?.argv, proc.argv, 'exactly the same argv');
    for (let i = 0; i < 50 && !(await attempt.readLog()).includes('fake dockerd up'); i++) await sleep(50);
    assert.match(await attempt.readLog(), /fake dockerd up, FAKE_ENV=from-the-original/);
    assert.match(readFileSync(logFile, 'utf8'), /^--- dockward: restarting dockerd at /m);
  });

  it('reports the exit and the error line of a start that fails', async () => {
    const current = readPidfile(pidfile);
    assert.ok(current !== undefined && isAlive(current), 'the previous test left one running');
    const proc = await inspectProcess(current);
    assert.ok(proc);
    writeFileSync(marker, 'boom');
    try {
      const attempt = await new ProcessRestarter(proc, {
        pidfile,
        logFile,
        stopTimeoutMs: 5_000,
        startTimeoutMs: 10_000,
      }).restart();
      for (let i = 0; i < 100 && attempt.exited() === undefined; i++) await sleep(50);
      assert.equal(attempt.exited()?.code, 3);
      assert.equal(dockerdErrorLine(await attempt.readLog()), 'failed to start daemon: boom');
      assert.equal(existsSync(pidfile), false, 'no pidfile: it never came up');
    } finally {
      rmSync(marker, { force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { DockwardError, toExitCode } from '../../errors.js';
import { readLines, sampleRecord, writeLines } from '../../gateway/audit-log/test-support.js';
import type { VerifyResult } from '../../gateway/audit-log/verify.js';
import { AuditLogWriter } from '../../gateway/audit-log/writer.js';
import { main } from '../../index.js';
import { auditLogCommand } from './index.js';
import { bindIo } from '../context.js';
import type { CliIo } from '../output.js';
import { loadProgram } from '../program.js';

const base = mkdtempSync(join(tmpdir(), 'dw-cli-audit-'));
after(() => rmSync(base, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  error?: DockwardError;
}

/**
 * Runs `auditLogCommand()` in a program shaped like the real one (`--home`, `--json`, commander
 * throwing instead of exiting) and maps errors to exit codes as `main` does.
 */
async function run(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  };
  const program = new Command('dockward').option('--home <dir>').option('--json');
  program.addCommand(auditLogCommand());
  const quiet = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
    for (const sub of cmd.commands) quiet(sub);
  };
  quiet(program);
  bindIo(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: 2, stdout, stderr };
    if (err instanceof DockwardError) return { code: toExitCode(err), stdout, stderr, error: err };
    throw err;
  }
}

let path = '';
before(async () => {
  path = join(base, 'audit', 'gateway.log');
  const log = await AuditLogWriter.open(path, { maxBytes: 2048 });
  for (let i = 0; i < 30; i++) log.append(sampleRecord(i));
  await log.close();
});

describe('dockward audit-log verify', () => {
  it('prints the record count and range of an intact log, with its rotated files', async () => {
    const r = await run('audit-log', 'verify', path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 30 records, chain intact \(first seq 1, last seq 30\)\n/);
    assert.match(r.stdout, new RegExp(`${path}\\.1: seq \\d+\\.\\.\\d+`));
    assert.match(r.stdout, /head [0-9a-f]{64}/);
  });

  it('prints the result as JSON with --json', async () => {
    const r = await run('--json', 'audit-log', 'verify', path);
    assert.equal(r.code, 0);
    const data = JSON.parse(r.stdout) as VerifyResult;
    assert.deepEqual([data.ok, data.records, data.firstSeq, data.lastSeq], [true, 30, 1, 30]);
  });

  it('exits 1 with DW_E_AUDIT_LOG_TAMPERED naming the file, line and seq of an edited record', async () => {
    const copy = join(base, 'edited.log');
    const lines = readLines(path);
    lines[1] = lines[1]!.replace(/"bytesOut":\d+/, '"bytesOut":1');
    writeLines(copy, lines);
    const r = await run('audit-log', 'verify', copy);
    assert.equal(r.code, 1);
    assert.equal(r.error?.code, 'DW_E_AUDIT_LOG_TAMPERED');
    const first = JSON.parse(lines[0]!) as { seq: number };
    assert.equal(r.error?.message, `${copy}:2: record seq ${first.seq + 1} was edited (hash mismatch)`);
    assert.match(r.error?.hint ?? '', /The 1 records before it verify/);
  });

  it('verifies files given oldest first, and names a deleted one', async () => {
    const ok = await run('audit-log', 'verify', `${path}.2`, `${path}.1`, path);
    assert.equal(ok.code, 0, ok.stderr);
    const gap = await run('audit-log', 'verify', `${path}.3`, `${path}.1`, path);
    assert.equal(gap.code, 1);
    assert.match(
      gap.error!.message,
      new RegExp(`^${path}\\.1:1: record seq \\d+ follows seq \\d+ .* missing`),
    );
  });

  it('notes a torn last line but passes; --strict fails on it', async () => {
    const copy = join(base, 'torn.log');
    writeLines(copy, readLines(path));
    appendFileSync(copy, '{"apiVersion":"1.4');
    const r = await run('audit-log', 'verify', '--no-rotated', copy);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /note: .*torn\.log:\d+: torn line \(18 bytes\)/);
    const strict = await run('audit-log', 'verify', '--no-rotated', '--strict', copy);
    assert.equal(strict.code, 1);
    assert.match(strict.error!.message, /torn line/);
  });

  it('exits 2 on a missing file or a malformed --anchor', async () => {
    const missing = await run('audit-log', 'verify', join(base, 'nope.log'));
    assert.equal(missing.code, 2);
    assert.equal(missing.error?.code, 'DW_E_INPUT');
    const anchor = await run('audit-log', 'verify', '--anchor', 'xyz', path);
    assert.equal(anchor.code, 2);
    assert.equal(anchor.error?.code, 'DW_E_USAGE');
    assert.equal((await run('audit-log', 'verify')).code, 2, 'FILE is required');
  });

  it('runs through main with exit 1 and the code on stderr', async () => {
    assert.ok(
      (await loadProgram()).commands.some((c) => c.name() === 'audit-log'),
      'audit-log is registered',
    );
    let stderr = '';
    // A log of its own without rotation, so line 2 is surely a record of this file.
    const copy = join(base, 'main.log');
    const log = await AuditLogWriter.open(copy);
    for (let i = 0; i < 5; i++) log.append(sampleRecord(i));
    await log.close();
    writeLines(
      copy,
      readLines(copy).filter((_, i) => i !== 1),
    );
    const code = await main(['audit-log', 'verify', copy], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (stderr += s) },
    });
    assert.equal(code, 1);
    assert.match(stderr, /^dockward: .*main\.log:2: record seq \d+ follows .* \[DW_E_AUDIT_LOG_TAMPERED\]/);
  });
});

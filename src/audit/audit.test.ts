import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { collectFacts, runAudit, targetOf } from './audit.js';

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('runAudit by target', () => {
  const root = mkdtempSync(join(tmpdir(), 'dw-audit-root-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc', 'docker'), { recursive: true });
  writeFileSync(
    join(root, 'etc', 'docker', 'daemon.json'),
    '{\n  "hosts": ["unix:///var/run/docker.sock",\n    "tcp://0.0.0.0:2375"]\n}\n',
  );

  it('audits an offline tree from its files: listeners from the configuration, never probed, no API', async () => {
    const facts = await collectFacts({ kind: 'root', root });
    assert.equal(facts.engine.state, 'missing');
    assert.equal(facts.listeners.state, 'ok');
    const listeners = facts.listeners.state === 'ok' ? facts.listeners.value : [];
    assert.deepEqual(
      listeners.map((l) => [l.address, l.port, l.seenIn, l.plainHttpPing, l.tlsWithoutClientCert]),
      [['0.0.0.0', 2375, ['config'], undefined, undefined]],
    );
    const report = await runAudit({ kind: 'root', root }, { include: ['tcp-without-tls', '5.5'] });
    assert.deepEqual(
      report.findings.map((f) => [f.id, f.status]),
      [
        ['tcp-without-tls', 'fail'],
        ['container-privileged', 'skip'],
      ],
    );
  });

  it('audits a remote daemon that does not answer: a failing audit-input, file rules skipped, no throw', async () => {
    const port = await closedPort();
    const report = await runAudit({ kind: 'remote', host: `tcp://127.0.0.1:${port}` }, { timeoutMs: 2_000 });
    const input = report.findings.find((f) => f.id === 'audit-input');
    assert.equal(input?.status, 'fail');
    assert.match(input?.evidence.join('\n') ?? '', /ECONNREFUSED/);
    assert.equal(report.findings.find((f) => f.cis === '3.15')?.status, 'skip');
    assert.equal(report.findings.find((f) => f.id === 'tls-without-verify')?.status, 'pass');
  });

  it('drops the audit-input finding only when asked by name', async () => {
    const port = await closedPort();
    const report = await runAudit(
      { kind: 'remote', host: `tcp://127.0.0.1:${port}` },
      { exclude: ['audit-input'], timeoutMs: 2_000 },
    );
    assert.equal(
      report.findings.find((f) => f.id === 'audit-input'),
      undefined,
    );
    assert.equal(report.summary.total, report.findings.length);
  });

  it('takes a unix socket as this host, tcp as remote, --root as an offline tree', async () => {
    assert.deepEqual((await targetOf({ host: 'unix:///run/x.sock', env: {} })).target, {
      kind: 'local',
      host: 'unix:///run/x.sock',
    });
    assert.deepEqual((await targetOf({ host: 'tcp://127.0.0.1:2376', env: {} })).target, {
      kind: 'remote',
      host: 'tcp://127.0.0.1:2376',
    });
    assert.deepEqual((await targetOf({ root, env: {} })).target, { kind: 'root', root });
    assert.deepEqual((await targetOf({ env: {} })).target, {
      kind: 'local',
      host: 'unix:///var/run/docker.sock',
    });
  });
});

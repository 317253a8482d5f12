// An audit trail that cannot be cut silently (issue #16): the built `dockward gateway` in front
// of a private dockerd writes its log, rotated files and signed heads; `dockward audit-log verify`
// is then run on the untouched files and on copies cut, replaced and missing a rotated file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { e2eSkipReason, type PrivateDockerd, runDockward, startDockerd } from './harness/index.js';
import { dockwardEnv, makePki, type Pki, startGateway } from './support/gateway-fixture.js';

const skip = await e2eSkipReason();

interface Answer {
  status: number;
  body: string;
}

/** A keep-alive client with a certificate of the PKI. */
function clientOf(pki: Pki, name: string): HttpsAgent {
  const dir = pki.issuedDir(name);
  return new HttpsAgent({
    keepAlive: true,
    maxSockets: 4,
    ca: readFileSync(join(dir, 'ca.pem')),
    cert: readFileSync(join(dir, 'cert.pem')),
    key: readFileSync(join(dir, 'key.pem')),
  });
}

function get(port: number, agent: HttpsAgent, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: 'localhost', agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function postJson(port: number, agent: HttpsAgent, path: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        servername: 'localhost',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

/** `count` GETs of `path`, four at a time. */
async function many(port: number, agent: HttpsAgent, path: string, count: number): Promise<Answer[]> {
  const out: Answer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      out.push(await get(port, agent, path));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

/** The log and its rotated files, oldest first. */
function logFiles(log: string): string[] {
  const rotated: string[] = [];
  for (let n = 1; ; n++) {
    try {
      readFileSync(`${log}.${n}`);
      rotated.push(`${log}.${n}`);
    } catch {
      break;
    }
  }
  return [...rotated.reverse(), log];
}

function linesOf(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** The canonical form docs/audit-log.md describes: keys sorted, no whitespace, `hash` left out. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => k !== 'hash' && o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A self-consistent chain of `count` records from seq 1, as someone without the gateway's key writes it. */
function forgedChain(count: number): string {
  let prev = '0'.repeat(64);
  let out = '';
  for (let seq = 1; seq <= count; seq++) {
    const rec = {
      type: 'connection',
      connId: String(seq),
      event: 'accepted',
      client: { address: '127.0.0.1', port: 40000 },
      v: 1,
      seq,
      time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      prev,
    };
    const body = canonical(rec);
    const hash = createHash('sha256').update(body).digest('hex');
    out += `${body.slice(0, -1)},"hash":"${hash}"}\n`;
    prev = hash;
  }
  return out;
}

describe('audit trail: signed heads, verify against them, retention and the record rate', { skip }, () => {
  let dockerd: PrivateDockerd;
  let pki: Pki;
  let work: string;

  before(async () => {
    dockerd = await startDockerd();
    pki = await makePki({ admin: 'admin', reader: 'readonly', op: 'operator' });
    work = mkdtempSync(join(tmpdir(), 'dw-e2e-trail-'));
  });
  after(async () => {
    await dockerd?.cleanup();
    pki?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const verify = (...args: string[]) =>
    runDockward(['--home', pki.home, 'audit-log', 'verify', ...args], { env: dockwardEnv() });

  it('verify exits 0 on the untouched rotated log and names the cause for a cut, a replacement and a deleted rotated file', async (t) => {
    const dir = join(work, 'tamper');
    const log = join(dir, 'gateway.log');
    const gw = await startGateway(dockerd, pki, {
      auditLog: log,
      args: ['--audit-log-max-size', '32k', '--audit-rate', '0'],
    });
    const admin = clientOf(pki, 'admin');
    try {
      const answers = await many(gw.port, admin, '/_ping', 300);
      assert.ok(answers.every((a) => a.status === 200));
    } finally {
      admin.destroy();
      assert.deepEqual(await gw.stop(), { code: 0, signal: null });
    }
    const files = logFiles(log);
    assert.ok(files.length >= 4, `the log rotated: ${files.join(', ')}`);
    const heads = linesOf(`${log}.heads`).map((l) => JSON.parse(l) as { seq: number; start: number });
    const last = JSON.parse(linesOf(log).at(-1)!) as { seq: number };
    assert.equal(heads.at(-1)?.seq, last.seq, 'the head signed at stop covers the last record');

    const ok = await verify(log);
    t.diagnostic(`untouched: exit ${ok.code}\n${ok.stdout}${ok.stderr}`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`^ok: ${last.seq} records, chain intact \\(first seq 1, last seq ${last.seq}\\)`),
    );
    assert.match(
      ok.stdout,
      new RegExp(
        `signed head: seq ${last.seq} at \\S+ by CN=gateway \\(CA-issued\\), log starts at seq 1: matches`,
      ),
    );

    const copy = (name: string): string => {
      const d = join(work, name);
      cpSync(dir, d, { recursive: true });
      return join(d, 'gateway.log');
    };

    // The last 50 records removed, from the newest file back.
    const cut = copy('cut');
    let left = 50;
    for (const f of logFiles(cut).reverse()) {
      const lines = linesOf(f);
      const n = Math.min(left, lines.length);
      writeFileSync(
        f,
        lines
          .slice(0, lines.length - n)
          .map((l) => `${l}\n`)
          .join(''),
      );
      left -= n;
      if (left === 0) break;
    }
    const r1 = await verify(cut);
    t.diagnostic(`last 50 removed: exit ${r1.code}\n${r1.stderr}`);
    assert.equal(r1.code, 1);
    assert.match(
      r1.stderr,
      new RegExp(
        `truncated: the signed head at seq ${last.seq} is not in the log, which ends at seq ${last.seq - 50} \\[DW_E_AUDIT_LOG_TAMPERED\\]`,
      ),
    );

    // The whole set replaced by a self-consistent chain, longer than the signed one.
    const forged = copy('forged');
    for (const f of logFiles(forged)) unlinkSync(f);
    writeFileSync(forged, forgedChain(last.seq + 10));
    const r2 = await verify(forged);
    t.diagnostic(`replaced by a self-consistent chain: exit ${r2.code}\n${r2.stderr}`);
    assert.equal(r2.code, 1);
    assert.match(
      r2.stderr,
      /replaced: the record at seq \d+ has hash [0-9a-f]{64}, not [0-9a-f]{64} that the head signed at \S+ vouches for: the log was rewritten/,
    );

    // The oldest rotated file deleted.
    const noOldest = copy('no-oldest');
    const oldest = logFiles(noOldest)[0]!;
    const firstOfNext = JSON.parse(linesOf(logFiles(noOldest)[1]!)[0]!) as { seq: number };
    unlinkSync(oldest);
    const r3 = await verify(noOldest);
    t.diagnostic(`oldest rotated file deleted: exit ${r3.code}\n${r3.stderr}`);
    assert.equal(r3.code, 1);
    assert.match(
      r3.stderr,
      new RegExp(
        `a rotated file is missing: the signed head at seq ${last.seq} says the log starts at seq 1, but its oldest file \\S+ starts at seq ${firstOfNext.seq} \\(seq 1\\.\\.${firstOfNext.seq - 1} are gone\\)`,
      ),
    );

    // A rotated file in the middle deleted: the chain itself has a gap.
    const noMiddle = copy('no-middle');
    unlinkSync(`${noMiddle}.2`);
    const r4 = await verify(noMiddle);
    t.diagnostic(`FILE.2 deleted: exit ${r4.code}\n${r4.stderr}`);
    assert.equal(r4.code, 1);
    assert.match(r4.stderr, /record seq \d+ follows seq \d+ at \S+: seq \d+\.\.\d+ are missing \(deleted\)/);

    // No heads file: a plain warning, a failure with --require-signed-head.
    const noHeads = copy('no-heads');
    unlinkSync(`${noHeads}.heads`);
    const r5 = await verify(noHeads);
    t.diagnostic(`heads file deleted: exit ${r5.code}\n${r5.stderr}`);
    assert.equal(r5.code, 0);
    assert.match(r5.stderr, /warning: no signed head \(\S+\.heads does not exist\)/);
    const r6 = await verify('--require-signed-head', noHeads);
    t.diagnostic(`heads file deleted, --require-signed-head: exit ${r6.code}\n${r6.stderr}`);
    assert.equal(r6.code, 1);
    assert.match(r6.stderr, /no signed head for \S+: \S+\.heads does not exist \[DW_E_AUDIT_LOG_TAMPERED\]/);
  });

  // 12 KB paths: a head over the HTTP layer's limit (16 KiB) is answered 431 before the pipeline
  // and is not an audit record at all, so it cannot flush history either.
  it("a readonly client flooding 12 KB paths gets 429 after its burst, one summary record a second, and the others' records stay", async (t) => {
    const dir = join(work, 'flood');
    const log = join(dir, 'gateway.log');
    const gw = await startGateway(dockerd, pki, {
      auditLog: log,
      args: ['--audit-log-max-size', '64k', '--audit-log-keep-size', '128k', '--audit-rate', '5'],
    });
    const admin = clientOf(pki, 'admin');
    const reader = clientOf(pki, 'reader');
    let answers: Answer[] = [];
    let elapsed = 0;
    try {
      assert.equal((await get(gw.port, admin, '/_ping')).status, 200);
      const started = Date.now();
      answers = await many(gw.port, reader, `/v1.41/${'x'.repeat(12 * 1024)}`, 400);
      elapsed = (Date.now() - started) / 1000;
    } finally {
      admin.destroy();
      reader.destroy();
      assert.deepEqual(await gw.stop(), { code: 0, signal: null });
    }
    const limited = answers.filter((a) => a.status === 429);
    t.diagnostic(
      `statuses: ${answers.length - limited.length} not 429 (${[...new Set(answers.map((a) => `${a.status} ${a.body?.slice(0, 120)}`))].slice(0, 3).join(' | ')}), ${limited.length} 429; body ${limited[0]?.body}`,
    );
    // Each worker (the fixture runs two) has its own bucket: a burst of 50 and 5/s. Whatever the
    // machine's speed, no more than that got through.
    const workers = 2;
    const allowed = workers * (50 + 5 * Math.ceil(elapsed) + 1);
    assert.ok(
      answers.length - limited.length <= allowed,
      `${answers.length - limited.length} through, at most ${allowed}`,
    );
    assert.ok(limited.length >= answers.length - allowed, `${limited.length} answered 429`);
    assert.match(
      limited[0]!.body,
      /^\{"message":"dockward: too many requests from reader: over 5 per second/,
    );
    const records = logFiles(log).flatMap((f) =>
      linesOf(f).map((l) => JSON.parse(l) as Record<string, unknown>),
    );
    const readerDecisions = records.filter(
      (r) => r['type'] === 'request' && (r['identity'] as { cn?: string } | null)?.cn === 'reader',
    );
    const summaries = readerDecisions.filter((r) => r['rule'] === 'gateway/audit-rate');
    t.diagnostic(
      `reader decision records: ${readerDecisions.length}, of them summaries: ${summaries.length}`,
    );
    assert.ok(
      readerDecisions.length <= allowed + workers * (Math.ceil(elapsed) + 1),
      `${readerDecisions.length} records for 400 requests`,
    );
    assert.ok(summaries.length >= 1);
    assert.match(String(summaries[0]!['reason']), /^\d+ requests? of reader refused over --audit-rate 5\/s/);
    assert.match(String(readerDecisions[0]!['rawPath']), /…\[truncated \d+ bytes\]$/);
    // The admin's first request is still in the log: nothing was rotated away.
    assert.equal(records[0]?.['seq'], 1);
    assert.ok(records.some((r) => (r['identity'] as { cn?: string } | null)?.cn === 'admin'));
    const ok = await verify(log);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('deletes rotated files at their age limit with a warning, and verify still passes with the signed start moved', async (t) => {
    const dir = join(work, 'age');
    const log = join(dir, 'gateway.log');
    const gw = await startGateway(dockerd, pki, {
      auditLog: log,
      args: ['--audit-log-max-size', '16k', '--audit-log-keep-age', '1s', '--audit-rate', '0'],
    });
    const admin = clientOf(pki, 'admin');
    try {
      await many(gw.port, admin, '/_ping', 40);
      await new Promise((r) => setTimeout(r, 1500));
      await many(gw.port, admin, '/_ping', 40);
    } finally {
      admin.destroy();
      assert.deepEqual(await gw.stop(), { code: 0, signal: null });
    }
    const warned = gw
      .logs()
      .filter((l) => /at its age limit: it holds records .* never exported/.test(l.msg));
    t.diagnostic(`warnings: ${warned.map((l) => l.msg).join('\n')}; files: ${readdirSync(dir).join(' ')}`);
    assert.ok(warned.length >= 1, gw.stderr());
    const ok = await verify(log);
    t.diagnostic(`after age deletion: exit ${ok.code}\n${ok.stdout}${ok.stderr}`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /log starts at seq (\d+): matches/);
    assert.doesNotMatch(ok.stdout, /log starts at seq 1: /);
  });

  // The body stays under the 4 MiB body limit, but the denial quotes the bind's host path, so
  // the reason alone is over the audit log's 4 MiB line limit: the record is kept, its reason cut.
  it('a denial whose reason is over the 4 MiB line limit: a 403 cut to 15 KiB, a request record with the truncation marker, verify exits 0', async (t) => {
    const dir = join(work, 'long-reason');
    const log = join(dir, 'gateway.log');
    const gw = await startGateway(dockerd, pki, { auditLog: log, args: ['--audit-rate', '0'] });
    const op = clientOf(pki, 'op');
    const shell = `{"Image":"busybox","HostConfig":{"Binds":["/:/x"]}}`;
    const hostPath = `/${'a'.repeat(4 * 1024 * 1024 - Buffer.byteLength(shell))}`;
    const body = shell.replace('"/:/x"', `"${hostPath}:/x"`);
    assert.equal(Buffer.byteLength(body), 4 * 1024 * 1024);
    let answer: Answer;
    try {
      answer = await postJson(gw.port, op, '/v1.41/containers/create?name=long-reason', body);
    } finally {
      op.destroy();
      assert.deepEqual(await gw.stop(), { code: 0, signal: null });
    }
    t.diagnostic(`status ${answer.status}, ${answer.body.length} bytes: ${answer.body.slice(0, 140)}…`);
    assert.equal(answer.status, 403);
    const message = (JSON.parse(answer.body) as { message: string }).message;
    assert.match(message, /host paths may not be mounted by operators/);
    const reasonBytes = Buffer.byteLength(message);
    const records = linesOf(log).map((l) => JSON.parse(l) as Record<string, unknown>);
    const denied = records.filter(
      (r) =>
        r['type'] === 'request' &&
        r['decision'] === 'deny' &&
        (r['identity'] as { cn?: string } | null)?.cn === 'op' &&
        r['endpoint'] === 'container.create',
    );
    assert.equal(denied.length, 1, `one decision record for the request: ${denied.length}`);
    const reason = String(denied[0]!['reason']);
    const marker = /…\[truncated (\d+) bytes\]$/.exec(reason);
    t.diagnostic(
      `reason in the 403: ${reasonBytes} bytes; in the record: ${Buffer.byteLength(reason)} bytes, ending "${reason.slice(-40)}"; rule ${String(denied[0]!['rule'])}`,
    );
    // The reason quotes the 4 MiB host path twice: over the line limit, so both are cut.
    const sent = /…\[truncated (\d+) bytes\]$/.exec(message);
    assert.ok(sent, 'the 403 message ends with the truncation marker');
    assert.ok(Number(sent[1]) > 4 * 1024 * 1024, `the reason was over the line limit (${sent[1]} bytes cut)`);
    assert.ok(reasonBytes < 16 * 1024, `the 403 message is cut to 15 KiB (${reasonBytes} bytes)`);
    assert.ok(marker, 'the record reason ends with the truncation marker');
    assert.ok(Number(marker[1]) > 4 * 1024 * 1024 - 16 * 1024);
    assert.ok(
      records.some(
        (r) => r['type'] === 'response' && r['requestId'] === denied[0]!['requestId'] && r['status'] === 403,
      ),
    );
    const ok = await verify(log);
    t.diagnostic(`verify: exit ${ok.code}: ${ok.stdout.split('\n')[0]}`);
    assert.equal(ok.code, 0, ok.stderr);
  });
});

// Two gateways shipping their audit logs to one PostgreSQL (Debian's postgresql, a private
// cluster on 127.0.0.1 started here): a query for one identity returns its records from both in
// time order; PostgreSQL stopped for 30 s under a bounded load and started again loses nothing
// and duplicates nothing (every seq of every log once, the chains verified from the store).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pgClient from 'pg';
import {
  e2eSkipReason,
  freeLoopbackPort,
  type PrivateDockerd,
  runCommand,
  startDockerd,
} from './harness/index.js';
import { DOCKWARD_BIN, type DockwardProcess, startDockward } from './support/dockward-process.js';
import { type PrivatePostgres, startPostgres } from './support/postgres.js';

const skip = await e2eSkipReason();

interface QueriedRecord {
  source: string;
  record: { type: string; seq: number; time: string; identity?: { cn: string } | null };
}

describe('event store on PostgreSQL with two gateways', { skip }, () => {
  const base = mkdtempSync(join(tmpdir(), 'dw-e2e-pg-'));
  const home = join(base, 'home');
  const env = { ...process.env, DOCKER_HOST: '', DOCKWARD_LOG_LEVEL: 'info' };
  let dockerd: PrivateDockerd | undefined;
  let pg: PrivatePostgres;
  const gateways: { proc: DockwardProcess; port: number; log: string }[] = [];
  let agent: Agent;

  const dockward = (args: string[], timeoutMs = 60_000) =>
    runCommand(process.execPath, [DOCKWARD_BIN, '--home', home, ...args], { env, timeoutMs });

  /** GET /_ping through a gateway as alice: one request record (and its response) per call. */
  const ping = (port: number) =>
    new Promise<number>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/_ping', servername: 'localhost', agent, timeout: 5000 },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });

  before(async () => {
    dockerd = await startDockerd();
    pg = await startPostgres();
    assert.equal((await dockward(['pki', 'init'])).code, 0);
    assert.equal((await dockward(['pki', 'issue', 'client', 'alice', '--ou', 'operator'])).code, 0);
    const dir = join(home, 'pki', 'issued', 'alice');
    agent = new Agent({
      keepAlive: true,
      maxSockets: 4,
      ca: readFileSync(join(dir, 'ca.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
      key: readFileSync(join(dir, 'key.pem')),
    });
    for (const name of ['gw-a', 'gw-b']) {
      const port = await freeLoopbackPort();
      const log = join(base, name, 'audit.log');
      const proc = await startDockward(
        [
          '--home',
          home,
          'gateway',
          '--listen',
          `127.0.0.1:${port}`,
          '--upstream',
          dockerd.host,
          '--audit-log',
          log,
          '--store',
          pg.url,
        ],
        env,
        /shipping the audit log to the event store/,
      );
      gateways.push({ proc, port, log });
    }
  });

  after(async () => {
    agent?.destroy();
    for (const g of gateways) await g.proc.stop();
    await pg?.cleanup();
    await dockerd?.cleanup();
    rmSync(base, { recursive: true, force: true });
  });

  async function query(args: string[]): Promise<QueriedRecord[]> {
    const r = await dockward(['--json', 'audit-log', 'query', '--store', pg.url, '--limit', '1000', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { records: QueriedRecord[] }).records;
  }

  it('returns the records of one identity from both gateways, in time order', async () => {
    for (let i = 0; i < 6; i++) {
      assert.equal(await ping(gateways[i % 2]!.port), 200);
    }
    let records: QueriedRecord[] = [];
    for (let i = 0; i < 50; i++) {
      records = (await query(['--identity', 'alice'])).filter((r) => r.record.type === 'request');
      if (records.length >= 6) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(records.length, 6);
    const sources = new Set(records.map((r) => r.source));
    assert.equal(sources.size, 2, `records from both gateways: ${[...sources].join(', ')}`);
    const times = records.map((r) => Date.parse(r.record.time));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    for (const r of records) assert.equal(r.record.identity?.cn, 'alice');
  });

  it('loses no record and duplicates none when PostgreSQL is down for 30 s under load', async (t) => {
    let sent = 0;
    let failed = 0;
    let loading = true;
    // Bounded load: one request to each gateway every 100 ms while the test runs (~40 s).
    const load = (async () => {
      while (loading && sent < 2000) {
        const codes = await Promise.all(gateways.map((g) => ping(g.port)));
        sent += codes.length;
        failed += codes.filter((c) => c !== 200).length;
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await new Promise((res) => setTimeout(res, 2000));
    await pg.stop();
    await new Promise((res) => setTimeout(res, 30_000));
    await pg.start();
    await new Promise((res) => setTimeout(res, 3000));
    loading = false;
    await load;
    assert.equal(failed, 0, 'the gateways served every request while the store was down');
    assert.ok(sent > 200, `load was applied (${sent} requests)`);

    // Each log's records, as the gateway wrote them.
    const expected = gateways.map((g) => readFileSync(g.log, 'utf8').trimEnd().split('\n').length);
    let chains: { source: string; records: number; firstSeq: number; lastSeq: number; ok: boolean }[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await dockward(['--json', 'audit-log', 'chains', '--store', pg.url]);
      chains = (JSON.parse(r.stdout) as { chains: typeof chains }).chains;
      const done = gateways.every(
        (g, k) => chains.find((c) => c.source.endsWith(g.log))?.lastSeq === expected[k],
      );
      if (done) break;
      await new Promise((res) => setTimeout(res, 300));
    }
    for (const [k, g] of gateways.entries()) {
      const c = chains.find((x) => x.source.endsWith(g.log));
      assert.ok(c, `the store holds ${g.log}`);
      assert.equal(c.ok, true, `chain of ${g.log} verifies from the store`);
      assert.equal(c.firstSeq, 1);
      assert.equal(c.lastSeq, expected[k]);
      // seq is unique per log in the store and the chain is consecutive: each record exactly once.
      assert.equal(c.records, expected[k]);
      // The outage was real: the shipper saw the store fail and come back.
      assert.match(g.proc.stderr(), /cannot write to the event store/);
      assert.match(g.proc.stderr(), /event store reachable again/);
    }
    t.diagnostic(`${sent} requests under load; records per log: ${expected.join(', ')}`);
  });

  it("signs each chain head with the gateway's certificate; a changed signature fails `audit-log chains`", async () => {
    // Stopped (each drains its shipper first) so no later head replaces the one changed below.
    agent.destroy();
    for (const g of gateways) await g.proc.stop();
    const good = await dockward(['audit-log', 'chains', '--store', pg.url]);
    assert.equal(good.code, 0, good.stderr);
    const signedLines = good.stdout
      .split('\n')
      .filter((l) => /signed by CN=gateway, verified, chains to the CA/.test(l));
    assert.equal(signedLines.length, 2, good.stdout);
    const json = await dockward(['--json', 'audit-log', 'chains', '--store', pg.url]);
    for (const c of (JSON.parse(json.stdout) as { chains: { headSignature: unknown }[] }).chains) {
      assert.deepEqual(c.headSignature, { signed: true, cn: 'gateway', verified: true, chainsToCa: true });
    }
    assert.doesNotMatch(good.stdout + json.stdout, /PRIVATE KEY/);

    // Someone with write access to the database moves gw-a's signature by one bit.
    const db = new pgClient.Client({ connectionString: pg.url });
    await db.connect();
    try {
      const src = `%${gateways[0]!.log}`;
      const row = await db.query<{ signature: string }>(
        'SELECT signature FROM chain_heads WHERE source LIKE $1',
        [src],
      );
      const sig = Buffer.from(row.rows[0]!.signature, 'base64');
      sig[sig.length - 1] = sig[sig.length - 1]! ^ 0x01;
      await db.query('UPDATE chain_heads SET signature = $1 WHERE source LIKE $2', [
        sig.toString('base64'),
        src,
      ]);
    } finally {
      await db.end();
    }
    const bad = await dockward(['audit-log', 'chains', '--store', pg.url]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /DW_E_AUDIT_LOG_TAMPERED/);
    assert.match(bad.stderr, /signature does not verify/);
    assert.match(bad.stdout, /SIGNATURE INVALID/);
  });
});

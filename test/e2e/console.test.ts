// `dockward console` in a real browser (Debian's chromium driven by playwright-core): after
// `dockward up` in front of a private dockerd, the console shows the local host, its certificates
// and the audit trail of the requests just made; filters work; a revoke from the UI is enforced
// by the gateway; and the same pages work on PostgreSQL. Screenshots go to test-artifacts/console/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import {
  buildBusyboxImage,
  e2eSkipReason,
  freeLoopbackPort,
  type PrivateDockerd,
  REPO_ROOT,
  runCommand,
  runDocker,
  startDockerd,
  TEST_IMAGE,
} from './harness/index.js';
import { DOCKWARD_BIN, type DockwardProcess, startDockward } from './support/dockward-process.js';
import { type PrivatePostgres, startPostgres } from './support/postgres.js';

const skip = await e2eSkipReason();

/** The text as rendered (cells apart), which is what a user reads. */
function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator, not a DOM node
  return locator.innerText();
}
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(REPO_ROOT, 'test-artifacts', 'console');
// The flags this machine needs for a headless chromium that reaches nothing but loopback.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe('dockward console in chromium', { skip }, () => {
  const base = mkdtempSync(join(tmpdir(), 'dw-e2e-console-'));
  const home = join(base, 'home');
  let dockerd: PrivateDockerd | undefined;
  let up: DockwardProcess | undefined;
  let consoleProc: DockwardProcess | undefined;
  let monitor: DockwardProcess | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;
  let gatewayPort = 0;
  let consoleUrl = '';
  const env = { ...process.env, DOCKER_HOST: '', DOCKWARD_LOG_LEVEL: 'info' };

  const dockward = (args: string[]) =>
    runCommand(process.execPath, [DOCKWARD_BIN, '--home', home, ...args], { env });
  const dockerAs = (name: string, args: string[]) =>
    runDocker(args, {
      env: {
        ...env,
        DOCKER_CONFIG: join(base, 'docker-config'),
        DOCKER_HOST: `tcp://127.0.0.1:${gatewayPort}`,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: join(home, 'pki', 'issued', name),
      },
    });
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    assert.ok(existsSync(CHROMIUM), "Debian's chromium is needed: apt-get install chromium");
    mkdirSync(SHOTS, { recursive: true });
    dockerd = await startDockerd();
    await buildBusyboxImage(dockerd);
    gatewayPort = await freeLoopbackPort();
    up = await startDockward(
      [
        '--home',
        home,
        'up',
        '--listen',
        `127.0.0.1:${gatewayPort}`,
        '--upstream',
        dockerd.host,
        '--no-context',
      ],
      env,
      /Ctrl-C stops/,
      120_000,
    );
    // The monitor follows the gateway's log and writes its alerts to the console's store.
    monitor = await startDockward(
      [
        '--home',
        home,
        'monitor',
        '--audit-log',
        join(home, 'audit', 'gateway.log'),
        '--sink',
        `store:sqlite:${join(home, 'events.db')}`,
      ],
      env,
      /monitor started/,
    );
    // Requests to find in the audit trail: the admin's, and a readonly user's denied run.
    const issued = await dockward(['pki', 'issue', 'client', 'viewer', '--ou', 'readonly']);
    assert.equal(issued.code, 0, issued.stderr);
    assert.equal((await dockerAs('admin', ['ps'])).code, 0);
    const run = await dockerAs('admin', ['run', '--rm', TEST_IMAGE, 'echo', 'hello console']);
    assert.equal(run.stdout, 'hello console\n', run.stderr);
    assert.equal((await dockerAs('viewer', ['ps'])).code, 0);
    // Five denials in a row: the monitor's "Burst of policy denials" rule fires.
    for (let i = 0; i < 5; i++) {
      const denied = await dockerAs('viewer', ['run', '--rm', TEST_IMAGE, 'true']);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /dockward: denied/);
    }

    const port = await freeLoopbackPort();
    consoleProc = await startDockward(
      [
        '--home',
        home,
        'console',
        '--listen',
        `127.0.0.1:${port}`,
        '--gateway',
        `tcp://127.0.0.1:${gatewayPort}`,
      ],
      env,
      /dockward console: http/,
    );
    consoleUrl = `http://127.0.0.1:${port}`;
    browser = await chromium.launchPersistentContext(join(base, 'chromium-profile'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  after(async () => {
    await browser?.close();
    await consoleProc?.stop();
    await monitor?.stop();
    await up?.stop();
    await dockerd?.cleanup();
    rmSync(base, { recursive: true, force: true });
  });

  it('shows the local host reachable through its gateway, with engine version and certificate days', async () => {
    await page.goto(`${consoleUrl}/hosts`);
    const row = page.locator('#hosts tbody tr').first();
    const text = await visibleText(row);
    assert.match(text, /^green|amber/);
    assert.match(text, new RegExp(`tcp://127.0.0.1:${gatewayPort}`));
    assert.match(text, /yes \(\d+ ms\)/);
    assert.match(text, /API \d+\.\d+/);
    assert.match(text, /\d+ days left\s+\d+ days left/);
    await shot('hosts');
  });

  it('lists the certificates on an expiry chart drawn from the locally served Chart.js', async () => {
    await page.goto(`${consoleUrl}/certificates`);
    await page.waitForSelector('body[data-charts-ready="1"]');
    const names = await page
      .locator('#certificates tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cert')));
    for (const n of ['ca', 'admin', 'gateway', 'viewer']) assert.ok(names.includes(n), `${n} in ${names}`);
    await shot('certificates');
  });

  it('shows the audit trail of the requests just made, with the chain verified', async () => {
    await page.goto(`${consoleUrl}/audit`);
    await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length > 3);
    const chains = await visibleText(page.locator('#chains'));
    assert.match(chains, /verified/);
    const all = await visibleText(page.locator('#records'));
    assert.match(all, /admin/);
    assert.match(all, /POST \/containers\/create \(container\.create\)/);
    assert.match(all, /viewer/);
    await shot('audit');
  });

  it('filters the audit trail by identity and decision, and opens one request in full', async () => {
    await page.goto(`${consoleUrl}/audit`);
    await page.fill('input[name=identity]', 'viewer');
    await page.selectOption('select[name=decision]', 'deny');
    await page.click('#apply');
    await page.waitForURL(/identity=viewer/);
    const rows = page.locator('#records tbody tr');
    assert.ok((await rows.count()) >= 1);
    for (const r of await rows.all()) {
      assert.equal(await r.getAttribute('data-identity'), 'viewer');
      assert.equal(await r.getAttribute('data-decision'), 'deny');
    }
    await shot('audit-filtered');
    await rows.first().locator('a', { hasText: 'full record' }).click();
    const record = await visibleText(page.locator('#request-record'));
    assert.match(record, /"decision": "deny"/);
    assert.match(record, /"cn": "viewer"/);
    assert.match(await visibleText(page.locator('#response-record')), /"status": 403/);
    await shot('audit-request');
  });

  it('explains a request with the policy, and shows the alerts page', async () => {
    await page.goto(`${consoleUrl}/policy`);
    assert.match(await visibleText(page.locator('#roles')), /readonly/);
    await page.fill('input[name=identity]', 'viewer');
    await page.fill('input[name=ou]', 'readonly');
    await page.fill('input[name=request]', 'POST /v1.41/containers/create');
    await page.click('#explain-button');
    assert.match(await visibleText(page.locator('#decision')), /refused before the policy \(HTTP 400\)/);
    await page.fill('textarea[name=body]', '{"Image":"testbox"}');
    await page.click('#explain-button');
    assert.match(await visibleText(page.locator('#decision')), /^deny/);
    assert.match(await visibleText(page.locator('#verdict')), /role readonly/);
    await shot('policy-explain');
    await page.goto(`${consoleUrl}/alerts`);
    await page.waitForSelector('body[data-charts-ready="1"]');
    assert.match(await visibleText(page.locator('#by-rule')), /Burst of policy denials\s+warning\s+1/);
    await shot('alerts');
  });

  it('revokes a client certificate from the UI after a confirmation, and the gateway refuses it within 5 s', async (t) => {
    await page.goto(`${consoleUrl}/certificates`);
    await page.locator('tr[data-cert=viewer] a', { hasText: 'revoke' }).click();
    await shot('revoke-confirm');
    const revokedAt = Date.now();
    await page.click('#confirm');
    await page.waitForURL(/notice=/);
    assert.match(await visibleText(page.locator('#notice')), /Revoked viewer/);
    assert.match(await visibleText(page.locator('tr[data-cert=viewer] .status')), /revoked/);
    await shot('revoked');
    let refused = false;
    // The contract is "within 5 s"; each try is a new TLS connection.
    while (Date.now() - revokedAt < 5000) {
      const r = await dockerAs('viewer', ['ps']);
      if (r.code !== 0) {
        refused = true;
        break;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(refused, 'the gateway still accepts the revoked certificate 5 s after the revoke');
    t.diagnostic(`refused ${Date.now() - revokedAt} ms after the confirm click`);
    assert.equal((await dockerAs('admin', ['ps'])).code, 0, 'the admin certificate still works');
    // The refusal is recorded: the audit trail shows the failed handshake.
    // The console ships the log every 500 ms: reload until the record is there (bounded).
    let seen = false;
    for (let i = 0; i < 20 && !seen; i++) {
      await page.goto(`${consoleUrl}/audit?since=1h`);
      seen = (await visibleText(page.locator('#records'))).includes('handshake-failed');
      if (!seen) await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(seen, 'the failed handshake of the revoked certificate is in the audit trail');
    await shot('audit-after-revoke');
    let alerted = false;
    for (let i = 0; i < 20 && !alerted; i++) {
      await page.goto(`${consoleUrl}/alerts?rule=${encodeURIComponent('Revoked certificate used')}`);
      alerted = (await visibleText(page.locator('#alerts'))).includes('revoked certificate');
      if (!alerted) await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(alerted, 'the monitor raised "Revoked certificate used" and the console shows it');
    await shot('alerts-after-revoke');
  });

  it('answers the same audit query from the command line', async () => {
    const q = await dockward([
      'audit-log',
      'query',
      '--store',
      `sqlite:${join(home, 'events.db')}`,
      '--identity',
      'viewer',
      '--decision',
      'deny',
      '--since',
      '1h',
    ]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /viewer\s+POST \/containers\/create\s+container\.create\s+deny\s+403/);
  });

  it("shows each chain head signed by the gateway's certificate on the audit page", async () => {
    await page.goto(`${consoleUrl}/audit`);
    assert.match(
      await visibleText(page.locator('#chains')),
      /signed by CN=gateway, verified, chains to the CA/,
    );
    await shot('audit-signed-heads');
  });

  it('reports the head a gateway with --store signed; a changed stored signature exits 1', async () => {
    const port = await freeLoopbackPort();
    const db = join(base, 'gateway-store.db');
    const gw = await startDockward(
      [
        '--home',
        home,
        'gateway',
        '--listen',
        `127.0.0.1:${port}`,
        '--upstream',
        dockerd!.host,
        '--audit-log',
        join(base, 'gw2', 'gateway.log'),
        '--store',
        `sqlite:${db}`,
      ],
      env,
      /shipping the audit log to the event store/,
    );
    try {
      const ps = await runDocker(['ps'], {
        env: {
          ...env,
          DOCKER_CONFIG: join(base, 'docker-config'),
          DOCKER_HOST: `tcp://127.0.0.1:${port}`,
          DOCKER_TLS_VERIFY: '1',
          DOCKER_CERT_PATH: join(home, 'pki', 'issued', 'admin'),
        },
      });
      assert.equal(ps.code, 0, ps.stderr);
    } finally {
      await gw.stop(); // drains the shipper: every record and the last head are in the store
    }
    const good = await dockward(['audit-log', 'chains', '--store', `sqlite:${db}`]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /gw2\/gateway\.log.*ok.*signed by CN=gateway, verified, chains to the CA/);
    const store = new Database(db);
    const row = store.prepare('SELECT source, signature FROM chain_heads').get() as {
      source: string;
      signature: string;
    };
    const sig = Buffer.from(row.signature, 'base64');
    sig[4] = sig[4]! ^ 0x10;
    store
      .prepare('UPDATE chain_heads SET signature = ? WHERE source = ?')
      .run(sig.toString('base64'), row.source);
    store.close();
    const bad = await dockward(['audit-log', 'chains', '--store', `sqlite:${db}`]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stderr, /DW_E_AUDIT_LOG_TAMPERED/);
    assert.match(bad.stdout, /SIGNATURE INVALID/);
  });

  it('records `hosts status --store` in the store and the hosts page shows what it saw', async () => {
    const added = await dockward([
      'hosts',
      'add',
      'edge',
      '--endpoint',
      `tcp://127.0.0.1:${gatewayPort}`,
      '--role',
      'readonly',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const status = await dockward(['hosts', 'status', '--store', `sqlite:${join(home, 'events.db')}`]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /edge\s+tcp:\/\/127\.0\.0\.1:\d+\s+yes/);
    await page.goto(`${consoleUrl}/hosts`);
    const lastRun = await visibleText(page.locator('#last-run'));
    assert.match(lastRun, /edge\s.*tcp:\/\/127\.0\.0\.1:\d+\s+yes/);
    assert.match(lastRun, /\d+ days left/);
    await shot('hosts-last-run');
    const badUrl = await dockward(['hosts', 'status', '--store', 'mysql://x']);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /not an event store URL/);
  });

  it('with --mtls refuses a client without a certificate, lets a readonly one read but not act', async () => {
    assert.equal((await dockward(['pki', 'issue', 'client', 'reader', '--ou', 'readonly'])).code, 0);
    const port = await freeLoopbackPort();
    const secure = await startDockward(
      [
        '--home',
        home,
        'console',
        '--mtls',
        '--listen',
        `127.0.0.1:${port}`,
        '--gateway',
        `tcp://127.0.0.1:${gatewayPort}`,
      ],
      env,
      /dockward console: https/,
    );
    const pem = (f: string) => readFileSync(join(home, 'pki', f));
    const get = (path: string, client?: string, method = 'GET') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port,
            path,
            method,
            servername: 'localhost',
            ca: pem('ca.pem'),
            ...(client
              ? { cert: pem(`issued/${client}/cert.pem`), key: pem(`issued/${client}/key.pem`) }
              : {}),
            headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
          },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => {
              body += d.toString();
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(method === 'POST' ? 'reason=unspecified' : undefined);
      });
    try {
      await assert.rejects(get('/hosts'), 'no client certificate: the TLS handshake is refused');
      const asReader = await get('/certificates', 'reader');
      assert.equal(asReader.status, 200);
      assert.match(asReader.body, /Actions need a client certificate with the admin role/);
      const act = await get('/certificates/reader/revoke', 'reader', 'POST');
      assert.equal(act.status, 403);
      assert.match(act.body, /needs a client certificate with the admin role/);
      const asAdmin = await get('/certificates', 'admin');
      assert.match(asAdmin.body, /href="\/certificates\/reader\/revoke"/);
    } finally {
      await secure.stop();
    }
  });

  describe('on PostgreSQL', () => {
    let pg: PrivatePostgres | undefined;
    let pgConsole: DockwardProcess | undefined;
    after(async () => {
      await pgConsole?.stop();
      await pg?.cleanup();
    });

    it('ships the same log into PostgreSQL and serves the audit trail from it', async () => {
      pg = await startPostgres();
      const port = await freeLoopbackPort();
      pgConsole = await startDockward(
        [
          '--home',
          home,
          'console',
          '--listen',
          `127.0.0.1:${port}`,
          '--store',
          pg.url,
          '--gateway',
          `tcp://127.0.0.1:${gatewayPort}`,
        ],
        env,
        /dockward console: http/,
      );
      await page.goto(`http://127.0.0.1:${port}/audit?identity=admin`);
      // The console ships the local log on start: wait for the rows to land.
      for (let i = 0; i < 50 && (await page.locator('#records tbody tr').count()) === 0; i++) {
        await new Promise((res) => setTimeout(res, 200));
        await page.reload();
      }
      assert.match(await visibleText(page.locator('#records')), /admin/);
      assert.match(await visibleText(page.locator('#chains')), /verified/);
      await shot('audit-postgres');
      await page.goto(`http://127.0.0.1:${port}/hosts`);
      assert.match(await visibleText(page.locator('#hosts')), /records, last .*chain verified/);
      await shot('hosts-postgres');
    });
  });
});

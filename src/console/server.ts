/**
 * `dockward console`: the web console. Hono on Node's HTTP server, pages rendered on the server
 * (hono/html escapes every value), Chart.js served from the package. Plain HTTP on loopback;
 * any other address gets HTTPS with a client certificate from the PKI required (mTLS), and only
 * an admin certificate (OU admin) may revoke or renew.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { type HttpBindings, serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { DockwardError, describeError, isDockwardError } from '../errors.js';
import { loadHeadSigner, readPkiCa } from '../events/head-signature.js';
import { AuditShipper } from '../events/shipper.js';
import type { EventStore } from '../events/model.js';
import { parseHostPort } from '../gateway/run.js';
import { ensureCertificate } from '../pki/bootstrap.js';
import { parseReason } from '../pki/revoke.js';
import type { PassphraseSource } from '../pki/store.js';
import { pathExists } from '../store/atomic-write.js';
import type { StatePaths } from '../store/paths.js';
import { alertsPage } from './alerts-page.js';
import { CONSOLE_SCRIPT, chartScript } from './assets.js';
import { auditPage, requestPage } from './audit-page.js';
import { certificatesPage, confirmPage, renew, revoke } from './certificates-page.js';
import { ChainCache, type ConsoleContext } from './context.js';
import { hostsPage } from './hosts-page.js';
import { layout } from './layout.js';
import { policyPage } from './policy-page.js';

export interface ConsoleOptions {
  paths: StatePaths;
  store: EventStore;
  /** HOST:PORT (default 127.0.0.1:8470; port 0 picks a free one). */
  listen: string;
  /** The local gateway (default tcp://127.0.0.1:2376, where `dockward up` puts it). */
  gateway?: string;
  /** Gateway audit logs to ship into the store while the console runs (default: the state folder's). */
  auditLogs?: string[];
  passphrase: PassphraseSource;
  logger: Logger;
  /** Require mTLS on loopback too (a machine with several users). */
  mtls?: boolean;
}

export interface RunningConsole {
  url: string;
  tls: boolean;
  close(): Promise<void>;
}

export const DEFAULT_CONSOLE_LISTEN = '127.0.0.1:8470';

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

type Env = { Bindings: HttpBindings };

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { host, port } = parseHostPort(options.listen, '--listen');
  const tls = options.mtls === true || !isLoopback(host);
  const ctx: ConsoleContext = {
    paths: options.paths,
    store: options.store,
    gateway: options.gateway ?? 'tcp://127.0.0.1:2376',
    passphrase: options.passphrase,
    formToken: randomBytes(24).toString('base64url'),
    logger: options.logger,
    chains: new ChainCache(options.store, await readPkiCa(options.paths.caCert)),
  };

  // The local gateway's log, shipped by whoever runs: the gateway with --store, or this console.
  const logs = options.auditLogs ?? [`${options.paths.audit}/gateway.log`];
  // Heads it ships are signed with the local gateway's key when this home holds it, as the gateway would.
  const gatewayDir = options.paths.issuedDir('gateway');
  const signer = await loadHeadSigner(join(gatewayDir, 'cert.pem'), join(gatewayDir, 'key.pem')).catch(
    () => undefined,
  );
  const shippers = logs.map(
    (logPath) =>
      new AuditShipper({
        store: options.store,
        logPath,
        logger: options.logger,
        pollMs: 500,
        ...(signer ? { signer } : {}),
      }),
  );
  for (const s of shippers) s.start();

  /** On plain loopback the local user is the operator; over mTLS the certificate says. */
  const isAdmin = (incoming: HttpBindings['incoming']): boolean => {
    if (!tls) return true;
    const cert = (incoming.socket as TLSSocket).getPeerCertificate();
    const ou = cert?.subject?.OU;
    return (Array.isArray(ou) ? ou : ou ? [ou] : []).includes('admin');
  };

  const app = new Hono<Env>();
  app.onError((err, c) => {
    const message = isDockwardError(err)
      ? `${err.message}${err.hint ? ` (${err.hint})` : ''}`
      : describeError(err);
    options.logger.warn({ err: describeError(err), path: c.req.path }, 'console: request failed');
    const status = isDockwardError(err) && err.code !== 'DW_E_INTERNAL' ? 400 : 500;
    return c.html(layout('hosts', 'Error', `${message}`), status);
  });
  app.get('/', (c) => c.redirect('/hosts'));
  app.get('/assets/chart.umd.min.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    return c.body(chartScript());
  });
  app.get('/assets/console.js', (c) => {
    c.header('content-type', 'text/javascript; charset=utf-8');
    return c.body(CONSOLE_SCRIPT);
  });
  app.get('/hosts', async (c) => c.html(await hostsPage(ctx)));
  app.get('/certificates', async (c) =>
    c.html(await certificatesPage(ctx, c.req.query('notice'), isAdmin(c.env.incoming))),
  );
  for (const action of ['revoke', 'renew'] as const) {
    app.get(`/certificates/:name/${action}`, (c) => c.html(confirmPage(ctx, action, c.req.param('name'))));
    app.post(`/certificates/:name/${action}`, async (c) => {
      if (!isAdmin(c.env.incoming)) {
        return c.html(
          layout('certificates', 'Forbidden', 'This action needs a client certificate with the admin role.'),
          403,
        );
      }
      const origin = c.req.header('origin');
      const form = await c.req.parseBody();
      // A form another site posts to this loopback port carries neither our token nor our origin.
      if (form['token'] !== ctx.formToken || (origin !== undefined && origin !== new URL(c.req.url).origin)) {
        return c.html(
          layout(
            'certificates',
            'Forbidden',
            'The form is stale or came from another site: reload the page.',
          ),
          403,
        );
      }
      const name = c.req.param('name');
      const notice =
        action === 'revoke'
          ? await revoke(ctx, name, parseReason(String(form['reason'] ?? 'unspecified')))
          : await renew(ctx, name);
      return c.redirect(`/certificates?notice=${encodeURIComponent(notice)}`, 303);
    });
  }
  app.get('/audit', async (c) => c.html(await auditPage(ctx, c.req.query())));
  app.get('/audit/request', async (c) => {
    const page = await requestPage(ctx, c.req.query('source') ?? '', c.req.query('id') ?? '');
    return page ? c.html(page) : c.html(layout('audit', 'Not found', 'No such request in the store.'), 404);
  });
  app.get('/alerts', async (c) => {
    const rule = c.req.query('rule');
    const priority = c.req.query('priority');
    return c.html(await alertsPage(ctx, { ...(rule ? { rule } : {}), ...(priority ? { priority } : {}) }));
  });
  app.get('/policy', async (c) => c.html(await policyPage(ctx, c.req.query())));
  app.get('/healthz', (c) => c.json({ ok: true, store: options.store.kind }));

  let server: ServerType;
  if (tls) {
    const hostSan = isIP(host) ? `IP:${host}` : `DNS:${host}`;
    const sans =
      host === '0.0.0.0' || host === '::'
        ? ['DNS:localhost', 'IP:127.0.0.1']
        : [...new Set(['DNS:localhost', hostSan])];
    const cert = await ensureCertificate(
      options.paths,
      { kind: 'server', name: 'console', sans },
      options.passphrase,
    );
    const read = (f: string) => readFile(`${cert.dir}/${f}`);
    const crl = (await pathExists(options.paths.crl)) ? await readFile(options.paths.crl) : undefined;
    const [key, certPem, ca] = await Promise.all([
      read('key.pem'),
      read('cert.pem'),
      readFile(options.paths.caCert),
    ]);
    server = await listen(() =>
      serve({
        fetch: app.fetch,
        hostname: host,
        port,
        createServer,
        serverOptions: {
          key,
          cert: certPem,
          ca,
          ...(crl ? { crl } : {}),
          requestCert: true,
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
        },
      }),
    );
  } else {
    server = await listen(() => serve({ fetch: app.fetch, hostname: host, port }));
  }
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${tls ? 'https' : 'http'}://${shownHost}:${boundPort}`,
    tls,
    close: async () => {
      await Promise.all(shippers.map((s) => s.stop()));
      const closed = new Promise<void>((res) => server.close(() => res()));
      // A browser keeps idle keep-alive connections open: end them, or close waits for its timeout.
      (server as import('node:http').Server).closeAllConnections?.();
      await closed;
    },
  };
}

/** Starts a server and waits until it listens (or fails to). */
function listen(start: () => ServerType): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = start();
    server.once('listening', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new DockwardError('DW_E_USAGE', `the console cannot listen: ${err.message}`, {
          hint: 'Pick another --listen port, or stop what uses this one.',
        }),
      ),
    );
  });
}

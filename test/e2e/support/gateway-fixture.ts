import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AuditSink } from '../../../src/gateway/audit-sink.js';
import type { Gateway } from '../../../src/gateway/gateway.js';
import { runGateway, type RunGatewayOptions } from '../../../src/gateway/run.js';
import { initCa } from '../../../src/pki/init-ca.js';
import { issueCertificate } from '../../../src/pki/issue.js';
import { statePaths, type StatePaths } from '../../../src/store/paths.js';
import { freeLoopbackPort, type PrivateDockerd } from '../harness/index.js';
import { MemoryAuditSink } from './memory-audit.js';

const none = async () => undefined;

/** A PKI in a temp folder with a CA and named client certificates (name -> OU). */
export async function makePki(
  clients: Record<string, string | undefined>,
): Promise<{ paths: StatePaths; dispose: () => void }> {
  const home = mkdtempSync(join(tmpdir(), 'dw-e2e-pki-'));
  const paths = statePaths(home);
  await initCa(paths, {}, none);
  for (const [name, ou] of Object.entries(clients)) {
    await issueCertificate(paths, { kind: 'client', name, ...(ou ? { ou } : {}) }, none);
  }
  return { paths, dispose: () => rmSync(home, { recursive: true, force: true }) };
}

export interface GatewayFixture {
  gateway: Gateway;
  port: number;
  audit: AuditSink;
  memory?: MemoryAuditSink;
  paths: StatePaths;
  /** docker CLI environment for a client certificate of the PKI. */
  envFor(client: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts an in-process gateway in front of a private dockerd's socket. */
export async function startGateway(
  dockerd: PrivateDockerd,
  paths: StatePaths,
  options: Partial<RunGatewayOptions> = {},
): Promise<GatewayFixture> {
  const port = await freeLoopbackPort();
  const memory = options.audit ? undefined : new MemoryAuditSink();
  const audit = options.audit ?? memory!;
  const logger = pino({ level: process.env['DOCKWARD_TEST_LOG'] ?? 'silent' });
  const running = await runGateway(
    paths,
    { listen: `127.0.0.1:${port}`, upstream: dockerd.host, allow: [], ...options, audit },
    logger,
    none,
  );
  return {
    gateway: running.gateway,
    port,
    audit,
    ...(memory ? { memory } : {}),
    paths,
    envFor: (client, extra = {}) => ({
      ...dockerd.env,
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: paths.issuedDir(client),
      ...extra,
    }),
    stop: running.stop,
  };
}

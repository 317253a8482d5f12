import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineGet } from '../../docker/engine-client.js';
import { DockwardError, describeError } from '../../errors.js';
import { writeDockerContext } from '../../docker/context.js';
import { openAuditSink } from '../../gateway/audit-file-sink.js';
import { assertCanListen } from '../../gateway/listen-check.js';
import { parseHostPort, runGateway } from '../../gateway/run.js';
import { ensureCa, ensureCertificate } from '../../pki/bootstrap.js';
import { ensureDir, MODE_PRIVATE_DIR } from '../../store/atomic-write.js';
import { claimUp } from '../../up/instance.js';
import {
  hasProgram,
  installDockerd,
  pingSocket,
  type Sandbox,
  startSandboxDockerd,
} from '../../up/sandbox-dockerd.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';
import { waitForStopSignal } from '../signals.js';

/** The local daemon's socket; DOCKWARD_LOCAL_SOCKET overrides it (tests never touch the real one). */
export const DEFAULT_SOCKET = process.env['DOCKWARD_LOCAL_SOCKET'] ?? '/var/run/docker.sock';

export interface UpOptions {
  listen: string;
  upstream?: string;
  installMissing?: boolean;
  context: boolean;
}

export interface UpStarted {
  home: string;
  gateway: string;
  upstream: string;
  sandbox: boolean;
  auditLog: string;
  selfCheck: string;
  context: string | null;
  certDir: string;
}

/**
 * `dockward up` (`npm start`): PKI if missing, the local daemon (or a private sandbox dockerd),
 * the gateway with an audit log, a docker context. Prints how to use it, then runs until Ctrl-C.
 * A second `up` with the same home and a taken port fail before anything is written.
 */
export async function up(
  ctx: CommandContext,
  opts: UpOptions,
  started: (r: UpStarted) => void,
): Promise<void> {
  const { paths, out } = ctx;
  const logger = ctx.logger(process.env['DOCKWARD_LOG_LEVEL'] ?? 'warn');
  const passphrase = cliPassphraseSource();
  const listen = parseHostPort(opts.listen, '--listen');
  const claim = await claimUp(paths);
  try {
    await assertCanListen(listen.host, listen.port);
    if (await ensureCa(paths, passphrase)) out.info(`created the CA in ${paths.pki}`);
    const admin = await ensureCertificate(paths, { kind: 'client', name: 'admin', ou: 'admin' }, passphrase);
    if (admin.created) out.info(`issued the admin client certificate in ${admin.dir}`);

    let sandbox: Sandbox | undefined;
    let upstream = opts.upstream;
    if (!upstream) {
      if (await pingSocket(DEFAULT_SOCKET)) upstream = `unix://${DEFAULT_SOCKET}`;
      else {
        if (!hasProgram('dockerd')) {
          if (!opts.installMissing) {
            throw new DockwardError(
              'DW_E_DEPENDENCY',
              `no Docker daemon answers on ${DEFAULT_SOCKET} and dockerd is not installed`,
              {
                hint: 'Start Docker, pass --upstream, or run as root with --install-missing (npm start does).',
              },
            );
          }
          installDockerd((line) => out.info(line));
        }
        if (process.getuid?.() !== 0) {
          throw new DockwardError('DW_E_DEPENDENCY', `no Docker daemon answers on ${DEFAULT_SOCKET}`, {
            hint: 'Start Docker, or run `dockward up` as root to start a private sandbox dockerd.',
          });
        }
        out.info(`no daemon on ${DEFAULT_SOCKET}: starting a private sandbox dockerd`);
        sandbox = await startSandboxDockerd(join(paths.home, 'sandbox'));
        upstream = `unix://${sandbox.socketPath}`;
      }
    }

    await ensureDir(paths.audit, MODE_PRIVATE_DIR);
    const auditLog = join(paths.audit, 'gateway.log');
    const audit = await openAuditSink(auditLog, logger);
    let running: Awaited<ReturnType<typeof runGateway>>;
    try {
      running = await runGateway(
        paths,
        { listen: opts.listen, upstream, allow: [], audit },
        logger,
        passphrase,
      );
    } catch (err) {
      await audit.close();
      await sandbox?.stop();
      throw err;
    }
    const port = running.gateway.address().port;
    const host = `tcp://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
    const selfCheck = await pingOverTls(listen.host, port, admin.dir);
    if (opts.context) {
      await writeDockerContext({
        name: 'dockward',
        host,
        certDir: admin.dir,
        description: 'dockward gateway',
      });
    }
    const context = opts.context ? 'dockward' : null;
    await claim.record({
      gateway: host,
      upstream,
      sandbox: sandbox !== undefined,
      context,
      certDir: admin.dir,
    });
    started({
      home: paths.home,
      gateway: host,
      upstream,
      sandbox: sandbox !== undefined,
      auditLog,
      selfCheck,
      context,
      certDir: admin.dir,
    });
    await waitForStopSignal();
    await running.stop();
    await sandbox?.stop();
  } finally {
    await claim.release();
  }
}

export function renderUp(r: UpStarted): string {
  return [
    `dockward gateway: ${r.gateway} -> ${r.upstream}${r.sandbox ? ' (sandbox dockerd)' : ''}`,
    `  audit log   ${r.auditLog}`,
    `  self-check  GET /_ping over mTLS as "admin": ${r.selfCheck}`,
    '',
    'Next, in another terminal:',
    ...(r.context ? [`  docker --context ${r.context} ps`, '  or:'] : []),
    `  DOCKER_HOST=${r.gateway} DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${r.certDir} docker ps`,
    '',
    `Ctrl-C stops the gateway${r.sandbox ? ' and the sandbox dockerd.' : '.'}`,
  ].join('\n');
}

/** `GET /_ping` through the gateway with the admin certificate: proof the setup works. */
async function pingOverTls(host: string, port: number, certDir: string): Promise<string> {
  const read = (f: string) => readFileSync(join(certDir, f), 'utf8');
  try {
    const res = await engineGet(
      {
        kind: 'tcp',
        host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host,
        port,
        tls: { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem'), servername: 'localhost' },
      },
      '/_ping',
    );
    return `${res.status} ${res.body.trim()}`;
  } catch (err) {
    return `failed: ${describeError(err)}`;
  }
}

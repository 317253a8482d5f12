import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDockerContext } from '../docker/context.js';
import { engineGet } from '../docker/engine-client.js';
import { DockwardError, describeError } from '../errors.js';
import { openAuditSink } from '../gateway/audit-file-sink.js';
import { assertCanListen } from '../gateway/listen-check.js';
import { parseHostPort, runGateway } from '../gateway/run.js';
import type { Logger } from '../log.js';
import { ensureCa, ensureCertificate } from '../pki/bootstrap.js';
import type { PassphraseSource } from '../pki/store.js';
import { ensureDir, MODE_PRIVATE_DIR } from '../store/atomic-write.js';
import type { StatePaths } from '../store/paths.js';
import { claimUp } from './instance.js';
import {
  hasProgram,
  installDockerd,
  pingSocket,
  type Sandbox,
  startSandboxDockerd,
} from './sandbox-dockerd.js';

export interface StartUpOptions {
  listen: string;
  /** The daemon; default: `localSocket` when it answers, else a sandbox dockerd (root only). */
  upstream?: string;
  localSocket: string;
  installMissing: boolean;
  /** Write the docker context "dockward". */
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
 * `dockward up`: claims the state folder (one up per home), checks the port, then PKI if missing,
 * the local daemon or a private sandbox dockerd, the gateway with an audit log, a docker context
 * and a real mTLS self-check. `stop()` undoes what it started and releases the claim.
 */
export async function startUp(
  paths: StatePaths,
  options: StartUpOptions,
  io: { logger: Logger; passphrase: PassphraseSource; progress: (line: string) => void },
): Promise<{ started: UpStarted; stop(): Promise<void> }> {
  const { logger, passphrase, progress } = io;
  const listen = parseHostPort(options.listen, '--listen');
  const claim = await claimUp(paths);
  let sandbox: Sandbox | undefined;
  try {
    // Before anything is written: a taken port must not leave a CA or certificates behind.
    await assertCanListen(listen.host, listen.port);
    if (
      options.upstream?.startsWith('unix://') &&
      !(await pingSocket(options.upstream.slice('unix://'.length)))
    ) {
      throw new DockwardError('DW_E_UPSTREAM', `no Docker daemon answers on ${options.upstream}`, {
        hint: 'Start the daemon or fix --upstream; without --upstream, up uses the local daemon or starts a sandbox.',
      });
    }
    if (await ensureCa(paths, passphrase)) progress(`created the CA in ${paths.pki}`);
    const admin = await ensureCertificate(paths, { kind: 'client', name: 'admin', ou: 'admin' }, passphrase);
    if (admin.created) progress(`issued the admin client certificate in ${admin.dir}`);

    let upstream = options.upstream;
    if (!upstream) {
      if (await pingSocket(options.localSocket)) upstream = `unix://${options.localSocket}`;
      else {
        sandbox = await startSandbox(paths, options, progress);
        upstream = `unix://${sandbox.socketPath}`;
      }
    }

    await ensureDir(paths.audit, MODE_PRIVATE_DIR);
    const auditLog = join(paths.audit, 'gateway.log');
    const audit = await openAuditSink(auditLog, logger);
    const running = await runGateway(
      paths,
      { listen: options.listen, upstream, allow: [], audit },
      logger,
      passphrase,
    ).catch(async (err: unknown) => {
      await audit.close();
      throw err;
    });
    let started: UpStarted;
    try {
      const port = running.gateway.address().port;
      const host = `tcp://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
      const selfCheck = await pingOverTls(listen.host, port, admin.dir);
      if (options.context) {
        await writeDockerContext({
          name: 'dockward',
          host,
          certDir: admin.dir,
          description: 'dockward gateway',
        });
      }
      const context = options.context ? 'dockward' : null;
      const isSandbox = sandbox !== undefined;
      await claim.record({ gateway: host, upstream, sandbox: isSandbox, context, certDir: admin.dir });
      started = {
        home: paths.home,
        gateway: host,
        upstream,
        sandbox: isSandbox,
        auditLog,
        selfCheck,
        context,
        certDir: admin.dir,
      };
    } catch (err) {
      await running.stop(); // a context that cannot be written must not leave the gateway running
      throw err;
    }
    const sandboxNow = sandbox;
    return {
      started,
      stop: async () => {
        try {
          await running.stop();
          await sandboxNow?.stop();
        } finally {
          await claim.release();
        }
      },
    };
  } catch (err) {
    await sandbox?.stop();
    await claim.release();
    throw err;
  }
}

/** A private dockerd under the state folder when no daemon answers (root only; apt with --install-missing). */
async function startSandbox(
  paths: StatePaths,
  options: StartUpOptions,
  progress: (line: string) => void,
): Promise<Sandbox> {
  if (!hasProgram('dockerd')) {
    if (!options.installMissing) {
      throw new DockwardError(
        'DW_E_DEPENDENCY',
        `no Docker daemon answers on ${options.localSocket} and dockerd is not installed`,
        {
          hint: 'Start Docker, pass --upstream, or run as root with --install-missing (npm start does).',
        },
      );
    }
    installDockerd(progress);
  }
  if (process.getuid?.() !== 0) {
    throw new DockwardError('DW_E_DEPENDENCY', `no Docker daemon answers on ${options.localSocket}`, {
      hint: 'Start Docker, or run `dockward up` as root to start a private sandbox dockerd.',
    });
  }
  progress(`no daemon on ${options.localSocket}: starting a private sandbox dockerd`);
  return startSandboxDockerd(join(paths.home, 'sandbox'));
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

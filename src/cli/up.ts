import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { engineGet } from '../docker/engine-client.js';
import { DockwardError } from '../errors.js';
import { writeDockerContext } from '../fleet/docker-context.js';
import { openAuditSink } from '../gateway/audit-file-sink.js';
import { parseHostPort, runGateway } from '../gateway/run.js';
import { createLogger } from '../log.js';
import { ensureCa, ensureCertificate } from '../pki/bootstrap.js';
import { ensureDir, MODE_PRIVATE_DIR } from '../store/atomic-write.js';
import {
  hasProgram,
  installDockerd,
  pingSocket,
  type Sandbox,
  startSandboxDockerd,
} from '../up/sandbox-dockerd.js';
import { contextOf } from './context.js';
import { waitForStopSignal } from './gateway.js';
import { cliPassphraseSource } from './passphrase.js';

interface UpFlags {
  listen: string;
  upstream?: string;
  installMissing?: boolean;
  context: boolean;
}

/** The local daemon's socket; DOCKWARD_LOCAL_SOCKET overrides it (tests never touch the real one). */
const DEFAULT_SOCKET = process.env['DOCKWARD_LOCAL_SOCKET'] ?? '/var/run/docker.sock';

/**
 * `dockward up` (`npm start`): the first-run experience. PKI if missing, the local daemon (or a
 * private sandbox dockerd when none runs), the gateway on 127.0.0.1:2376 with an audit log, a
 * docker context `dockward`, and the command that works. Ctrl-C stops what it started.
 */
export function upCommand(): Command {
  return new Command('up')
    .description(
      'First run: PKI, the gateway in front of the local daemon (or a sandbox dockerd), a docker context.',
    )
    .option('--listen <host:port>', 'where the gateway listens', '127.0.0.1:2376')
    .option(
      '--upstream <url>',
      `the daemon (default: unix://${DEFAULT_SOCKET} when it answers, else a sandbox dockerd)`,
    )
    .option(
      '--install-missing',
      "as root, install Debian's docker.io with apt when dockerd is missing (npm start does)",
    )
    .option('--no-context', 'do not write the docker context "dockward"')
    .action(async (opts: UpFlags, cmd: Command) => {
      const { paths, out } = contextOf(cmd);
      const logger = createLogger(process.env['DOCKWARD_LOG_LEVEL'] ?? 'warn');
      const passphrase = cliPassphraseSource();
      const listen = parseHostPort(opts.listen, '--listen');
      if (await ensureCa(paths, passphrase)) out.info(`created the CA in ${paths.pki}`);
      const admin = await ensureCertificate(
        paths,
        { kind: 'client', name: 'admin', ou: 'admin' },
        passphrase,
      );
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
          out.info('no daemon on /var/run/docker.sock: starting a private sandbox dockerd');
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
      const host = `tcp://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${running.gateway.address().port}`;
      const selfCheck = await pingOverTls(listen.host, running.gateway.address().port, admin.dir);
      let contextLine = '';
      if (opts.context) {
        await writeDockerContext({
          name: 'dockward',
          host,
          certDir: admin.dir,
          description: 'dockward gateway',
        });
        contextLine = '  docker --context dockward ps';
      }
      out.result(
        {
          home: paths.home,
          gateway: host,
          upstream,
          sandbox: sandbox !== undefined,
          auditLog,
          selfCheck,
          context: opts.context ? 'dockward' : null,
        },
        (r) =>
          [
            `dockward gateway: ${r.gateway} -> ${r.upstream}${r.sandbox ? ' (sandbox dockerd)' : ''}`,
            `  audit log   ${r.auditLog}`,
            `  self-check  GET /_ping over mTLS as "admin": ${r.selfCheck}`,
            '',
            'Next, in another terminal:',
            ...(contextLine ? [contextLine, '  or:'] : []),
            `  DOCKER_HOST=${r.gateway} DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=${admin.dir} docker ps`,
            '',
            'Ctrl-C stops the gateway' + (r.sandbox ? ' and the sandbox dockerd.' : '.'),
          ].join('\n'),
      );
      await waitForStopSignal();
      await running.stop();
      await sandbox?.stop();
    });
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
    return `failed: ${(err as Error).message}`;
  }
}

import { startUp, type UpStarted } from '../../up/start.js';
import type { CommandContext } from '../context.js';
import { cliPassphraseSource } from '../passphrase.js';
import { stopSignalFromNow } from '../signals.js';

/** The local daemon's socket; DOCKWARD_LOCAL_SOCKET overrides it (tests never touch the real one). */
export const DEFAULT_SOCKET = process.env['DOCKWARD_LOCAL_SOCKET'] ?? '/var/run/docker.sock';

export interface UpOptions {
  listen: string;
  upstream?: string;
  installMissing?: boolean;
  context: boolean;
}

/**
 * `dockward up` (`npm start`): starts everything (src/up/start.ts), reports how to use it through
 * `started`, then runs until Ctrl-C and stops what it started.
 */
export async function up(
  ctx: CommandContext,
  opts: UpOptions,
  started: (r: UpStarted) => void,
): Promise<void> {
  // Listening from the first step: a stop during startup is taken once startup is done (what
  // started is stopped in order), not Node's default abrupt exit that would leave it behind.
  const stop = stopSignalFromNow();
  let running: Awaited<ReturnType<typeof startUp>>;
  try {
    running = await startUp(
      ctx.paths,
      {
        listen: opts.listen,
        ...(opts.upstream ? { upstream: opts.upstream } : {}),
        localSocket: DEFAULT_SOCKET,
        installMissing: opts.installMissing === true,
        context: opts.context,
      },
      {
        logger: ctx.logger(process.env['DOCKWARD_LOG_LEVEL'] ?? 'warn'),
        passphrase: cliPassphraseSource(),
        progress: (line) => ctx.out.info(line),
      },
    );
  } catch (err) {
    stop.dispose();
    throw err;
  }
  try {
    started(running.started);
    await stop.stopped;
  } finally {
    stop.dispose();
    await running.stop();
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

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCKER_CLI_20, DOCKER_CLI_28, dockerCliPath } from './requirements.js';
import { DEFAULT_RUN_TIMEOUT_MS, type RunResult, runCommand } from './run.js';

export { DOCKER_CLI_20, DOCKER_CLI_28 };

/** How to run the docker CLI or dockward. */
export interface CliRunOptions {
  /** The complete environment, e.g. `dockerd.env` (DOCKER_HOST and a private DOCKER_CONFIG). */
  env: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer;
  /** Killed after this long; default 60 s. */
  timeoutMs?: number;
  cwd?: string;
}

/** Options for runDocker: which CLI binary to use on top of CliRunOptions. */
export interface DockerRunOptions extends CliRunOptions {
  /** A docker CLI binary, e.g. DOCKER_CLI_20; default the CLI 28 (or DOCKWARD_TEST_DOCKER_CLI). */
  cli?: string;
}

/** The repository root, found from this file's place (test/e2e/harness/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The binary runDockward runs: the package's `bin` entry, which runs the built `dist/` (as after
 * `npm ci`). Suites drive it as a user does and never import src/.
 */
export const DOCKWARD_ENTRY = join(REPO_ROOT, 'bin', 'dockward.js');

const HOST_FLAGS = new Set(['-H', '--host', '-c', '--context']);

/** True when the CLI is told which daemon to use, so it can never fall back to /var/run/docker.sock. */
function targetsSomeDaemon(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if ((env.DOCKER_HOST ?? '') !== '' || (env.DOCKER_CONTEXT ?? '') !== '') return true;
  return args.some((a) => HOST_FLAGS.has(a) || /^(--host|--context|-H|-c)=/.test(a));
}

/** Runs the docker CLI with a bounded time; refuses a call that would reach the host's docker socket. */
export async function runDocker(args: readonly string[], options: DockerRunOptions): Promise<RunResult> {
  if (!targetsSomeDaemon(args, options.env)) {
    throw new Error(
      'runDocker: no DOCKER_HOST, DOCKER_CONTEXT, -H or --context: refusing to reach the host docker',
    );
  }
  const cli = options.cli ?? dockerCliPath();
  if (cli === undefined)
    throw new Error(`runDocker: no docker CLI (looked for ${DOCKER_CLI_28} and docker on PATH)`);
  return runCommand(cli, args, {
    env: options.env,
    input: options.input,
    timeoutMs: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    cwd: options.cwd,
  });
}

/** Runs the built dockward binary (`node bin/dockward.js ...args`) with a bounded time. */
export function runDockward(args: readonly string[], options: CliRunOptions): Promise<RunResult> {
  return runCommand(process.execPath, [DOCKWARD_ENTRY, ...args], {
    env: options.env,
    input: options.input,
    timeoutMs: options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
    cwd: options.cwd ?? REPO_ROOT,
  });
}

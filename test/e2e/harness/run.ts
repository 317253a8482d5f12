import { spawn } from 'node:child_process';

/** What a finished child process left behind. */
export interface RunResult {
  /** The exit code, or null when the process died from a signal (a timeout included). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the process was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
}

/** How to run a child process. */
export interface RunOptions {
  /** The complete environment of the child (not merged with process.env). */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; stdin is closed at once when absent. */
  input?: string | Buffer;
  /** Killed (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number;
  cwd?: string;
}

export const DEFAULT_RUN_TIMEOUT_MS = 60_000;

/** Runs a program to completion with a bounded time and collects its output; never rejects on a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // detached: the timeout kills the whole process group, so grandchildren cannot keep pipes open.
    const child = spawn(command, [...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A child that exits before reading all of its input makes stdin fail with EPIPE: not our error.
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** Sends a signal to a process group (falling back to the process), ignoring a group that is gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

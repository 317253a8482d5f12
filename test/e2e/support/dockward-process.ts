/** A long-running `dockward` (gateway, up, console) started from the built binary, read until it is ready. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/index.js';

/** The built binary (`npm run build` makes dist/, which bin/dockward.js runs). */
export const DOCKWARD_BIN = join(REPO_ROOT, 'bin', 'dockward.js');

export interface DockwardProcess {
  child: ChildProcess;
  stdout: string;
  stderr(): string;
  /** SIGINT, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `dockward ...args` and resolves once stdout or stderr matches `ready`. */
export function startDockward(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<DockwardProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DOCKWARD_BIN, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let done = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dockward ${args.join(' ')} did not get ready: ${stdout}\n${stderr}`));
    }, timeoutMs);
    const check = () => {
      if (done || !(ready.test(stdout) || ready.test(stderr))) return;
      done = true;
      clearTimeout(timer);
      resolve({
        child,
        stdout,
        stderr: () => stderr,
        stop: () =>
          new Promise((res) => {
            if (child.exitCode !== null) return res(child.exitCode);
            child.removeAllListeners('exit');
            child.once('exit', (code) => res(code));
            child.kill('SIGINT');
          }),
      });
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`dockward ${args.join(' ')} exited ${code}: ${stdout}\n${stderr}`));
    });
  });
}

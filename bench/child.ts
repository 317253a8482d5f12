// A bench process (gateway, HAProxy, node-pipe) that must listen on a port before it is measured.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForTcp } from '../src/docker/engine-client.js';

/**
 * Waits for `child` to listen on 127.0.0.1:port (killing it and throwing with `why()` if it does
 * not within `timeoutMs`); `stop` sends SIGTERM, then SIGKILL after 5 s.
 */
export async function listeningChild(
  child: ChildProcess,
  port: number,
  why: () => string,
  timeoutMs = 10_000,
): Promise<{ pid: number; stop: () => Promise<void> }> {
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  if (!(await waitForTcp('127.0.0.1', port, timeoutMs)) || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(why());
  }
  return {
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}

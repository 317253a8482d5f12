/** Resolves on the first SIGINT or SIGTERM: how the long-running commands (gateway, up, monitor) stop. */
export function waitForStopSignal(): Promise<void> {
  return stopSignalFromNow().stopped;
}

/**
 * The same, listening from now: a command that takes a while to start (the gateway forks workers
 * and logs "listening" before it is done) must not die of a SIGTERM that comes in between, which
 * Node's default action would do. `dispose` stops listening when startup fails.
 */
export function stopSignalFromNow(): { stopped: Promise<void>; dispose: () => void } {
  let onSignal: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

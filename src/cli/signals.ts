/**
 * Resolves on the first SIGINT or SIGTERM from now: how the long-running commands (gateway, up,
 * monitor, console) stop. Each calls it at its first step: a command that takes a while to start
 * (the gateway forks workers, up starts a gateway and checks it) must not die of a SIGTERM that
 * comes in between, which Node's default action would do. `dispose` stops listening when startup
 * fails.
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

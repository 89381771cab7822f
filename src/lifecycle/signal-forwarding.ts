// `run` and `exec` in the foreground stand in for the container's process:
// the signals a shell sends them go on to it.

// What a shell in front of `run` may send that the container should get.
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Sends the signals we get on to target(). Node delivers a signal from the
 * event loop, so handlers installed before a synchronous spawn also catch
 * what arrives during it, once target() knows the pid.
 */
export function forwardSignals(target: () => number | undefined): Array<[NodeJS.Signals, () => void]> {
  return FORWARDED_SIGNALS.map((signal) => {
    const handler = (): void => {
      const pid = target();
      if (pid === undefined) return;
      try {
        process.kill(pid, signal);
      } catch {
        // it has exited; waitForExit reports that
      }
    };
    process.on(signal, handler);
    return [signal, handler];
  });
}


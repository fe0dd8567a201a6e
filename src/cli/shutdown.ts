/**
 * How `presently serve` stops on SIGTERM (a supervisor, `docker stop`) or SIGINT (Ctrl-C): it drains, within a bound.
 * [P: d-graceful-shutdown]
 */

/**
 * The longest a stop takes: requests in flight get their answers and webhook POSTs in flight finish (at most 5 s of
 * it), then the process exits. Under `docker stop`'s 10 s, after which it would be killed mid-write.
 */
export const SHUTDOWN_BOUND_MS = 8_000;

/**
 * On the first SIGTERM or SIGINT, runs `close` and exits 0 (1 if it failed or took longer than `boundMs`). A second
 * SIGINT (Ctrl-C again) exits at once with 1; a repeated SIGTERM changes nothing.
 */
export function stopOnSignals(close: () => Promise<void>, boundMs = SHUTDOWN_BOUND_MS): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      if (signal !== 'SIGINT') return;
      process.stderr.write('Presently: Ctrl-C again, exiting without waiting\n');
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`Presently stopping (${signal}): finishing requests and deliveries in flight, at most ${boundMs / 1000} s\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`presently: not stopped after ${boundMs / 1000} s; exiting with work in flight\n`);
      process.exit(1);
    }, boundMs);
    timer.unref();
    try {
      await close();
      process.exit(0);
    } catch (err) {
      process.stderr.write(`presently: error while stopping: ${(err as Error).message}\n`);
      process.exit(1);
    }
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));
}

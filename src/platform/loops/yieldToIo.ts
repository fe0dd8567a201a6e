/**
 * Lets the event loop serve I/O (requests, timers, sockets) before a long piece of background work goes on. Store
 * calls on SQLite resolve as microtasks, so a loop of them never reaches the I/O phase unless it yields like this.
 */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

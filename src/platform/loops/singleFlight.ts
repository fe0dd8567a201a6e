/**
 * One run at a time of a piece of background work (the scheduler's, the dispatcher's, the deliverer's, the
 * lifecycle's): a call while a run is in progress makes that run go once more when it ends and returns the same
 * promise, so whatever a caller asked for is covered by the run it waits for. `after` runs when the work is done
 * (re-arming a timer, typically) and is part of the run; errors go to `onError` and never reject the promise.
 */
export class SingleFlight {
  private current: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly opts: {
      onError?: (err: unknown) => void;
      after?: () => Promise<void>;
      /** When true, no new run starts and a run in progress does not go again. */
      stopped?: () => boolean;
    } = {},
  ) {}

  run(): Promise<void> {
    if (this.opts.stopped?.()) return Promise.resolve();
    if (this.current) {
      this.again = true;
      return this.current;
    }
    this.current = (async () => {
      try {
        for (;;) {
          do {
            this.again = false;
            await this.work();
          } while (this.again && !this.opts.stopped?.());
          // `after` is part of the run: idle() waits for it, and a call that came in meanwhile makes the run go on.
          await this.opts.after?.();
          if (!this.again || this.opts.stopped?.()) break;
        }
      } catch (err) {
        this.opts.onError?.(err);
      } finally {
        this.current = null;
      }
    })();
    return this.current;
  }

  /** True while a run is in progress. */
  get busy(): boolean {
    return this.current !== null;
  }

  /** Resolves when the run in progress, if any, has finished. */
  idle(): Promise<void> {
    return this.current ?? Promise.resolve();
  }
}

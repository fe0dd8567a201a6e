/**
 * One pending wake-up on the Clock (system or manual): `set` moves it, `clear` removes it, and once `close`d it never
 * arms again — so a loop that is stopping cannot leave a timer behind, whatever its in-flight work does.
 */
import type { Clock } from '../clock/clock.ts';

export class Alarm {
  private cancel: (() => void) | null = null;
  private closed = false;
  /** The instant it is set for, or null. */
  armedFor: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {}

  set(at: number): void {
    if (this.closed || at === this.armedFor) return;
    this.cancel?.();
    this.armedFor = at;
    this.cancel = this.clock.at(at, () => {
      this.armedFor = null;
      this.cancel = null;
      this.fire();
    });
  }

  clear(): void {
    this.cancel?.();
    this.cancel = null;
    this.armedFor = null;
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  /** Lets a closed alarm arm again (a loop started again after a stop). */
  open(): void {
    this.closed = false;
  }
}

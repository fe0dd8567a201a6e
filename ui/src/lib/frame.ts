/**
 * Work batched per animation frame: `schedule()` any number of times between two frames runs `flush` once, before
 * the next paint. So a hundred stream events a second cost one render a frame, never one each.
 */
export class FrameBatch {
  private scheduled = false;

  constructor(private readonly flush: () => void) {}

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}

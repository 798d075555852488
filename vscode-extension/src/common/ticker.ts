// A status item's redraw clock: running only while what it shows counts down.

export class Ticker {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly tick: () => void,
    private readonly everyMs: number,
  ) {}

  /** Starts the clock when `on` and it is stopped; stops it when not `on`. */
  set(on: boolean): void {
    if (on && !this.timer) this.timer = setInterval(this.tick, this.everyMs);
    if (!on && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  dispose(): void {
    this.set(false);
  }
}

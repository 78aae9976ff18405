/**
 * A task run at most once per window, for coalescing under load: after a quiet spell (the last run
 * is at least `windowMs` ago) a request runs the task at the end of the event-loop turn; otherwise
 * when the window since the last run ends. Requests made while a run is pending share it. With a
 * window of 0, every run happens at the end of the turn of its first request.
 */
export class PacedRun {
  private cancelPending: (() => void) | undefined;
  /** When the task last ran (performance.now()). */
  private lastRun = -Infinity;

  constructor(
    private readonly windowMs: number,
    private readonly task: () => void,
  ) {}

  /** Asks for a run (at most one is pending at a time). */
  request(): void {
    if (this.cancelPending !== undefined) return;
    const wait = this.lastRun + this.windowMs - performance.now();
    if (wait > 0) {
      const timer = setTimeout(() => this.runNow(), wait);
      this.cancelPending = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(() => this.runNow());
      this.cancelPending = () => clearImmediate(immediate);
    }
  }

  /** Runs the task now, in place of the pending run if there is one. */
  runNow(): void {
    this.cancelPending?.();
    this.cancelPending = undefined;
    this.lastRun = performance.now();
    this.task();
  }
}

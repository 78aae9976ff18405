/** A background task run every `intervalMs` after the previous run has finished (runs never overlap). */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly intervalMs: number,
    /** Must not reject: it handles (and reports) its own failures. */
    private readonly task: () => Promise<void>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.task().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.intervalMs);
  }
}

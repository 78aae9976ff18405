/** Progress on stderr, and the time budget that keeps the whole benchmark under its limit. */

const started = Date.now();

export function log(line: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${seconds}s] ${line}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Optional work (the stepped fan-out rates) runs only while it fits before the deadline, leaving
 * room for what must still run after it.
 */
export class Budget {
  private readonly deadline: number;
  private reserved = 0;

  constructor(totalMs: number) {
    this.deadline = started + totalMs;
  }

  /** Keeps `ms` free for later parts until released. */
  reserve(ms: number): void {
    this.reserved += ms;
  }

  release(ms: number): void {
    this.reserved = Math.max(0, this.reserved - ms);
  }

  remainingMs(): number {
    return this.deadline - Date.now() - this.reserved;
  }

  /** Whether `estimateMs` more of optional work fits; says so on stderr when it does not. */
  allows(what: string, estimateMs: number): boolean {
    if (estimateMs <= this.remainingMs()) return true;
    log(
      `time budget: skipping ${what} (needs ~${Math.round(estimateMs / 1000)} s, ${Math.max(0, Math.round(this.remainingMs() / 1000))} s left)`,
    );
    return false;
  }
}

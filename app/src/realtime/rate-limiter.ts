/** A token bucket: `ratePerSecond` tokens per second, holding at most `ratePerSecond` (one second of burst). */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = performance.now.bind(performance),
  ) {
    this.tokens = ratePerSecond;
    this.updatedAt = this.now();
  }

  /** Takes one token; false when the bucket is empty (the caller rejects the message). */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

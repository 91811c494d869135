/** Token bucket: `rate` tokens per second, at most `capacity` banked (the allowed burst). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(rate > 0) || !(capacity > 0)) throw new Error('rate and capacity must be positive');
    // Start with one second's worth (not a full bucket) so a replay does not open with a burst.
    this.tokens = Math.min(capacity, rate);
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }

  /** Waits until `n` (≤ capacity) tokens are available, then spends them. */
  async take(n: number): Promise<void> {
    if (n > this.capacity) throw new Error(`cannot take ${n} tokens from a bucket of ${this.capacity}`);
    this.refill();
    while (this.tokens < n) {
      await this.sleep(((n - this.tokens) / this.rate) * 1000);
      this.refill();
    }
    this.tokens -= n;
  }
}

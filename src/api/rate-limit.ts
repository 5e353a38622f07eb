// Per-client token buckets: each client may burst one second's worth of requests and is refilled at
// `requests_per_second`. The table of clients is bounded; when full, the least recently added client is
// forgotten (it simply starts again with a full bucket) and counted.

interface Bucket { tokens: number; at: number }

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly ratePerSecond: number,
    private readonly maxClients = 10_000,
    private readonly onEvict: () => void = () => undefined,
  ) {}

  /** 0 when the request may proceed; otherwise the whole seconds to wait before the next token. */
  take(client: string, nowMs = performance.now()): number {
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= this.maxClients) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
        this.onEvict();
      }
      b = { tokens: this.ratePerSecond, at: nowMs };
      this.buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.ratePerSecond, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerSecond);
      b.at = nowMs;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSecond));
  }

  get clients(): number {
    return this.buckets.size;
  }
}

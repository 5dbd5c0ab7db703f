/** The outcome of taking a token. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Seconds until a token is available again (when refused). */
  readonly retryAfterSeconds: number;
}

/**
 * Token buckets, one per name (an API key id, or `ip:<address>` for failed authentication):
 * `burst` requests at once, refilled at `perSecond`. Buckets of names not seen for a while are
 * dropped once there are more than `maxBuckets`.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly options: {
      readonly burst: number;
      readonly perSecond: number;
      readonly now?: () => number;
      readonly maxBuckets?: number;
    },
  ) {}

  /** Takes one token from `name`'s bucket. */
  take(name: string): RateDecision {
    const now = (this.options.now ?? Date.now)();
    const { burst, perSecond } = this.options;
    const bucket = this.buckets.get(name) ?? { tokens: burst, updatedAt: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * perSecond);
    bucket.updatedAt = now;
    // Re-inserting keeps the map in least-recently-used order for eviction.
    this.buckets.delete(name);
    this.buckets.set(name, bucket);
    if (this.buckets.size > (this.options.maxBuckets ?? 10_000)) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const retryAfterSeconds = perSecond > 0 ? Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) : 3600;
    return { allowed: false, retryAfterSeconds };
  }
}

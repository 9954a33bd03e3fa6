/**
 * Token buckets like the real API's documented limits. The numbers are Pachca's own
 * (shared/reference/pachca-api-notes.md, "Rate limits"), written here and never taken from the
 * client: a test server that copies the client's assumptions cannot catch a wrong one.
 * Time is passed in, never read here.
 */

export interface BucketLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed at once after a quiet period. */
  burst: number;
}

export type BucketName = 'messageWrite' | 'messageRead' | 'eventHistory' | 'other';

export type SandboxRateLimits = Record<BucketName, BucketLimit>;

/**
 * Pachca's documented limits per token: message create/edit/delete ~4 req/s per chat with short
 * bursts (the burst here is the conservative end of "short"), reads ~10 req/s, event history
 * ~5 requests per 2 s, other methods ~50 req/s.
 */
export const DOCUMENTED_LIMITS: SandboxRateLimits = {
  messageWrite: { perSecond: 4, burst: 10 },
  messageRead: { perSecond: 10, burst: 10 },
  eventHistory: { perSecond: 2.5, burst: 5 },
  other: { perSecond: 50, burst: 50 },
};

export function resolveRateLimits(option: false | Partial<SandboxRateLimits> | undefined): SandboxRateLimits | null {
  if (option === false) return null;
  const d = DOCUMENTED_LIMITS;
  return {
    messageWrite: { ...d.messageWrite, ...option?.messageWrite },
    messageRead: { ...d.messageRead, ...option?.messageRead },
    eventHistory: { ...d.eventHistory, ...option?.eventHistory },
    other: { ...d.other, ...option?.other },
  };
}

interface BucketState {
  tokens: number;
  at: number;
}

export type TakeResult = { ok: true } | { ok: false; waitMs: number; retryAfterSec: number };

export class RateLimiter {
  #buckets = new Map<string, BucketState>();

  constructor(readonly limits: SandboxRateLimits) {}

  /** Takes one request from the bucket `key` (already scoped by token and, for writes, chat). */
  take(name: BucketName, key: string, now: number): TakeResult {
    const limit = this.limits[name];
    const id = `${name}\u0000${key}`;
    let b = this.#buckets.get(id);
    if (!b) this.#buckets.set(id, (b = { tokens: limit.burst, at: now }));
    const elapsed = Math.max(0, now - b.at);
    b.tokens = Math.min(limit.burst, b.tokens + (elapsed * limit.perSecond) / 1000);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    const waitMs = ((1 - b.tokens) / limit.perSecond) * 1000;
    return { ok: false, waitMs, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  reset(): void {
    this.#buckets.clear();
  }
}

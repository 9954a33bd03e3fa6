/**
 * Token buckets like the real API's documented limits. The numbers come from the client's
 * defaults (CLIENT_DEFAULTS.rateLimits) so the client paces exactly against what the sandbox
 * enforces. Time is passed in, never read here.
 */
import { CLIENT_DEFAULTS, type BucketLimit } from '../pachca/defaults.js';

export type BucketName = 'messageWrite' | 'messageRead' | 'eventHistory' | 'other';

export type SandboxRateLimits = Record<BucketName, BucketLimit>;

export function resolveRateLimits(option: false | Partial<SandboxRateLimits> | undefined): SandboxRateLimits | null {
  if (option === false) return null;
  const d = CLIENT_DEFAULTS.rateLimits;
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

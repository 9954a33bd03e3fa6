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

/** The class a route's requests are counted in (besides the token-wide budget every one uses). */
export type BucketName = 'messageWrite' | 'messageRead' | 'eventHistory' | 'other';

/** `token`: every API request of one token together, whatever its class. */
export type LimitName = BucketName | 'token';

export type SandboxRateLimits = Record<LimitName, BucketLimit>;

/** Per limit, a partial override (`{ token: { perSecond: 30 } }` keeps the documented burst). */
export type SandboxRateLimitsOption = { [K in LimitName]?: Partial<BucketLimit> };

/**
 * Pachca's documented limits per token: message create/edit/delete ~4 req/s per chat with short
 * bursts (the burst here is the conservative end of "short"), reads ~10 req/s, event history
 * ~5 requests per 2 s, other methods ~50 req/s, and ~50 req/s for all of the token's requests
 * together ("Rate limit: ~50 req/sec" in the bot guide). The guide gives no burst for the token;
 * one second's worth is what a token bucket of that rate naturally holds.
 */
export const DOCUMENTED_LIMITS: SandboxRateLimits = {
  messageWrite: { perSecond: 4, burst: 10 },
  messageRead: { perSecond: 10, burst: 10 },
  eventHistory: { perSecond: 2.5, burst: 5 },
  other: { perSecond: 50, burst: 50 },
  token: { perSecond: 50, burst: 50 },
};

const LIMIT_NAMES = Object.keys(DOCUMENTED_LIMITS) as LimitName[];

/** The documented limits with an instance's overrides; `false`: no limits at all. */
export function resolveRateLimits(option: false | SandboxRateLimitsOption | undefined): SandboxRateLimits | null {
  if (option === false) return null;
  const out = {} as SandboxRateLimits;
  for (const name of LIMIT_NAMES) {
    const limit = { ...DOCUMENTED_LIMITS[name], ...option?.[name] };
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new Error(`sandbox: rateLimits.${name} needs perSecond > 0 and burst >= 1, got ${JSON.stringify(limit)}`);
    }
    out[name] = limit;
  }
  return out;
}

/** Which limit turned a request away (null: it passed). */
export type LimitVerdict = { ok: true } | { ok: false; limit: LimitName; retryAfterSec: number };

interface BucketState {
  tokens: number;
  at: number;
}

export type TakeResult = { ok: true } | { ok: false; waitMs: number; retryAfterSec: number };

export class RateLimiter {
  #buckets = new Map<string, BucketState>();

  constructor(readonly limits: SandboxRateLimits) {}

  /**
   * One API request of `token`: first the token-wide budget, then its class (`scope` narrows the
   * class bucket, the chat for message writes). A request the class refuses has still been made:
   * it stays counted against the token, as a server counts every request it receives.
   */
  admit(token: string, cls: BucketName | undefined, scope: string | null, now: number): LimitVerdict {
    const t = this.take('token', token, now);
    if (!t.ok) return { ok: false, limit: 'token', retryAfterSec: t.retryAfterSec };
    if (!cls) return { ok: true };
    const c = this.take(cls, scope === null ? token : `${token}\u0000${scope}`, now);
    return c.ok ? { ok: true } : { ok: false, limit: cls, retryAfterSec: c.retryAfterSec };
  }

  /** Takes one request from the bucket `key` (already scoped by token and, for writes, chat). */
  take(name: LimitName, key: string, now: number): TakeResult {
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

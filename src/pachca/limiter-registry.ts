/**
 * One limiter per token, shared by every client in the process: the limits belong to the token
 * (Pachca counts per token), not to a client instance.
 */
import { createHash } from 'node:crypto';
import { RateLimiter, type LimiterOptions } from './limiter.js';

const registry = new Map<string, RateLimiter>();

/** Registry key: base URL plus a hash of the token (the token itself is never kept as a key). */
export function limiterKey(baseUrl: string, token: string): string {
  const h = createHash('sha256').update(token).digest('hex').slice(0, 16);
  return `${baseUrl.replace(/\/+$/, '')}#${h}`;
}

/**
 * The process-wide limiter of a token. Later callers passing `rateLimits` reconfigure it: the
 * limits belong to the token, not to a client instance.
 */
export function limiterFor(baseUrl: string, token: string, opts: LimiterOptions = {}): RateLimiter {
  const key = limiterKey(baseUrl, token);
  let l = registry.get(key);
  if (!l) {
    l = new RateLimiter(opts);
    registry.set(key, l);
  } else if (opts.rateLimits) {
    l.configure(opts.rateLimits);
  }
  return l;
}

/** Every token's limiter (for metrics). */
export function allLimiters(): ReadonlyMap<string, RateLimiter> {
  return registry;
}

/**
 * Every default of the Pachca client in one place. The numbers come from Pachca's documented
 * limits (../shared/reference/pachca-api-notes.md): they are "approximate and flexible", so the
 * pacing stays a little under them. Override any of them under `pachca:` in jobs.config.yaml or
 * in `new PachcaClient({ rateLimits, retry, timeouts })`.
 */
export interface BucketLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed at once after a quiet period (token-bucket capacity). */
  burst: number;
}

export interface RateLimitSettings {
  /** POST/PUT/DELETE /messages: counted per token **and chat**. */
  messageWrite: BucketLimit;
  /** GET /messages… */
  messageRead: BucketLimit;
  /** GET /webhooks/events: 5 requests per 2 s. */
  eventHistory: BucketLimit;
  /** Every other method. */
  other: BucketLimit;
  /**
   * Every request of the token together (~50 req/s in Pachca's bot guide): the per-chat and
   * per-class buckets sit inside it, 100 chats × 4 msg/s is not 400 req/s.
   */
  token: BucketLimit;
  /** How a 429 lowers the rate of the bucket it hit. Optional: older configs omit it. */
  adaptive?: AdaptiveSettings;
  /** Consecutive 429s on one token that open the circuit breaker (whole token slowed down). */
  breakerThreshold: number;
  /** While open, every bucket runs at this fraction of its rate. */
  breakerSlowdown: number;
  /** How long the breaker stays open after the last 429. */
  breakerCooldownMs: number;
}

/**
 * Multiplicative decrease, linear recovery: a server whose real limits are lower than the
 * documented ones (a smaller burst, 30 req/s instead of 50) answers a handful of 429s, after
 * which the bucket runs under its real rate and creeps back up slowly.
 */
export interface AdaptiveSettings {
  /** A 429 multiplies the bucket's rate (and burst) by this. */
  decrease: number;
  /** The rate never drops under this fraction of the configured one. */
  minFactor: number;
  /** Fraction of the configured rate regained per second without a 429. */
  recoveryPerSecond: number;
}

export interface RetrySettings {
  /** Retries after a 5xx, connection error or timeout (429s are waited out, not counted here). */
  retries: number;
  /** First backoff; doubles each attempt, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * 429 answers in a row on one call after which it fails (E_DELIVERY) instead of retrying
   * (Pachca documents "at most ~3 retries"). Optional: older configs omit it.
   */
  rateLimitRetries?: number;
  /**
   * The shortest wait after a 429, whatever Retry-After says (0, missing): doubles with each 429
   * in a row. Optional: older configs omit it.
   */
  minRetryAfterMs?: number;
  /** A Retry-After beyond this is treated as a failure (E_DELIVERY) instead of a wait. */
  maxRetryAfterMs: number;
  /** All attempts of one call, waits included, must end within this. */
  maxTotalMs: number;
  /** How many recent messages to read when checking whether an ambiguous POST went through. */
  dedupeLookback: number;
  /**
   * A message created up to this long before the ambiguous attempt began still counts as ours
   * (our clock and Pachca's differ). Optional: older configs omit it.
   */
  dedupeClockSkewMs?: number;
  /**
   * After an ambiguous attempt (no answer, a 5xx), how long to let a slow server finish storing
   * the message before concluding from the chat that it did not land. Optional: older configs omit it.
   */
  settleMs?: number;
}

export interface TimeoutSettings {
  connectMs: number;
  /** Until the response headers arrive. */
  headersMs: number;
  /** Between body chunks. */
  bodyMs: number;
  /** One attempt, start to end. */
  requestMs: number;
}

export interface ClientDefaults {
  baseUrl: string;
  rateLimits: RateLimitSettings;
  retry: RetrySettings;
  timeouts: TimeoutSettings;
  /** Safe margin under the documented ~40 KB per message (UTF-8 bytes). */
  maxMessageBytes: number;
  /**
   * Sockets per client to the API (the keep-alive pool's size, transport.ts). Bounded so a fan-out burst
   * queues in the client instead of flooding the server's accept queue (SYN drops stall for
   * seconds). Optional: older configs omit it.
   */
  maxConnections?: number;
}

export const DEFAULT_BASE_URL = 'https://api.pachca.com/api/shared/v1';

export const CLIENT_DEFAULTS: ClientDefaults = {
  baseUrl: DEFAULT_BASE_URL,
  rateLimits: {
    messageWrite: { perSecond: 4, burst: 10 },
    messageRead: { perSecond: 10, burst: 10 },
    eventHistory: { perSecond: 2.5, burst: 5 },
    other: { perSecond: 50, burst: 50 },
    // The guide gives no burst for the token; half a second of it keeps a cold start gentle.
    token: { perSecond: 50, burst: 25 },
    adaptive: { decrease: 0.7, minFactor: 0.1, recoveryPerSecond: 0.02 },
    breakerThreshold: 3,
    breakerSlowdown: 0.5,
    breakerCooldownMs: 30_000,
  },
  retry: {
    retries: 3,
    baseDelayMs: 500,
    maxDelayMs: 8_000,
    rateLimitRetries: 3,
    minRetryAfterMs: 1_000,
    maxRetryAfterMs: 120_000,
    maxTotalMs: 300_000,
    dedupeLookback: 20,
    dedupeClockSkewMs: 5_000,
    settleMs: 3_000,
  },
  timeouts: {
    connectMs: 10_000,
    headersMs: 30_000,
    bodyMs: 30_000,
    requestMs: 60_000,
  },
  maxMessageBytes: 36_000,
  maxConnections: 32,
};

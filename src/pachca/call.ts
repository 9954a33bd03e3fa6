/**
 * One API call: pacing, attempts, retries, dedupe. 429s are waited out (bounded by
 * retry.maxRetryAfterMs per wait and retry.maxTotalMs overall); 5xx, connection errors and
 * timeouts get at most retry.retries retries with full-jitter backoff. The client (client.ts)
 * owns the state this reads and updates; this is the loop, in one place for every method.
 */
import { DigestError } from '../errors.js';
import type { DigestEvents } from '../events.js';
import { backoffDelay, parseRetryAfter, rateLimitWait, sleep } from './backoff.js';
import { CLIENT_DEFAULTS, type RetrySettings } from './defaults.js';
import { PachcaApiError, redact } from './errors.js';
import { attempt as attemptOnce, type AttemptResult } from './attempt.js';
import { excerpt, parseJson, pausedError, responseError, throttledHint, unknownOutcome } from './failures.js';
import { abortError, BucketPausedError, type BucketClass, type Permit } from './bucket.js';
import type { RateLimiter } from './limiter.js';
import { bucketKey } from './limiter-settings.js';
import type { LandedQuery } from './landed.js';
import type { Transport } from './transport.js';
import type { CreateMessageInput, Message } from './types.js';

export type Query = Record<string, string | number | boolean | undefined | null>;

/** Statuses retried with backoff (Pachca's documented policy). */
const RETRY_STATUSES = new Set([500, 502, 503, 504]);

/** What one call needs from its client. */
export interface CallContext {
  readonly token: string;
  readonly baseUrl: string;
  readonly transport: Transport;
  readonly limiter: RateLimiter;
  readonly retry: RetrySettings;
  readonly requestMs: number;
  emit<K extends keyof DigestEvents>(event: K, payload: DigestEvents[K]): void;
  /** What a successful answer teaches the client (the bot's id, the chats of messages). */
  learn(method: string, path: string, data: unknown): void;
  findLanded(input: CreateMessageInput, q: LandedQuery): Promise<Message | null>;
}

export interface CallSpec {
  query?: Query;
  body?: unknown;
  bucket: BucketClass;
  scope?: string;
  signal?: AbortSignal;
  dedupe?: { input: CreateMessageInput; chatId: number | undefined };
}

export async function callApi<T>(c: CallContext, method: string, path: string, spec: CallSpec): Promise<T> {
  const { signal } = spec;
  const limiter = c.limiter;
  const key = bucketKey(spec.bucket, spec.scope);
  const url = c.baseUrl + path + queryString(spec.query);
  const bodyText = spec.body === undefined ? undefined : JSON.stringify(spec.body);
  const started = Date.now();
  const deadline = started + c.retry.maxTotalMs;
  let failures = 0;
  /** 429 answers in a row on this call. */
  let rateLimited = 0;
  /** When the first attempt that may have created the message began. */
  let ambiguousSince: number | undefined;

  /** When the last attempt that may have created the message ended. */
  let ambiguousEnd = 0;

  /** Looks before posting again (or giving up): a failed attempt may have created the message. */
  const check = async (failure: PachcaApiError): Promise<T | undefined> => {
    const dedupe = spec.dedupe;
    if (!dedupe || ambiguousSince === undefined) return undefined;
    // A server slower than our timeout may still be storing it: wait out the settle window first.
    const settle = ambiguousEnd + (c.retry.settleMs ?? CLIENT_DEFAULTS.retry.settleMs ?? 0) - Date.now();
    if (settle > 0) await sleep(settle, signal);
    const found = await c.findLanded(dedupe.input, { since: ambiguousSince, chatId: dedupe.chatId, signal }).catch((e: unknown) => {
      if (e instanceof DigestError && (e.code === 'E_ABORTED' || e.code === 'E_TIMEOUT')) throw e;
      throw unknownOutcome(method, path, dedupe.input, failure, e);
    });
    if (!found) return undefined;
    c.learn(method, path, found);
    return { data: found } as T;
  };

  const cls = spec.bucket;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortError(signal);
    let permit: Permit;
    try {
      // A bucket paused by a 429 stays paused for the whole Retry-After (never sent into), but a
      // call that would wait longer than retry.maxRetryAfterMs (or past its retry.maxTotalMs)
      // fails at once with the 429 error instead of hanging until some outer timeout.
      permit = await limiter.acquire(cls, key, signal, { maxPauseMs: c.retry.maxRetryAfterMs, deadline });
    } catch (e) {
      if (!(e instanceof BucketPausedError)) throw e;
      const err = pausedError(c.retry, method, path, e);
      const found = await check(err);
      if (found) return found;
      throw err;
    }
    if (permit.waitedMs > 0) c.emit('pachca:limiter-wait', { bucket: key, waitedMs: permit.waitedMs, class: cls });

    const attemptStart = Date.now();
    let r: AttemptResult;
    try {
      r = await attemptOnce(c.transport, c.token, c.requestMs, method, url, bodyText, signal);
    } finally {
      permit.release();
    }
    const durationMs = Date.now() - attemptStart;
    c.emit('pachca:request', {
      method,
      path,
      status: r.kind === 'response' ? r.status : 'error',
      durationMs,
      bucket: key,
      attempt,
      class: cls,
    });

    let failure: PachcaApiError;
    let ambiguous: boolean;
    if (r.kind === 'response') {
      const { status } = r;
      if (status === 429) {
        const now = Date.now();
        rateLimited++;
        const retryAfterMs = rateLimitWait(parseRetryAfter(r.headers['retry-after'], now, r.headers['date']), rateLimited, c.retry);
        // The bucket pauses for the full Retry-After even when that is beyond the cap and this
        // call gives up below: later calls on it then fail fast too (see acquire above).
        limiter.onRateLimited(cls, key, retryAfterMs, now, attemptStart);
        c.emit('pachca:rate-limited', { method, path, bucket: key, retryAfterMs, class: cls });
        const maxRetries = c.retry.rateLimitRetries ?? CLIENT_DEFAULTS.retry.rateLimitRetries ?? 3;
        if (rateLimited > maxRetries) {
          // A 429 means "not processed": nothing to look for, and nothing more to send into it.
          throw new PachcaApiError({
            method,
            path,
            status: 429,
            errors: responseError(c.token, method, path, r, retryAfterMs).errors,
            retryAfterMs,
            message: `Pachca ${method} ${path} answered 429 Too Many Requests ${rateLimited} times in a row; giving up after retry.rateLimitRetries (${maxRetries}) retries`,
            hint: throttledHint(key, now + retryAfterMs),
          });
        }
        if (retryAfterMs > c.retry.maxRetryAfterMs || now + retryAfterMs > deadline) {
          const err = responseError(c.token, method, path, r, retryAfterMs);
          const found = await check(err);
          if (found) return found;
          throw new PachcaApiError({
            method,
            path,
            status: 429,
            errors: err.errors,
            retryAfterMs,
            message: `Pachca ${method} ${path} answered 429 Too Many Requests and asked to wait ${Math.ceil(retryAfterMs / 1000)} s, longer than allowed (retry.maxRetryAfterMs ${c.retry.maxRetryAfterMs} ms, retry.maxTotalMs ${c.retry.maxTotalMs} ms)`,
            hint: throttledHint(key, now + retryAfterMs),
          });
        }
        continue; // the paused bucket holds the next attempt until Retry-After has passed
      }
      limiter.onSuccess();
      rateLimited = 0;
      if (status >= 200 && status < 300) {
        const parsed = parseJson(r.text);
        if (r.text !== '' && parsed === undefined) {
          throw new PachcaApiError({
            method,
            path,
            status,
            bodyExcerpt: excerpt(r.text, c.token),
            message: `Pachca ${method} ${path} answered ${status} with a body that is not JSON: ${excerpt(r.text, c.token)}`,
            hint: 'the base URL may point at something other than the Pachca API (check PACHCA_BASE_URL / baseUrl)',
          });
        }
        const data = (parsed as { data?: unknown } | undefined)?.data;
        c.learn(method, path, data);
        return parsed as T;
      }
      failure = responseError(c.token, method, path, r);
      if (!RETRY_STATUSES.has(status)) throw failure;
      ambiguous = true;
    } else {
      failure = new PachcaApiError({
        method,
        path,
        message: `Pachca ${method} ${path}: no answer (${r.error.code ?? r.error.name}: ${redact(r.error.message, c.token)})`,
        hint: `check that ${new URL(c.baseUrl).origin} is reachable from here (network, proxy, DNS) and the timeouts are not too small`,
        cause: r.error,
      });
      ambiguous = r.ambiguous;
    }

    // A failure worth retrying.
    if (spec.dedupe && ambiguous) {
      ambiguousSince ??= attemptStart;
      ambiguousEnd = Date.now();
    }
    failures++;
    const delayMs = backoffDelay(failures, c.retry);
    if (failures > c.retry.retries || Date.now() + delayMs > deadline) {
      const found = await check(failure);
      if (found) return found;
      throw failure;
    }
    c.emit('pachca:retry', {
      method,
      path,
      attempt,
      delayMs,
      reason: r.kind === 'response' ? `status ${r.status}` : (r.error.code ?? r.error.name),
    });
    await sleep(delayMs, signal);
    const found = await check(failure);
    if (found) return found;
  }
}

/** Pacing class from the method and path (Pachca's documented limit groups). */
export function classify(method: string, path: string): BucketClass {
  const p = path.split('?')[0]!;
  // The documented ~5 per 2 s is for reading the history; deleting a handled event is an ordinary call.
  if (/^\/webhooks\/events\b/.test(p)) return method === 'GET' ? 'eventHistory' : 'other';
  if (/^\/messages(\/\d+)?$/.test(p)) return method === 'GET' ? 'messageRead' : 'messageWrite';
  return 'other';
}

function queryString(q: Query | undefined): string {
  if (!q) return '';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null) sp.append(k, String(v));
  const s = sp.toString();
  return s ? `?${s}` : '';
}


/**
 * The errors a failed call becomes: an API answer (ApiError / OAuthError bodies, token redacted),
 * a call refused by a paused bucket, a delivery whose outcome is unknown.
 */
import type { RetrySettings } from './defaults.js';
import { PachcaApiError, redact, type ApiErrorItem } from './errors.js';
import type { BucketPausedError } from './bucket.js';
import type { CreateMessageInput } from './types.js';

export function responseError(
  token: string,
  method: string,
  path: string,
  r: { status: number; text: string },
  retryAfterMs?: number,
): PachcaApiError {
  const parsed = parseJson(r.text) as { errors?: ApiErrorItem[]; error?: string; error_description?: string } | undefined;
  const tok = token;
  const errors = Array.isArray(parsed?.errors)
    ? parsed.errors.map((e) => ({
        key: redact(String(e?.key ?? ''), tok),
        value: e?.value == null ? null : redact(String(e.value), tok),
        message: redact(String(e?.message ?? ''), tok),
        code: String(e?.code ?? ''),
        payload: e?.payload ?? null,
      }))
    : undefined;
  return new PachcaApiError({
    method,
    path,
    status: r.status,
    errors,
    oauthError: typeof parsed?.error === 'string' ? redact(parsed.error, tok) : undefined,
    oauthDescription: typeof parsed?.error_description === 'string' ? redact(parsed.error_description, tok) : undefined,
    bodyExcerpt: parsed === undefined && r.text ? excerpt(r.text, tok) : undefined,
    retryAfterMs,
  });
}

/** A call turned away by a bucket still paused by an earlier 429 (nothing was sent). */
export function pausedError(retry: RetrySettings, method: string, path: string, e: BucketPausedError): PachcaApiError {
  const limit = e.exceeds === 'maxPauseMs' ? `retry.maxRetryAfterMs ${retry.maxRetryAfterMs} ms` : `what is left of retry.maxTotalMs ${retry.maxTotalMs} ms`;
  return new PachcaApiError({
    method,
    path,
    status: 429,
    retryAfterMs: e.remainingMs,
    message: `Pachca ${method} ${path} not sent: an earlier 429 Too Many Requests asked to wait ${Math.ceil(e.retryAfterMs / 1000)} s (Retry-After) on ${e.bucket}, ${Math.ceil(e.remainingMs / 1000)} s of it left, longer than allowed (${limit})`,
    hint: throttledHint(e.bucket, e.pausedUntil),
    cause: e,
  });
}

/** An ambiguous POST whose landing could not be checked (reading the target's chat failed). */
export function unknownOutcome(method: string, path: string, input: CreateMessageInput, failure: PachcaApiError, cause: unknown): PachcaApiError {
  const what = `${input.entity_type ?? 'discussion'} ${input.entity_id}`;
  return new PachcaApiError({
    method,
    path,
    status: failure.status,
    outcomeUnknown: true,
    message: `delivery outcome unknown: Pachca ${method} ${path} to ${what} failed ambiguously (${failure.message}) and the message may or may not have been posted`,
    hint: `check the chat (${what}) before re-running: reading it to verify failed too (the bot needs to read the chat: messages:read, chats:read, threads:read)`,
    cause,
  });
}

/**
 * Why a 429 beyond the cap fails instead of waiting, and what to do. The bucket stays paused for
 * the whole Retry-After (Pachca may block a token that keeps sending after a 429); calls on it
 * fail at once meanwhile, other chats and request classes go on.
 */
export function throttledHint(bucket: string, until: number): string {
  return (
    `the token is being throttled: nothing is sent on ${bucket} before ${new Date(until).toISOString()} ` +
    '(Pachca may block a token that keeps sending after a 429) and calls on it fail at once until then; ' +
    'other chats and request classes are not affected. Send fewer messages per run, retry after that time, ' +
    'or raise retry.maxRetryAfterMs'
  );
}

export function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The start of a non-JSON body, tags and whitespace squeezed, for an error message. */
export function excerpt(text: string, token: string): string {
  const plain = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = plain.length > 160 ? `${plain.slice(0, 160)}…` : plain;
  return redact(cut || '(empty)', token);
}


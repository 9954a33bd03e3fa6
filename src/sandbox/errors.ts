/**
 * Error answers with the real API's body shapes: ApiError `{errors:[…]}` for 4xx validation and
 * lookups, OAuthError `{error, error_description}` for authentication.
 */
// One wire shape for both ends: the sandbox answers with what the client parses.
import type { ApiErrorItem } from '../pachca/index.js';

export type { ApiErrorItem };

export interface ApiErrorBody {
  errors: ApiErrorItem[];
}

export interface OAuthErrorBody {
  error: string;
  error_description: string;
}

/** Thrown by handlers; the server turns it into the answer. */
export class SandboxHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | OAuthErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      'errors' in body ? body.errors.map((e) => `${e.key}: ${e.message}`).join('; ') : body.error_description,
    );
    this.name = 'SandboxHttpError';
  }
}

export function errorItem(key: string, code: string, message: string, value?: unknown): ApiErrorItem {
  return { key, value: showValue(value), message, code, payload: null };
}

export function apiError(status: number, key: string, code: string, message: string, value?: unknown): SandboxHttpError {
  return new SandboxHttpError(status, { errors: [errorItem(key, code, message, value)] });
}

export function notFound(key: string, value: unknown, what: string): SandboxHttpError {
  return apiError(404, key, 'not_found', `${what} not found`, value);
}

export function oauthError(description: string): SandboxHttpError {
  return new SandboxHttpError(401, { error: 'invalid_token', error_description: description });
}

export function rateLimitError(retryAfterSec: number): SandboxHttpError {
  return new SandboxHttpError(
    429,
    { errors: [errorItem('rate_limit', 'rate_limit', `Rate limit reached, retry in ${retryAfterSec} s`)] },
    { 'retry-after': String(retryAfterSec) },
  );
}

/** ApiError `value` is a string or null; long values are cut so error bodies stay small. */
function showValue(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

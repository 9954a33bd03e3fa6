/**
 * What a source throws when it fails. `collectSources` turns it into `E_SOURCE` with the job and
 * source names; `transient` decides whether the source's `retries` apply.
 */
import type { ErrorLocation } from '../errors.js';

export interface SourceErrorOptions {
  /** Network errors, timeouts, 5xx: worth another attempt. Bad options or bad data are not. */
  transient?: boolean;
  hint?: string;
  /** Where the bad data is (a CSV file and line, say): shown instead of the config position. */
  location?: ErrorLocation;
  cause?: unknown;
}

export class SourceError extends Error {
  readonly transient: boolean;
  readonly hint: string | undefined;
  readonly location: ErrorLocation | undefined;

  constructor(message: string, options: SourceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SourceError';
    this.transient = options.transient ?? false;
    this.hint = options.hint;
    this.location = options.location;
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  // PostgreSQL: too many connections, shutting down, cannot connect now.
  '53300',
  '57P01',
  '57P03',
]);

/** Transient = another attempt may succeed: the source said so, or a network-level failure. */
export function isTransient(err: unknown): boolean {
  if (err instanceof SourceError) return err.transient;
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const status = (e as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 500) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The last line of defence against leaking credentials: every log line (and anything else the
 * caller chooses to pass through `scrubSecrets`) is searched for the values registered here.
 * Path-based redaction catches secrets under known keys; this catches them anywhere else — inside
 * an error message, a URL, a stack trace.
 */

export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not registered: scrubbing "1" or "abc" from every line would make
 * logs unreadable and the value is not a meaningful secret anyway.
 */
export const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
let ordered: string[] = [];

/**
 * Register a value that must never be printed (PACHCA_TOKEN, a database password). Also registers
 * the forms it takes inside JSON strings and URLs so a password in a `postgres://` URL is caught.
 * Empty/short values and `undefined` are ignored, so callers can pass `process.env.X` directly.
 */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string') return;
  const trimmed = value.trim();
  if (trimmed.length < MIN_SECRET_LENGTH) return;
  const forms = new Set([trimmed, JSON.stringify(trimmed).slice(1, -1), encodeURIComponent(trimmed)]);
  let changed = false;
  for (const f of forms) {
    if (f.length >= MIN_SECRET_LENGTH && !secrets.has(f)) {
      secrets.add(f);
      changed = true;
    }
  }
  // Longest first: a secret that contains another must be replaced whole.
  if (changed) ordered = [...secrets].sort((a, b) => b.length - a.length);
}

/** For tests and for processes that rotate credentials. */
export function clearSecrets(): void {
  secrets.clear();
  ordered = [];
}

export function hasSecrets(): boolean {
  return ordered.length > 0;
}

// An Authorization header value that slipped into free text ("Bearer abc…") is masked even when
// the token was never registered (e.g. a sandbox token or a token from a different source).
// Eight characters at least, so prose such as "missing Bearer token" stays readable.
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/** Replace every registered secret and every `Bearer …` credential in `text`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const s of ordered) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  if (/bearer/i.test(out)) out = out.replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  return out;
}

/** Keys whose values are credentials wherever they appear in a logged object. */
const SECRET_KEY = /^(authorization|proxy-authorization|token|access_?token|refresh_?token|api_?key|x-api-key|password|passwd|secret|client_?secret|cookie|set-cookie)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Copy of `value` with every secret-named key masked at any depth (pino's path redaction only
 * reaches the depths it was told about). Plain objects and arrays are copied; other instances
 * (Error, Date, Buffer) are kept as they are and left to serializers and the line scrub.
 * Returns the same reference when nothing had to change, so ordinary lines cost no copies.
 */
export function redactDeep<T>(value: T, depth = 8, seen = new WeakSet<object>()): T {
  if (depth < 0 || value === null || typeof value !== 'object') return value;
  if (seen.has(value as object)) return value;
  seen.add(value as object);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = redactDeep(item, depth - 1, seen);
      if (next !== item) (copy ??= [...value])[i] = next;
    });
    return (copy ?? value) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    let next: unknown = v;
    if (isSecretKey(k) && v !== undefined && v !== null && v !== '') next = REDACTED;
    else next = redactDeep(v, depth - 1, seen);
    if (next !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = next;
  }
  return (copy ?? value) as T;
}

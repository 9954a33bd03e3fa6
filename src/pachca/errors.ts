/**
 * What Pachca answered, as a DigestError (code E_DELIVERY) that says what to do about it.
 * The token never appears here: paths carry no credentials and every text taken from a response
 * body is passed through `redact` in case a proxy echoes the Authorization header.
 */
import { DigestError } from '../errors.js';
import type { Message } from './types.js';

export interface ApiErrorItem {
  key: string;
  value: string | null;
  message: string;
  code: string;
  payload: Record<string, unknown> | null;
}

export interface PachcaApiErrorInit {
  method: string;
  path: string;
  /** HTTP status; undefined when no answer arrived (connection error, timeout). */
  status?: number;
  /** ApiError `errors[]`. */
  errors?: ApiErrorItem[];
  /** OAuthError `error` (e.g. invalid_token, insufficient_scope). */
  oauthError?: string;
  oauthDescription?: string;
  retryAfterMs?: number;
  /** Raw body excerpt when it was not JSON (a proxy's HTML page). */
  bodyExcerpt?: string;
  message?: string;
  hint?: string;
  cause?: unknown;
  /** The request may have been processed by Pachca but no answer says so. */
  outcomeUnknown?: boolean;
}

export class PachcaApiError extends DigestError {
  readonly status: number | undefined;
  readonly method: string;
  readonly path: string;
  readonly errors: ApiErrorItem[];
  readonly oauthError: string | undefined;
  readonly oauthDescription: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly outcomeUnknown: boolean;
  /** Pachca error codes of the answer: every `errors[].code` plus the OAuth `error`. */
  readonly codes: string[];
  /** Messages already delivered before this error (set by sendMessage when a later part fails). */
  delivered: Message[] = [];

  constructor(init: PachcaApiErrorInit) {
    super('E_DELIVERY', init.message ?? describe(init), {
      hint: init.hint ?? hintFor(init),
      location: { path: `${init.method} ${init.path}` },
      cause: init.cause,
    });
    this.name = 'PachcaApiError';
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.errors = init.errors ?? [];
    this.oauthError = init.oauthError;
    this.oauthDescription = init.oauthDescription;
    this.retryAfterMs = init.retryAfterMs;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.codes = [...this.errors.map((e) => e.code), ...(init.oauthError ? [init.oauthError] : [])];
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      status: this.status,
      method: this.method,
      path: this.path,
      codes: this.codes,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

function describe(i: PachcaApiErrorInit): string {
  const head = `Pachca ${i.method} ${i.path} answered ${i.status ?? 'nothing'}`;
  const detail: string[] = [];
  for (const e of i.errors ?? []) {
    detail.push(`${e.key ? `${e.key}: ` : ''}${e.message}${e.code ? ` (${e.code})` : ''}`);
  }
  if (i.oauthError) detail.push(`${i.oauthError}${i.oauthDescription ? `: ${i.oauthDescription}` : ''}`);
  if (!detail.length && i.bodyExcerpt) detail.push(`non-JSON body: ${i.bodyExcerpt}`);
  return detail.length ? `${head}: ${detail.join('; ')}` : head;
}

function hintFor(i: PachcaApiErrorInit): string | undefined {
  const fields = (i.errors ?? []).map((e) => e.key).filter(Boolean);
  switch (i.status) {
    case 401:
      return 'check PACHCA_TOKEN: it must be the bot\'s token from the bot settings, «API» tab (wrong, revoked or missing token)';
    case 403: {
      if (i.oauthError === 'insufficient_scope') {
        const scope = scopeFrom(i.oauthDescription) ?? 'the scope this method needs';
        return `the token lacks the scope ${scope}: enable it in the bot settings («API» tab) and use the new token`;
      }
      return 'the bot is not allowed to do this here: check the bot\'s permissions and that it is a member of the chat';
    }
    case 404:
      return 'chat (or message, thread, user) not found, or the bot is not a member of the chat: check the id and add the bot to the chat';
    case 400:
    case 422:
      return fields.length
        ? `Pachca rejected the field${fields.length > 1 ? 's' : ''} ${fields.join(', ')}: see the message above`
        : 'Pachca rejected the request: see the message above';
    case 413:
      return 'the request is too large: shorten the message or send it with sendMessage, which splits it';
    case 429:
      return 'Pachca kept answering 429 Too Many Requests: lower the job\'s message rate or raise retry.maxRetryAfterMs';
    default:
      if (i.status !== undefined && i.status >= 500) return 'Pachca (or a proxy in front of it) failed: retry later';
      return undefined;
  }
}

/** `messages:create` from a description such as "Required scope: messages:create". */
function scopeFrom(description: string | undefined): string | undefined {
  if (!description) return undefined;
  return /\b([a-z_]+(?::[a-z_]+)+)\b/.exec(description)?.[1];
}

/** Replaces every occurrence of the secret with `***`. */
export function redact(text: string, secret: string): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('***');
}

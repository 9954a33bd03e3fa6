/**
 * One HTTP attempt, bounded by the per-attempt timeout, and what its failure means for a POST:
 * not sent (safe to retry), or ambiguous (the server may have processed it).
 */
import { abortError } from './bucket.js';
import type { Transport } from './transport.js';

/** Errors raised before the request left this process: retrying them cannot duplicate anything. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);
/** Errors after which the server may or may not have processed the request. */
const AMBIGUOUS_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'E_ATTEMPT_TIMEOUT',
]);
export class AttemptTimeout extends Error {
  readonly code = 'E_ATTEMPT_TIMEOUT';
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

export type AttemptResult =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; text: string }
  | { kind: 'network'; error: Error & { code?: string }; ambiguous: boolean };

export async function attempt(
transport: Transport,
token: string,
ms: number,
method: string,
url: string,
body: string | undefined,
signal?: AbortSignal,
): Promise<AttemptResult> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new AttemptTimeout(ms)), ms);
  const onAbort = () => ctrl.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      // Names the client in server logs (and lets the conformance check tell our requests from raw ones).
      'user-agent': CLIENT_USER_AGENT,
    };
    if (body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
    const res = await transport.send(method, url, headers, body, ctrl.signal);
    return { kind: 'response', ...res };
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    const err = (ctrl.signal.aborted && ctrl.signal.reason instanceof AttemptTimeout ? ctrl.signal.reason : e) as Error & {
      code?: string;
      cause?: { code?: string };
    };
    const code = err.code ?? err.cause?.code;
    if (code && NOT_SENT_CODES.has(code)) return { kind: 'network', error: err, ambiguous: false };
    if ((code && AMBIGUOUS_CODES.has(code)) || (code && /^E[A-Z]+$/.test(code))) {
      return { kind: 'network', error: err, ambiguous: true };
    }
    throw e; // a bug (invalid argument and the like), not a delivery problem
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** What the client calls itself on every API request. */
export const CLIENT_USER_AGENT = 'pachca-digest';

/**
 * The Pachca API client: paced by the token's shared limiter, retried by the documented policy,
 * and careful never to post a message twice (Pachca has no idempotency key).
 */
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { DigestError } from '../errors.js';
import type { DigestEvents, Emitter } from '../events.js';
import { backoffDelay, parseRetryAfter, sleep } from './backoff.js';
import {
  CLIENT_DEFAULTS,
  type BucketLimit,
  type RateLimitSettings,
  type RetrySettings,
  type TimeoutSettings,
} from './defaults.js';
import { PachcaApiError, redact, type ApiErrorItem } from './errors.js';
import {
  abortError,
  BucketPausedError,
  bucketKey,
  limiterFor,
  limiterKey,
  type BucketClass,
  type Permit,
  type RateLimiter,
} from './limiter.js';
import { DEFAULT_PAGE_LIMIT, paginatePages, type PageBody, type PaginateOptions } from './paginate.js';
import { splitContent, utf8Bytes } from './split.js';
import type {
  CallOptions,
  Chat,
  CreateMessageInput,
  ListChatsQuery,
  ListMessagesQuery,
  Message,
  Thread,
  UpdateMessageInput,
  User,
} from './types.js';

export type RateLimitOptions = Partial<Omit<RateLimitSettings, 'messageWrite' | 'messageRead' | 'eventHistory' | 'other'>> & {
  messageWrite?: Partial<BucketLimit>;
  messageRead?: Partial<BucketLimit>;
  eventHistory?: Partial<BucketLimit>;
  other?: Partial<BucketLimit>;
};

export interface PachcaClientOptions {
  /** The bot's access token (bot settings, «API» tab). Never logged. */
  token: string;
  baseUrl?: string;
  rateLimits?: RateLimitOptions;
  retry?: Partial<RetrySettings>;
  timeouts?: Partial<TimeoutSettings>;
  maxMessageBytes?: number;
  /** Sockets to the API (default CLIENT_DEFAULTS.maxConnections); ignored with `dispatcher`. */
  maxConnections?: number;
  events?: Emitter<DigestEvents>;
  /** An undici dispatcher (proxy, tests). The client then does not create or close its own Agent. */
  dispatcher?: Dispatcher;
  /** Pacing runs this fraction under the limits (default DEFAULT_SAFETY_MARGIN, 2%). */
  safetyMargin?: number;
}

export interface MessageCallOptions extends CallOptions {
  /**
   * The chat a `thread` or `user` target lives in, so an ambiguous POST can be checked before it
   * is retried. Known automatically for discussions and for threads/users posted to before.
   */
  dedupeChatId?: number;
}

export interface SendMessageOptions extends MessageCallOptions {
  /** Post parts after the first as replies in the first message's thread. */
  splitToThread?: boolean;
}

export interface WriteCallOptions extends CallOptions {
  /** The message's chat, for pacing when this client has not seen the message before. */
  chatId?: number;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions extends CallOptions {
  query?: Query;
  body?: unknown;
  /** Pacing class; derived from method and path when omitted. */
  bucket?: BucketClass;
  /** Chat scope of a messageWrite bucket. */
  chatId?: number;
}

/** Statuses retried with backoff (Pachca's documented policy). */
const RETRY_STATUSES = new Set([500, 502, 503, 504]);
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
/** A message created this long before our attempt began may still be ours (clocks differ). */
const DEDUPE_CLOCK_SKEW_MS = 5_000;
const CLAIMED_MAX = 10_000;

/** What the process knows about one token, shared by all its clients. */
interface TokenContext {
  limiter: RateLimiter;
  /** The bot's user_id, learned from the first successful createMessage. */
  botUserId: number | undefined;
  /** `thread:12` / `user:5` / `discussion:7` → chat id; message id → chat id. */
  entityChats: Map<string, number>;
  messageChats: Map<number, number>;
  /** Ids this process already returned as created: a dedupe check must not claim them again. */
  claimed: Set<number>;
}

const contexts = new Map<string, TokenContext>();

function remember<K, V>(m: Map<K, V> | Set<K>, k: K, v?: V, max = CLAIMED_MAX): void {
  if (m instanceof Set) m.add(k);
  else m.set(k, v as V);
  if (m.size > max) m.delete(m.keys().next().value as K);
}

class AttemptTimeout extends Error {
  readonly code = 'E_ATTEMPT_TIMEOUT';
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

type AttemptResult =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; text: string }
  | { kind: 'network'; error: Error & { code?: string }; ambiguous: boolean };

export class PachcaClient {
  readonly baseUrl: string;
  readonly retry: RetrySettings;
  readonly timeouts: TimeoutSettings;
  readonly maxMessageBytes: number;
  readonly #token: string;
  readonly #events: Emitter<DigestEvents> | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #ownDispatcher: boolean;
  readonly #ctx: TokenContext;
  readonly #detach: (() => void) | undefined;
  #closed = false;

  constructor(opts: PachcaClientOptions) {
    if (!opts || typeof opts.token !== 'string' || opts.token.trim() === '') {
      throw new DigestError('E_CONFIG', 'Pachca token is empty', {
        hint: "set PACHCA_TOKEN to the bot's token from the bot settings, «API» tab",
      });
    }
    this.#token = opts.token.trim();
    this.baseUrl = (opts.baseUrl ?? CLIENT_DEFAULTS.baseUrl).replace(/\/+$/, '');
    this.retry = { ...CLIENT_DEFAULTS.retry, ...opts.retry };
    this.timeouts = { ...CLIENT_DEFAULTS.timeouts, ...opts.timeouts };
    this.maxMessageBytes = opts.maxMessageBytes ?? CLIENT_DEFAULTS.maxMessageBytes;
    this.#events = opts.events;

    const key = limiterKey(this.baseUrl, this.#token);
    let ctx = contexts.get(key);
    const limiter = limiterFor(this.baseUrl, this.#token, {
      rateLimits: opts.rateLimits as Partial<RateLimitSettings> | undefined,
      safetyMargin: opts.safetyMargin,
    });
    if (!ctx || ctx.limiter !== limiter) {
      ctx = { limiter, botUserId: undefined, entityChats: new Map(), messageChats: new Map(), claimed: new Set() };
      contexts.set(key, ctx);
    }
    this.#ctx = ctx;
    this.#detach = this.#events ? limiter.attach(this.#events) : undefined;

    if (opts.dispatcher) {
      this.#dispatcher = opts.dispatcher;
      this.#ownDispatcher = false;
    } else {
      this.#dispatcher = new Agent({
        connections: opts.maxConnections ?? CLIENT_DEFAULTS.maxConnections ?? 32,
        connect: { timeout: this.timeouts.connectMs },
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyMs,
      });
      this.#ownDispatcher = true;
    }
  }

  /** The token's limiter, shared with every other client of the same token (for metrics). */
  get limiter(): RateLimiter {
    return this.#ctx.limiter;
  }

  /** The bot's user id once a message was posted (used to recognise our own messages). */
  get botUserId(): number | undefined {
    return this.#ctx.botUserId;
  }

  // ---- messages ----

  /** Posts one message. Content over maxMessageBytes is refused (see sendMessage to split). */
  async createMessage(input: CreateMessageInput, opts: MessageCallOptions = {}): Promise<Message> {
    this.#checkSize(input.content, 'POST /messages');
    const { link_preview, ...message } = input;
    const body: Record<string, unknown> = { message: dropUndefined(message) };
    if (link_preview !== undefined) body.link_preview = link_preview;
    const entityKey = `${input.entity_type}:${input.entity_id}`;
    const chatId =
      opts.dedupeChatId ??
      (input.entity_type === 'discussion' ? input.entity_id : this.#ctx.entityChats.get(entityKey));
    // Pachca counts message writes per chat; a thread or DM whose chat is unknown gets its own bucket.
    const scope = chatId !== undefined ? `chat:${chatId}` : entityKey;
    const res = await this.#call<{ data: Message }>('POST', '/messages', {
      body,
      bucket: 'messageWrite',
      scope,
      signal: opts.signal,
      dedupe: { input, chatId },
    });
    return res.data;
  }

  /**
   * Posts content of any length: split into parts of at most maxMessageBytes (paragraphs, then
   * lines, code blocks kept renderable) and delivered in order. Buttons go on the last part
   * (on the first with splitToThread, the one people see in the chat). If a later part fails,
   * the thrown error's `delivered` lists the parts already posted.
   */
  async sendMessage(input: CreateMessageInput, opts: SendMessageOptions = {}): Promise<Message[]> {
    const parts = splitContent(input.content, this.maxMessageBytes);
    if (parts.length <= 1) return [await this.createMessage(input, opts)];
    const delivered: Message[] = [];
    const buttonsOn = opts.splitToThread ? 0 : parts.length - 1;
    // Files go with the buttons: on the part people see with the buttons, never once per part.
    const { buttons, files, ...rest } = input;
    try {
      let target: { entity_type: CreateMessageInput['entity_type']; entity_id: number; chatId?: number } = {
        entity_type: input.entity_type,
        entity_id: input.entity_id,
        chatId: opts.dedupeChatId,
      };
      for (let i = 0; i < parts.length; i++) {
        const msg: CreateMessageInput = { ...rest, ...target, content: parts[i]! };
        delete (msg as { chatId?: number }).chatId;
        if (i === buttonsOn && buttons) msg.buttons = buttons;
        if (i === buttonsOn && files) msg.files = files;
        if (i > 0 && opts.splitToThread) delete msg.parent_message_id;
        delivered.push(await this.createMessage(msg, { signal: opts.signal, dedupeChatId: target.chatId }));
        if (i === 0 && opts.splitToThread) {
          const thread = await this.createThread(delivered[0]!.id, { signal: opts.signal });
          target = { entity_type: 'thread', entity_id: thread.id, chatId: thread.chat_id };
        }
      }
      return delivered;
    } catch (e) {
      if (e instanceof Error && delivered.length) Object.assign(e, { delivered });
      throw e;
    }
  }

  async updateMessage(id: number, input: UpdateMessageInput, opts: WriteCallOptions = {}): Promise<Message> {
    if (input.content !== undefined) this.#checkSize(input.content, `PUT /messages/${id}`);
    const res = await this.#call<{ data: Message }>('PUT', `/messages/${id}`, {
      body: { message: dropUndefined(input) },
      bucket: 'messageWrite',
      scope: this.#messageScope(id, opts.chatId),
      signal: opts.signal,
    });
    return res.data;
  }

  async deleteMessage(id: number, opts: WriteCallOptions = {}): Promise<void> {
    await this.#call('DELETE', `/messages/${id}`, {
      bucket: 'messageWrite',
      scope: this.#messageScope(id, opts.chatId),
      signal: opts.signal,
    });
  }

  async getMessage(id: number, opts: CallOptions = {}): Promise<Message> {
    const res = await this.#call<{ data: Message }>('GET', `/messages/${id}`, { bucket: 'messageRead', signal: opts.signal });
    return res.data;
  }

  /** Messages of a chat (newest first unless `order: 'asc'`), every page. */
  listMessages(query: ListMessagesQuery, opts: PaginateOptions = {}): AsyncIterable<Message> {
    const { limit, ...rest } = query;
    return this.paginate<Message>('/messages', rest, { limit, ...opts });
  }

  listChats(query: ListChatsQuery = {}, opts: PaginateOptions = {}): AsyncIterable<Chat> {
    const { limit, ...rest } = query;
    return this.paginate<Chat>('/chats', rest, { limit, ...opts });
  }

  /** Creates (or returns the existing) thread of a message. */
  async createThread(messageId: number, opts: CallOptions = {}): Promise<Thread> {
    const res = await this.#call<{ data: Thread }>('POST', `/messages/${messageId}/thread`, {
      bucket: 'other',
      signal: opts.signal,
    });
    return res.data;
  }

  async getUser(id: number, opts: CallOptions = {}): Promise<User> {
    const res = await this.#call<{ data: User }>('GET', `/users/${id}`, { bucket: 'other', signal: opts.signal });
    return res.data;
  }

  listUsers(query: { query?: string; limit?: number } = {}, opts: PaginateOptions = {}): AsyncIterable<User> {
    const { limit, ...rest } = query;
    return this.paginate<User>('/users', rest, { limit, ...opts });
  }

  /**
   * Every item of a cursor-paginated list. Always sends `limit`; follows
   * `meta.paginate.next_page` while `has_next`; fails on a repeated cursor or past maxPages.
   */
  paginate<T>(path: string, query: Query = {}, opts: PaginateOptions = {}): AsyncIterable<T> {
    const limit = opts.limit ?? DEFAULT_PAGE_LIMIT;
    return paginatePages<T>(
      path,
      (cursor) =>
        this.request<PageBody<T>>('GET', path, {
          query: { ...query, limit, ...(cursor !== undefined ? { cursor } : {}) },
          signal: opts.signal,
        }),
      { maxPages: opts.maxPages },
    );
  }

  /** Any API method, paced and retried like the typed ones; resolves to the parsed JSON body. */
  request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const m = method.toUpperCase();
    const bucket = opts.bucket ?? classify(m, path);
    return this.#call<T>(m, path, {
      query: opts.query,
      body: opts.body,
      bucket,
      scope: bucket === 'messageWrite' && opts.chatId !== undefined ? `chat:${opts.chatId}` : undefined,
      signal: opts.signal,
    });
  }

  /** Closes this client's own connection pool. The shared limiter lives on for other clients. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach?.();
    if (this.#ownDispatcher) await this.#dispatcher.close();
  }

  // ---- internals ----

  #checkSize(content: string, where: string): void {
    const bytes = utf8Bytes(content ?? '');
    if (bytes > this.maxMessageBytes) {
      throw new DigestError('E_DELIVERY', `message content is ${bytes} bytes, over the limit of ${this.maxMessageBytes} bytes (UTF-8)`, {
        location: { path: where },
        hint: 'use sendMessage(), which splits long content into several messages, or shorten the template output',
      });
    }
  }

  #messageScope(id: number, chatId?: number): string {
    const chat = chatId ?? this.#ctx.messageChats.get(id);
    // An unknown chat gets a bucket of its own message: a 429 there still pauses just that one.
    return chat !== undefined ? `chat:${chat}` : `message:${id}`;
  }

  #emit<K extends keyof DigestEvents>(event: K, payload: DigestEvents[K]): void {
    this.#events?.emit(event, payload);
  }

  #learn(method: string, path: string, data: unknown): void {
    if (!data || typeof data !== 'object') return;
    const d = data as Partial<Message & Thread>;
    if (method === 'POST' && path === '/messages' && typeof d.id === 'number') {
      if (typeof d.user_id === 'number') this.#ctx.botUserId = d.user_id;
      remember(this.#ctx.claimed, d.id);
    }
    if (/^\/messages(\/\d+)?$/.test(path) && typeof d.id === 'number' && typeof d.chat_id === 'number') {
      remember(this.#ctx.messageChats, d.id, d.chat_id);
      if (d.entity_type && typeof d.entity_id === 'number') {
        remember(this.#ctx.entityChats, `${d.entity_type}:${d.entity_id}`, d.chat_id);
      }
    }
    if (/^\/messages\/\d+\/thread$/.test(path) && typeof d.id === 'number' && typeof d.chat_id === 'number') {
      remember(this.#ctx.entityChats, `thread:${d.id}`, d.chat_id);
    }
  }

  /**
   * One API call: pacing, attempts, retries, dedupe. 429s are waited out (bounded by
   * retry.maxRetryAfterMs per wait and retry.maxTotalMs overall); 5xx, connection errors and
   * timeouts get at most retry.retries retries with full-jitter backoff.
   */
  async #call<T>(
    method: string,
    path: string,
    spec: {
      query?: Query;
      body?: unknown;
      bucket: BucketClass;
      scope?: string;
      signal?: AbortSignal;
      dedupe?: { input: CreateMessageInput; chatId: number | undefined };
    },
  ): Promise<T> {
    if (this.#closed) throw new DigestError('E_DELIVERY', 'PachcaClient is closed', { hint: 'create a new client' });
    const { signal } = spec;
    const limiter = this.#ctx.limiter;
    const key = bucketKey(spec.bucket, spec.scope);
    const url = this.baseUrl + path + queryString(spec.query);
    const bodyText = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const started = Date.now();
    const deadline = started + this.retry.maxTotalMs;
    let failures = 0;
    /** When the first attempt that may have created the message began. */
    let ambiguousSince: number | undefined;

    /** Looks before posting again (or giving up): a failed attempt may have created the message. */
    const check = async (failure: PachcaApiError): Promise<T | undefined> => {
      const dedupe = spec.dedupe;
      if (!dedupe || ambiguousSince === undefined || dedupe.chatId === undefined) return undefined;
      const since = ambiguousSince;
      const found = await this.#findDelivered(dedupe.input, dedupe.chatId, since, signal).catch((e: unknown) => {
        if (e instanceof DigestError && (e.code === 'E_ABORTED' || e.code === 'E_TIMEOUT')) throw e;
        throw this.#unknownOutcome(method, path, dedupe.input, failure, e);
      });
      if (!found) return undefined;
      this.#emit('pachca:deduplicated', { chatId: found.chat_id, messageId: found.id });
      this.#learn(method, path, found);
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
        permit = await limiter.acquire(cls, key, signal, { maxPauseMs: this.retry.maxRetryAfterMs, deadline });
      } catch (e) {
        if (!(e instanceof BucketPausedError)) throw e;
        const err = this.#pausedError(method, path, e);
        const found = await check(err);
        if (found) return found;
        throw err;
      }
      if (permit.waitedMs > 0) this.#emit('pachca:limiter-wait', { bucket: key, waitedMs: permit.waitedMs, class: cls });

      const attemptStart = Date.now();
      let r: AttemptResult;
      try {
        r = await this.#attempt(method, url, bodyText, signal);
      } finally {
        permit.release();
      }
      const durationMs = Date.now() - attemptStart;
      this.#emit('pachca:request', {
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
          const retryAfterMs =
            parseRetryAfter(r.headers['retry-after'], now, r.headers['date']) ??
            Math.max(1000, backoffDelay(attempt, this.retry) + this.retry.baseDelayMs);
          // The bucket pauses for the full Retry-After even when that is beyond the cap and this
          // call gives up below: later calls on it then fail fast too (see acquire above).
          limiter.onRateLimited(cls, key, retryAfterMs, now);
          this.#emit('pachca:rate-limited', { method, path, bucket: key, retryAfterMs, class: cls });
          if (retryAfterMs > this.retry.maxRetryAfterMs || now + retryAfterMs > deadline) {
            const err = this.#responseError(method, path, r, retryAfterMs);
            const found = await check(err);
            if (found) return found;
            throw new PachcaApiError({
              method,
              path,
              status: 429,
              errors: err.errors,
              retryAfterMs,
              message: `Pachca ${method} ${path} answered 429 Too Many Requests and asked to wait ${Math.ceil(retryAfterMs / 1000)} s, longer than allowed (retry.maxRetryAfterMs ${this.retry.maxRetryAfterMs} ms, retry.maxTotalMs ${this.retry.maxTotalMs} ms)`,
              hint: throttledHint(key, now + retryAfterMs),
            });
          }
          continue; // the paused bucket holds the next attempt until Retry-After has passed
        }
        limiter.onSuccess();
        if (status >= 200 && status < 300) {
          const parsed = parseJson(r.text);
          if (r.text !== '' && parsed === undefined) {
            throw new PachcaApiError({
              method,
              path,
              status,
              bodyExcerpt: excerpt(r.text, this.#token),
              message: `Pachca ${method} ${path} answered ${status} with a body that is not JSON: ${excerpt(r.text, this.#token)}`,
              hint: 'the base URL may point at something other than the Pachca API (check PACHCA_BASE_URL / baseUrl)',
            });
          }
          const data = (parsed as { data?: unknown } | undefined)?.data;
          this.#learn(method, path, data);
          return parsed as T;
        }
        failure = this.#responseError(method, path, r);
        if (!RETRY_STATUSES.has(status)) throw failure;
        ambiguous = true;
      } else {
        failure = new PachcaApiError({
          method,
          path,
          message: `Pachca ${method} ${path}: no answer (${r.error.code ?? r.error.name}: ${redact(r.error.message, this.#token)})`,
          hint: `check that ${new URL(this.baseUrl).origin} is reachable from here (network, proxy, DNS) and the timeouts are not too small`,
          cause: r.error,
        });
        ambiguous = r.ambiguous;
      }

      // A failure worth retrying.
      if (spec.dedupe && ambiguous) ambiguousSince ??= attemptStart;
      if (spec.dedupe && ambiguousSince !== undefined && spec.dedupe.chatId === undefined) {
        throw this.#unknownOutcome(method, path, spec.dedupe.input, failure);
      }
      failures++;
      const delayMs = backoffDelay(failures, this.retry);
      if (failures > this.retry.retries || Date.now() + delayMs > deadline) {
        const found = await check(failure);
        if (found) return found;
        throw failure;
      }
      this.#emit('pachca:retry', {
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

  async #attempt(method: string, url: string, body: string | undefined, signal?: AbortSignal): Promise<AttemptResult> {
    const ctrl = new AbortController();
    const ms = this.timeouts.requestMs;
    const timer = setTimeout(() => ctrl.abort(new AttemptTimeout(ms)), ms);
    const onAbort = () => ctrl.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${this.#token}`,
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
      const res = await undiciRequest(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body,
        signal: ctrl.signal,
        dispatcher: this.#dispatcher,
      });
      const text = await res.body.text();
      return { kind: 'response', status: res.statusCode, headers: res.headers, text };
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

  #responseError(
    method: string,
    path: string,
    r: Extract<AttemptResult, { kind: 'response' }>,
    retryAfterMs?: number,
  ): PachcaApiError {
    const parsed = parseJson(r.text) as
      | { errors?: ApiErrorItem[]; error?: string; error_description?: string }
      | undefined;
    const tok = this.#token;
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
  #pausedError(method: string, path: string, e: BucketPausedError): PachcaApiError {
    const limit =
      e.exceeds === 'maxPauseMs'
        ? `retry.maxRetryAfterMs ${this.retry.maxRetryAfterMs} ms`
        : `what is left of retry.maxTotalMs ${this.retry.maxTotalMs} ms`;
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

  #unknownOutcome(
    method: string,
    path: string,
    input: CreateMessageInput,
    failure: PachcaApiError,
    cause?: unknown,
  ): PachcaApiError {
    const what = `${input.entity_type} ${input.entity_id}`;
    return new PachcaApiError({
      method,
      path,
      status: failure.status,
      outcomeUnknown: true,
      message: `delivery outcome unknown: Pachca ${method} ${path} to ${what} failed ambiguously (${failure.message}) and the message may or may not have been posted`,
      hint:
        cause !== undefined
          ? `check the chat (${what}) before re-running: reading its recent messages to verify failed too`
          : `check the chat (${what}) before re-running; to let the client verify and retry safely, pass dedupeChatId (the chat of this ${input.entity_type})`,
      cause: cause ?? failure,
    });
  }

  /** Our message among the chat's most recent ones, if the ambiguous POST created it. */
  async #findDelivered(
    input: CreateMessageInput,
    chatId: number,
    since: number,
    signal: AbortSignal | undefined,
  ): Promise<Message | undefined> {
    const limit = Math.max(1, Math.min(50, this.retry.dedupeLookback));
    const page = await this.#call<PageBody<Message>>('GET', '/messages', {
      query: { chat_id: chatId, limit },
      bucket: 'messageRead',
      signal,
    });
    const bot = this.#ctx.botUserId;
    const skew = this.retry.dedupeClockSkewMs ?? DEDUPE_CLOCK_SKEW_MS;
    const candidates = (page.data ?? []).filter((m) => {
      if (!m || typeof m.id !== 'number' || this.#ctx.claimed.has(m.id)) return false;
      if (bot !== undefined && m.user_id !== bot) return false;
      if (!sameEntity(m, input)) return false;
      if (m.content !== input.content && m.content?.trim() !== input.content.trim()) return false;
      const created = Date.parse(m.created_at);
      return Number.isNaN(created) || created >= since - skew;
    });
    // Oldest first: if an earlier attempt got through, that is the one.
    candidates.sort((a, b) => a.id - b.id);
    return candidates[0];
  }
}

function sameEntity(m: Message, input: CreateMessageInput): boolean {
  if (input.entity_type === 'discussion') {
    return m.chat_id === input.entity_id && (m.entity_type === undefined || m.entity_type === 'discussion');
  }
  if (input.entity_type === 'thread') return m.entity_type === 'thread' && m.entity_id === input.entity_id;
  // A direct chat holds only messages to or from that user: the chat id already pins it down.
  return m.entity_type === undefined || m.entity_type === 'user';
}

/**
 * Why a 429 beyond the cap fails instead of waiting, and what to do. The bucket stays paused for
 * the whole Retry-After (Pachca may block a token that keeps sending after a 429); calls on it
 * fail at once meanwhile, other chats and request classes go on.
 */
function throttledHint(bucket: string, until: number): string {
  return (
    `the token is being throttled: nothing is sent on ${bucket} before ${new Date(until).toISOString()} ` +
    '(Pachca may block a token that keeps sending after a 429) and calls on it fail at once until then; ' +
    'other chats and request classes are not affected. Send fewer messages per run, retry after that time, ' +
    'or raise retry.maxRetryAfterMs'
  );
}

/** Pacing class from the method and path (Pachca's documented limit groups). */
export function classify(method: string, path: string): BucketClass {
  const p = path.split('?')[0]!;
  if (/^\/webhooks\/events\b/.test(p)) return 'eventHistory';
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

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The start of a non-JSON body, tags and whitespace squeezed, for an error message. */
function excerpt(text: string, token: string): string {
  const plain = text
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = plain.length > 160 ? `${plain.slice(0, 160)}…` : plain;
  return redact(cut || '(empty)', token);
}


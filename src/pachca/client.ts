/**
 * The Pachca API client: paced by the token's shared limiter, retried by the documented policy,
 * and careful never to post a message twice (Pachca has no idempotency key).
 */
import { DigestError } from '../errors.js';
import type { DigestEvents, Emitter } from '../events.js';
import { CLIENT_DEFAULTS, type RateLimitSettings, type RetrySettings, type TimeoutSettings } from './defaults.js';
import type { MessageCallOptions, PachcaClientOptions, RequestOptions, WriteCallOptions } from './client-options.js';
import { PachcaApiError } from './errors.js';
import { callApi, classify, type CallContext, type CallSpec, type Query } from './call.js';
import { dispatcherTransport, nodeTransport, type Transport } from './transport.js';
import type { RateLimiter } from './limiter.js';
import { limiterFor, limiterKey } from './limiter-registry.js';
import { DEFAULT_PAGE_LIMIT, paginatePages, type PageBody, type PaginateOptions } from './paginate.js';
import { LandedFinder, type LandedQuery } from './landed.js';
import { sendParts, type SendMessageOptions } from './send.js';
import { splitContent, utf8Bytes } from './split.js';
import type {
  CallOptions,
  Chat,
  CreateMessageInput,
  EntityType,
  ListChatsQuery,
  ListMessagesQuery,
  Message,
  Thread,
  UpdateMessageInput,
  User,
} from './types.js';

export type { MessageCallOptions, PachcaClientOptions, RateLimitOptions, RequestOptions, WriteCallOptions } from './client-options.js';
export type { SendMessageOptions } from './send.js';

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

export { classify };

export class PachcaClient {
  readonly baseUrl: string;
  readonly retry: RetrySettings;
  readonly timeouts: TimeoutSettings;
  readonly maxMessageBytes: number;
  readonly readOnly: boolean;
  readonly #token: string;
  readonly #events: Emitter<DigestEvents> | undefined;
  readonly #transport: Transport;
  readonly #callContext: CallContext;
  readonly #ctx: TokenContext;
  readonly #detach: (() => void) | undefined;
  readonly #landed: LandedFinder;
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
    this.readOnly = opts.readOnly === true;

    const key = limiterKey(this.baseUrl, this.#token);
    let ctx = contexts.get(key);
    const limiter = limiterFor(this.baseUrl, this.#token, {
      rateLimits: opts.rateLimits as Partial<RateLimitSettings> | undefined,
      safetyMargin: opts.safetyMargin,
      ceiling: opts.ceiling,
    });
    if (!ctx || ctx.limiter !== limiter) {
      ctx = { limiter, botUserId: undefined, entityChats: new Map(), messageChats: new Map(), claimed: new Set() };
      contexts.set(key, ctx);
    }
    this.#ctx = ctx;
    const shared = ctx;
    this.#landed = new LandedFinder({
      read: (path, query, signal) => this.#call(`GET`, path, { query, bucket: classify('GET', path), signal }),
      botUserId: () => shared.botUserId,
      claimed: shared.claimed,
      entityChats: shared.entityChats,
      pageSize: Math.max(1, Math.min(50, this.retry.dedupeLookback)),
      clockSkewMs: this.retry.dedupeClockSkewMs ?? CLIENT_DEFAULTS.retry.dedupeClockSkewMs ?? 5_000,
    });
    this.#detach = this.#events ? limiter.attach(this.#events) : undefined;

    this.#transport = opts.dispatcher
      ? dispatcherTransport(opts.dispatcher)
      : nodeTransport(opts.maxConnections ?? CLIENT_DEFAULTS.maxConnections ?? 32, this.timeouts);
    this.#callContext = {
      token: this.#token,
      baseUrl: this.baseUrl,
      transport: this.#transport,
      limiter,
      retry: this.retry,
      requestMs: this.timeouts.requestMs,
      emit: (event, payload) => this.#emit(event, payload),
      learn: (method, path, data) => this.#learn(method, path, data),
      findLanded: (input, q) => this.findLanded(input, q),
    };
  }

  /** Names this token's budget without the token: the base URL and a hash (for replicas sharing it). */
  get budgetKey(): string {
    return limiterKey(this.baseUrl, this.#token);
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
  async createMessage(given: CreateMessageInput, opts: MessageCallOptions = {}): Promise<Message> {
    // The API's default; spelled out so pacing, dedupe and error messages know the target.
    const input: CreateMessageInput & { entity_type: EntityType } = { ...given, entity_type: given.entity_type ?? 'discussion' };
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
   * lines, code blocks kept renderable) and delivered in order, each reported to `onPart` as it
   * lands. Parts in `delivered` are not sent again; with `recheck`, each missing part is first
   * looked for (an earlier attempt may have posted it). If a later part fails, the thrown error's
   * `delivered` lists the parts posted by this call.
   */
  sendMessage(input: CreateMessageInput, opts: SendMessageOptions = {}): Promise<Message[]> {
    return sendParts(this, input, opts);
  }

  /** The parts sendMessage splits `content` into (one when it fits). */
  partsOf(content: string): string[] {
    return splitContent(content, this.maxMessageBytes);
  }

  /**
   * The message an earlier attempt to post `input` created, or null when none landed: read from
   * the target's chat (a thread's and a DM's chat are looked up when not known). One rule for the
   * client's own retries and for a takeover after a crash.
   */
  async findLanded(input: CreateMessageInput, q: LandedQuery): Promise<Message | null> {
    const found = await this.#landed.find(input, q);
    if (found) this.#emit('pachca:deduplicated', { chatId: found.chat_id, messageId: found.id });
    return found;
  }

  /** Tells the client the chat of a thread or DM target (e.g. from the ledger's earlier deliveries). */
  rememberChat(target: { entity_type?: EntityType; entity_id: number }, chatId: number): void {
    const type = target.entity_type ?? 'discussion';
    if (type !== 'discussion') remember(this.#ctx.entityChats, `${type}:${target.entity_id}`, chatId);
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

  /** updateMessage, or null when the message no longer exists (deleted, 404). */
  async updateIfPresent(id: number, input: UpdateMessageInput, opts: WriteCallOptions = {}): Promise<Message | null> {
    return this.updateMessage(id, input, opts).catch((e: unknown) => {
      if (e instanceof PachcaApiError && e.status === 404) return null;
      throw e;
    });
  }

  /** deleteMessage; false when it was already gone (404). */
  async deleteIfPresent(id: number, opts: WriteCallOptions = {}): Promise<boolean> {
    return this.deleteMessage(id, opts).then(
      () => true,
      (e: unknown) => {
        if (e instanceof PachcaApiError && e.status === 404) return false;
        throw e;
      },
    );
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
    await this.#transport.close();
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
    // Pachca counts edits per chat, not per message: edits of messages whose chat is unknown
    // share one bucket, as if they were all in one chat (slower, never over the limit).
    return chat !== undefined ? `chat:${chat}` : 'chat:unknown';
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

  /** One API call (call.ts), once the client is open and allowed to make it. */
  async #call<T>(method: string, path: string, spec: CallSpec): Promise<T> {
    if (this.#closed) throw new DigestError('E_DELIVERY', 'PachcaClient is closed', { hint: 'create a new client' });
    if (this.readOnly && method !== 'GET' && method !== 'HEAD') {
      throw new DigestError('E_READ_ONLY', `a read-only Pachca client refused ${method} ${path}: previews never post, edit or delete`, {
        location: { path: `${method} ${path}` },
        hint: 'render and run-job --dry-run only read; run the job without --dry-run to post',
      });
    }
    return callApi<T>(this.#callContext, method, path, spec);
  }
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

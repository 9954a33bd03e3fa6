/**
 * The sandbox as Pachca's bot side: a click on a `data` button becomes a webhook event, kept in the
 * bot's event history (`GET /webhooks/events`, `DELETE /webhooks/events/{id}`) and, when the bot has an
 * outgoing webhook URL, POSTed there signed (`Pachca-Signature`: hex HMAC-SHA256 of the raw body with
 * the bot's signing secret), retried while the answer is not 2xx: delivery is at least once, as in
 * Pachca. Shapes from ../shared/reference/pachca-openapi.en.yaml (WebhookEvent, ButtonWebhookPayload,
 * BotResponse).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { apiError, notFound, SandboxHttpError } from './errors.js';
import { decodeCursor, paginate } from './pagination.js';
import { intParam, type Route } from './router.js';
import { SANDBOX_DEFAULTS } from './defaults.js';
import { linksOf } from './link-previews.js';
import type { StoredMessage } from './records.js';
import type { SandboxStore } from './store.js';

export const BOT_DEFAULTS = {
  /** What the sandbox signs with unless told otherwise (the bot settings' «Подписи» secret). */
  signingSecret: 'sandbox-signing-secret',
  /** Webhook delivery: attempts and the pause before each retry (doubling). */
  deliveryAttempts: 4,
  deliveryRetryMs: 500,
  deliveryTimeoutMs: 5_000,
} as const;

/** BotEventName of the spec: what a bot's webhook can subscribe to. */
const BOT_EVENT_NAMES = new Set([
  'message_new', 'message_update', 'message_delete', 'reaction_new', 'reaction_delete', 'button_click', 'message_link_shared',
  'chat_member_add', 'chat_member_remove', 'company_member_invite', 'company_member_confirm', 'company_member_suspend',
  'company_member_activate', 'company_member_delete', 'company_member_update', 'video_call_started', 'video_call_finished',
  'video_call_recording_ready',
]);

/** What a sandbox token may do unless `tokenScopes` says otherwise: everything a digest bot uses. */
const SANDBOX_SCOPES = [
  'chats:read', 'messages:read', 'messages:create', 'messages:update', 'messages:delete', 'threads:read', 'threads:create',
  'users:read', 'uploads:write', 'link_previews:write', 'webhooks:events:read', 'webhooks:events:delete', 'bot_self:webhook:write',
];

export interface WebhookEvent {
  id: string;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: string;
}

export interface DeliveryAttempt {
  eventId: string;
  attempt: number;
  status: number | null;
  error?: string;
}

export interface BotOptions {
  store: SandboxStore;
  now: () => number;
  botUserId: number;
  signingSecret?: string;
  /** token → scopes; a token not listed has every scope (the default: any token works). */
  tokenScopes?: Record<string, string[]>;
  /** For fast tests. */
  deliveryRetryMs?: number;
  /**
   * Domains the bot unfurls (an Unfurl bot's settings in Pachca take up to 5): a message by someone
   * else with a link to one of them becomes a `message_link_shared` event. Empty: none are sent.
   */
  unfurlDomains?: string[];
}

export class SandboxBot {
  readonly signingSecret: string;
  #events: WebhookEvent[] = [];
  #seq = 0;
  /** Creation order of each event, the pagination key (ids are strings). */
  #order = new Map<string, number>();
  webhook: { outgoing_url: string; events: string[] } = { outgoing_url: '', events: ['button_click'] };
  readonly deliveries: DeliveryAttempt[] = [];
  #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(private readonly o: BotOptions) {
    this.signingSecret = o.signingSecret ?? BOT_DEFAULTS.signingSecret;
    this.unfurlDomains = (o.unfurlDomains ?? []).map((d) => d.toLowerCase());
    o.store.events.on('message:created', ({ message }) => this.#linkShared(message));
  }

  unfurlDomains: string[];

  /** Pachca's `link_shared` (LinkSharedWebhookPayload): links of the message on the watched domains. */
  #linkShared(m: StoredMessage): void {
    if (this.unfurlDomains.length === 0 || m.user_id === this.o.botUserId) return;
    const links = linksOf(m.content).flatMap((url) => {
      let host: string;
      try {
        host = new URL(url).hostname.toLowerCase();
      } catch {
        return [];
      }
      const domain = this.unfurlDomains.find((d) => host === d || host.endsWith(`.${d}`));
      // `skip` (required by WebhookLink): the author hid the preview, i.e. posted with link_preview: false.
      return domain ? [{ url, domain, skip: m.link_preview === false }] : [];
    });
    if (links.length === 0) return;
    this.emit('message_link_shared', { type: 'message', event: 'link_shared', chat_id: m.chat_id, message_id: m.id, links, user_id: m.user_id, created_at: m.created_at });
  }

  events(): WebhookEvent[] {
    return this.#events.slice();
  }

  /** A user clicks a data button of a message: the event Pachca would send. */
  click(input: { messageId: number; userId: number; data?: string; text?: string }): WebhookEvent {
    const m = this.o.store.message(input.messageId);
    if (!m || m.deleted_at) throw notFound('message_id', input.messageId, 'Message');
    const buttons = (m.buttons ?? []).flat();
    const button = buttons.find((b) => (input.data !== undefined ? b.data === input.data : b.text === input.text) && b.data !== undefined);
    if (!button) throw apiError(422, 'button', 'invalid', 'the message has no such data button', input.data ?? input.text ?? null);
    return this.emit('button_click', {
      type: 'button',
      event: 'click',
      message_id: m.id,
      trigger_id: randomUUID(),
      data: button.data!,
      user_id: input.userId,
      chat_id: m.chat_id,
    });
  }

  /** Any event (tests: unhandled types; the same event delivered again). */
  emit(eventType: string, payload: Record<string, unknown>, opts: { timestamp?: number } = {}): WebhookEvent {
    const now = this.o.now();
    const full = { ...payload, webhook_timestamp: opts.timestamp ?? Math.floor(now / 1000) };
    // ULID-like: sortable by creation, unique.
    const id = `${now.toString(36).padStart(10, '0')}${(++this.#seq).toString(36).padStart(6, '0')}`.toUpperCase();
    const event: WebhookEvent = { id, event_type: eventType, payload: full, created_at: new Date(now).toISOString() };
    this.#events.push(event);
    this.#order.set(id, this.#seq);
    if (this.webhook.outgoing_url && this.webhook.events.includes(eventType)) this.#deliver(event);
    return event;
  }

  /** POST the payload (Pachca sends the webhook object itself) and retry until a 2xx. */
  #deliver(event: WebhookEvent): void {
    const url = this.webhook.outgoing_url;
    const body = JSON.stringify(event.payload);
    const signature = createHmac('sha256', this.signingSecret).update(body).digest('hex');
    const p = (async () => {
      let wait = this.o.deliveryRetryMs ?? BOT_DEFAULTS.deliveryRetryMs;
      for (let attempt = 1; attempt <= BOT_DEFAULTS.deliveryAttempts && !this.#closed; attempt++) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'pachca-signature': signature },
            body,
            signal: AbortSignal.timeout(BOT_DEFAULTS.deliveryTimeoutMs),
          });
          await res.arrayBuffer().catch(() => undefined);
          this.deliveries.push({ eventId: event.id, attempt, status: res.status });
          if (res.ok) return;
        } catch (err) {
          this.deliveries.push({ eventId: event.id, attempt, status: null, error: (err as Error).message });
        }
        await new Promise((r) => setTimeout(r, wait));
        wait *= 2;
      }
    })();
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Deliveries still being attempted (tests wait for them). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  reset(): void {
    this.#events = [];
    this.deliveries.length = 0;
    this.webhook = { outgoing_url: '', events: ['button_click'] };
  }

  close(): void {
    this.#closed = true;
  }

  requireScope(tokenKey: string, scope: string, kind: 'bot' | 'user' = 'bot'): void {
    const scopes = this.o.tokenScopes?.[tokenKey];
    if (scopes && !scopes.includes(scope)) {
      throw new SandboxHttpError(403, { error: 'insufficient_scope', error_description: `The ${kind} token needs the scope ${scope}` });
    }
  }

  /** BotResponse with the whole BotWebhook (every field is required in the spec); the settings a digest bot does not use at their defaults. */
  botResponse() {
    const user = this.o.store.user(this.o.botUserId);
    return {
      id: this.o.botUserId,
      webhook: {
        name: user ? `${user.first_name} ${user.last_name}`.trim() : 'Бот',
        nickname: user?.nickname ?? 'bot',
        // The spec: `null` if the bot has no outgoing webhook (an empty URL turns it off).
        outgoing_url: this.webhook.outgoing_url || null,
        events: this.webhook.events,
        trigger_on: 'commands',
        commands: [],
        scopes: SANDBOX_SCOPES,
        template: null,
        template_engine: 'liquid',
        challenge_key: null,
        link_preview_enabled: false,
        ignore_self_messages: true,
        events_history_enabled: true,
        single_chat: false,
        can_edit: [],
        who_can_add: 'creator_admin',
      },
    };
  }

  apiRoutes(): Route[] {
    const { limit: L } = { limit: SANDBOX_DEFAULTS.pageLimit };
    return [
      {
        method: 'GET',
        path: '/webhooks/events',
        bucket: 'eventHistory',
        handle: (ctx) => {
          this.requireScope(ctx.tokenKey, 'webhooks:events:read');
          const limit = intParam(ctx.query.get('limit'), 'limit') ?? L.default;
          if (limit < L.min || limit > L.max) throw apiError(400, 'limit', 'invalid', `limit must be between ${L.min} and ${L.max}`, limit);
          const c = ctx.query.get('cursor');
          const cursor = c ? decodeCursor(c) : undefined;
          // Newest first, as Pachca lists history.
          const page = paginate(this.#events, (e) => [this.#order.get(e.id) ?? 0], { limit, order: 'desc', sort: 'id', ...(cursor ? { cursor } : {}) });
          return { status: 200, body: page };
        },
      },
      {
        method: 'DELETE',
        path: '/webhooks/events/:id',
        bucket: 'other',
        handle: (ctx) => {
          this.requireScope(ctx.tokenKey, 'webhooks:events:delete');
          const i = this.#events.findIndex((e) => e.id === ctx.params.id);
          if (i < 0) throw notFound('id', ctx.params.id, 'Event');
          this.#events.splice(i, 1);
          return { status: 204 };
        },
      },
      {
        // AccessTokenInfo: whose token it is and what it may do (`bot status` reads it).
        method: 'GET',
        path: '/oauth/token/info',
        bucket: 'other',
        handle: (ctx) => {
          const user = this.o.store.user(ctx.userId);
          const t = ctx.tokenKey;
          // Masked as Pachca documents: the first 8 and the last 4 characters (short ones hidden entirely).
          const masked = t.length > 16 ? `${t.slice(0, 8)}...${t.slice(-4)}` : '...';
          return {
            status: 200,
            body: {
              data: {
                id: 1,
                token: masked,
                name: user?.bot ? null : 'sandbox token',
                user_id: ctx.userId,
                scopes: this.o.tokenScopes?.[t] ?? SANDBOX_SCOPES,
                created_at: new Date(0).toISOString(),
                revoked_at: null,
                expires_in: null,
                last_used_at: new Date(this.o.now()).toISOString(),
              },
            },
          };
        },
      },
      {
        method: 'PUT',
        path: '/bot/webhook',
        bucket: 'other',
        handle: (ctx) => {
          this.requireScope(ctx.tokenKey, 'bot_self:webhook:write');
          const body = ctx.json() as { webhook?: { outgoing_url?: unknown } } | undefined;
          const url = body?.webhook?.outgoing_url;
          if (typeof url !== 'string') throw apiError(400, 'webhook.outgoing_url', 'invalid', 'outgoing_url is required', null);
          if (url !== '' && !/^https?:\/\//.test(url)) throw apiError(422, 'webhook.outgoing_url', 'invalid', 'outgoing_url must be an http(s) URL', url);
          this.webhook = { ...this.webhook, outgoing_url: url };
          return { status: 200, body: { data: this.botResponse() } };
        },
      },
      {
        method: 'GET',
        path: '/bots/:id',
        bucket: 'other',
        handle: (ctx) => {
          this.requireScope(ctx.tokenKey, 'bots:read', 'user');
          if (intParam(ctx.params.id, 'id') !== this.o.botUserId) throw notFound('id', ctx.params.id, 'Bot');
          return { status: 200, body: { data: this.botResponse() } };
        },
      },
      {
        method: 'PUT',
        path: '/bots/:id',
        bucket: 'other',
        handle: (ctx) => {
          this.requireScope(ctx.tokenKey, 'bots:write', 'user');
          if (intParam(ctx.params.id, 'id') !== this.o.botUserId) throw notFound('id', ctx.params.id, 'Bot');
          const w = (ctx.json() as { webhook?: { outgoing_url?: unknown; events?: unknown } } | undefined)?.webhook;
          if (!w || typeof w !== 'object') throw apiError(400, 'webhook', 'invalid', 'webhook is required', null);
          if (w.outgoing_url !== undefined) {
            if (typeof w.outgoing_url !== 'string') throw apiError(400, 'webhook.outgoing_url', 'invalid', 'outgoing_url must be a string', null);
            this.webhook = { ...this.webhook, outgoing_url: w.outgoing_url };
          }
          if (w.events !== undefined) {
            if (!Array.isArray(w.events) || !w.events.every((e) => typeof e === 'string')) throw apiError(400, 'webhook.events', 'invalid', 'events must be a list of names', null);
            const unknown = w.events.find((e) => !BOT_EVENT_NAMES.has(e as string));
            if (unknown !== undefined) throw apiError(422, 'webhook.events', 'invalid', `unknown event ${String(unknown)}`, String(unknown));
            this.webhook = { ...this.webhook, events: w.events as string[] };
          }
          return { status: 200, body: { data: this.botResponse() } };
        },
      },
    ];
  }

  /** `/__sandbox/bot/*`: simulate clicks and look at what the bot side did. */
  inspectRoutes(): Route[] {
    return [
      {
        method: 'POST',
        path: '/bot/click',
        handle: (ctx) => {
          const b = (ctx.json() ?? {}) as { message_id?: unknown; user_id?: unknown; data?: unknown; text?: unknown };
          if (typeof b.message_id !== 'number') throw apiError(400, 'message_id', 'invalid', 'message_id (a number) is required');
          if (b.user_id !== undefined && typeof b.user_id !== 'number') throw apiError(400, 'user_id', 'invalid', 'user_id must be a number');
          // The web view clicks as the first person of the company (it has no login).
          const userId = b.user_id ?? this.o.store.users().find((u) => !u.bot)?.id;
          if (userId === undefined) throw apiError(422, 'user_id', 'invalid', 'no person in the sandbox to click as; pass user_id');
          const event = this.click({
            messageId: b.message_id,
            userId,
            ...(typeof b.data === 'string' ? { data: b.data } : {}),
            ...(typeof b.text === 'string' ? { text: b.text } : {}),
          });
          return { status: 201, body: { data: event } };
        },
      },
      {
        method: 'GET',
        path: '/bot',
        handle: () => ({ status: 200, body: { data: { ...this.botResponse(), history: this.#events.length, deliveries: this.deliveries } } }),
      },
    ];
  }
}

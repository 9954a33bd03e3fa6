/**
 * `/__sandbox/*`: inspection and control for people and tests (no auth). Shows what the API
 * hides: deleted and edited messages, the recorded `link_preview`, the request log, counters.
 */
import type { ServerResponse } from 'node:http';
import { apiError } from './errors.js';
import { parseFaults, type FaultRegistry } from './faults.js';
import { intParam, type Route } from './router.js';
import { apiChat, messageUrl } from './api-views.js';
import type { SandboxStoreEvents, SeedChat, SeedUser } from './records.js';
import type { SandboxStore } from './store.js';
import type { SandboxLinkPreviews } from './link-previews.js';
import type { RequestLogEntry, SandboxStats } from './server.js';

export interface InspectDeps {
  store: SandboxStore;
  faults: FaultRegistry;
  requests(): RequestLogEntry[];
  stats(): SandboxStats;
  reset(): void;
  /** Open event streams, so close() can end them. */
  streams: Set<ServerResponse>;
  /** Cards added to messages: streamed as `link_previews:added`, so the web view repaints. */
  previews?: SandboxLinkPreviews;
}

const STREAMED_EVENTS: Array<keyof SandboxStoreEvents> = [
  'message:created',
  'message:updated',
  'message:deleted',
  'chat:created',
  'thread:created',
  'reset',
];

export function inspectRoutes(d: InspectDeps): Route[] {
  const { store } = d;
  const json = (body: unknown, status = 200) => ({ status, body });
  const objectBody = (raw: unknown, what: string) => {
    if (typeof raw !== 'object' || raw === null) throw apiError(400, 'body', 'invalid', `${what} must be a JSON object`);
    return raw as Record<string, unknown>;
  };

  return [
    {
      method: 'GET',
      path: '/messages',
      handle(ctx) {
        const chatId = intParam(ctx.query.get('chat_id'), 'chat_id');
        const data = store.messages(chatId).map((m) => ({ ...m, url: messageUrl(store.origin, m.chat_id, m.id) }));
        return json({ data });
      },
    },
    {
      method: 'GET',
      path: '/chats',
      handle() {
        const data = store.chats().map((c) => {
          const n = store.messageCount(c.id);
          return { ...apiChat(c), kind: c.kind, thread_id: c.thread_id, message_count: n.live, total_message_count: n.total };
        });
        return json({ data });
      },
    },
    {
      method: 'POST',
      path: '/chats',
      handle(ctx) {
        const b = objectBody(ctx.json(), 'chat');
        if (!Number.isInteger(b.id) || typeof b.name !== 'string') throw apiError(400, 'chat', 'invalid', 'chat needs integer id and string name');
        return json({ data: apiChat(store.addChat(b as unknown as SeedChat)) }, 201);
      },
    },
    { method: 'GET', path: '/users', handle: () => json({ data: store.users() }) },
    {
      method: 'POST',
      path: '/users',
      handle(ctx) {
        const b = objectBody(ctx.json(), 'user');
        if (!Number.isInteger(b.id) || typeof b.first_name !== 'string' || typeof b.nickname !== 'string') {
          throw apiError(400, 'user', 'invalid', 'user needs integer id, first_name, last_name and nickname');
        }
        return json({ data: store.addUser({ last_name: '', ...(b as object) } as SeedUser) }, 201);
      },
    },
    {
      // A person writes in a chat (the web view's composer, tests): what makes `link_shared` events.
      method: 'POST',
      path: '/chats/:id/messages',
      handle(ctx) {
        const chatId = intParam(ctx.params.id, 'id', { required: true })!;
        const b = objectBody(ctx.json(), 'message');
        const chat = store.chat(chatId);
        if (!chat) throw apiError(404, 'id', 'not_found', `chat ${chatId} does not exist`);
        if (typeof b.content !== 'string' || b.content.trim() === '') throw apiError(400, 'content', 'blank', 'content is required');
        const person = b.user_id === undefined ? store.users().find((u) => !u.bot) : store.user(Number(b.user_id));
        if (!person) throw apiError(404, 'user_id', 'not_found', `user ${String(b.user_id ?? '(a person)')} does not exist`);
        if (b.link_preview !== undefined && typeof b.link_preview !== 'boolean') throw apiError(400, 'link_preview', 'invalid', 'link_preview must be a boolean');
        const m = store.createMessage({ entity_type: 'discussion', entity_id: chat.id, chat_id: chat.id, content: b.content, user_id: person.id, link_preview: b.link_preview ?? null });
        return json({ data: { ...m, url: messageUrl(store.origin, m.chat_id, m.id) } }, 201);
      },
    },
    { method: 'GET', path: '/threads', handle: () => json({ data: store.threads() }) },
    { method: 'GET', path: '/requests', handle: () => json({ data: d.requests() }) },
    { method: 'GET', path: '/stats', handle: () => json({ data: d.stats() }) },
    {
      method: 'POST',
      path: '/reset',
      handle() {
        d.reset();
        return json({ data: { ok: true } });
      },
    },
    {
      method: 'GET',
      path: '/faults',
      handle: () => json({ data: d.faults.list().map((f) => ({ ...f, fault: { ...f.fault, path: f.fault.path?.toString() } })) }),
    },
    {
      method: 'POST',
      path: '/faults',
      handle(ctx) {
        let faults;
        try {
          faults = parseFaults(ctx.json());
        } catch (e) {
          throw apiError(400, 'fault', 'invalid', (e as Error).message);
        }
        const added = faults.map((f) => d.faults.add(f));
        return json({ data: added.map((a) => ({ id: a.id, remaining: a.remaining, kind: a.fault.kind })) }, 201);
      },
    },
    {
      method: 'DELETE',
      path: '/faults',
      handle() {
        d.faults.clear();
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/faults/:id',
      handle(ctx) {
        const id = intParam(ctx.params.id, 'id', { required: true })!;
        if (!d.faults.remove(id)) throw apiError(404, 'id', 'not_found', 'Fault not found', String(id));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/events',
      handle(ctx) {
        const res = ctx.res;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.write(': connected\n\n');
        const offs = STREAMED_EVENTS.map((name) =>
          store.events.on(name, (payload) => {
            const data =
              'message' in payload
                ? { ...payload.message, url: messageUrl(store.origin, payload.message.chat_id, payload.message.id) }
                : payload;
            res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
          }),
        );
        const offPreviews = d.previews?.onChange((messageId) => res.write(`event: link_previews:added\ndata: ${JSON.stringify({ message_id: messageId })}\n\n`));
        if (offPreviews) offs.push(offPreviews);
        d.streams.add(res);
        res.once('close', () => {
          offs.forEach((off) => off());
          d.streams.delete(res);
        });
        return { stream: true };
      },
    },
  ];
}

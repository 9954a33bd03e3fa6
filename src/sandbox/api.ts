/**
 * The Pachca API subset, validated the way the real API does: structural problems (wrong types,
 * unknown enum values, bad query parameters) are 400, content rules (blank, too long, button
 * limits) are 422, unknown ids are 404 `not_found` — all with ApiError bodies.
 */
import type { EntityType } from '../pachca/index.js';
import {
  checkBoolean,
  checkButtons,
  checkContent,
  checkFiles,
  checkShortString,
  dateParam,
  ENTITY_TYPES,
  intValue,
  messageObject,
  ORDERS,
  pageParams,
  Problems,
  type Obj,
} from './api-input.js';
import { apiError, notFound } from './errors.js';
import { paginate, type Position } from './pagination.js';
import { enumParam, intParam, type RequestContext, type Route } from './router.js';
import { apiChat, apiMessage } from './api-views.js';
import type { MessagePatch, StoredChat } from './records.js';
import { dmWriteScope, type SandboxStore } from './store.js';

export interface ApiDeps {
  store: SandboxStore;
  /** Keys of uploaded files: `files` may refer to these only. */
  uploads?: { has(key: string): boolean };
  maxContentBytes: number;
}

export function apiRoutes({ store, maxContentBytes, uploads }: ApiDeps): Route[] {
  const origin = () => store.origin;

  /** Where a POST /messages goes; throws 404 for unknown targets. */
  const resolveTarget = (type: EntityType, id: number, authorId: number): StoredChat => {
    if (type === 'user') {
      if (!store.user(id)) throw notFound('entity_id', String(id), 'User');
      return store.directChat(authorId, id);
    }
    if (type === 'thread') {
      const t = store.thread(id);
      if (!t) throw notFound('entity_id', String(id), 'Thread');
      return store.chat(t.chat_id)!;
    }
    const chat = store.chat(id);
    if (chat) return chat;
    if (store.autoCreateChats && id > 0) return store.autoChat(id);
    throw notFound('entity_id', String(id), 'Chat');
  };

  /** Best-effort chat of a POST, without side effects (for rate-limit scoping and faults). */
  const peekPostChat = (ctx: RequestContext): number | undefined => {
    try {
      const m = messageObject(ctx);
      const id = intValue(m.entity_id);
      if (id === undefined) return undefined;
      const type = typeof m.entity_type === 'string' ? m.entity_type.toLowerCase() : 'discussion';
      if (type === 'thread') return store.thread(id)?.chat_id;
      if (type === 'user') return undefined; // the direct chat may not exist yet
      return id;
    } catch {
      return undefined;
    }
  };

  /**
   * A DM's write scope: the pair of users, whose chat the post may be about to create. Each
   * recipient is its own chat in Pachca, so a DM fan-out is not held to one chat's 4/s.
   */
  const postWriteScope = (ctx: RequestContext): string | undefined => {
    try {
      const m = messageObject(ctx);
      const id = intValue(m.entity_id);
      if (id === undefined || typeof m.entity_type !== 'string' || m.entity_type.toLowerCase() !== 'user') return undefined;
      return dmWriteScope(ctx.userId, id);
    } catch {
      return undefined;
    }
  };

  const messageChat = (ctx: RequestContext) => {
    const id = Number(ctx.params.id);
    return Number.isInteger(id) ? store.message(id)?.chat_id : undefined;
  };

  const liveMessage = (ctx: RequestContext) => {
    const id = intParam(ctx.params.id, 'id', { required: true })!;
    const m = store.message(id);
    if (!m || m.deleted_at !== null) throw notFound('id', String(id), 'Message');
    return m;
  };

  return [
    {
      method: 'POST',
      path: '/messages',
      bucket: 'messageWrite',
      chatOf: peekPostChat,
      writeScopeOf: postWriteScope,
      handle(ctx) {
        const body = ctx.json() as Obj;
        const m = messageObject(ctx);
        const p = new Problems();
        let entityType: EntityType = 'discussion';
        if (m.entity_type !== undefined && m.entity_type !== null) {
          const t = typeof m.entity_type === 'string' ? m.entity_type.toLowerCase() : '';
          if ((ENTITY_TYPES as string[]).includes(t)) entityType = t as EntityType;
          else p.add(400, 'entity_type', 'invalid', `entity_type must be one of: ${ENTITY_TYPES.join(', ')}`, m.entity_type);
        }
        const entityId = intValue(m.entity_id);
        if (m.entity_id === undefined || m.entity_id === null) p.add(400, 'entity_id', 'required', 'entity_id is required');
        else if (entityId === undefined) p.add(400, 'entity_id', 'invalid', 'entity_id must be an integer', m.entity_id);
        const content = checkContent(p, m, true, maxContentBytes);
        const buttons = checkButtons(p, m);
        const files = checkFiles(p, m, uploads);
        const displayName = checkShortString(p, m, 'display_name');
        const displayAvatar = checkShortString(p, m, 'display_avatar_url');
        const skipInvite = checkBoolean(p, m, 'skip_invite_mentions');
        const linkPreview = checkBoolean(p, body, 'link_preview');
        let parentId: number | undefined;
        if (m.parent_message_id !== undefined && m.parent_message_id !== null) {
          parentId = intValue(m.parent_message_id);
          if (parentId === undefined) p.add(400, 'parent_message_id', 'invalid', 'parent_message_id must be an integer', m.parent_message_id);
        }
        p.throwIfAny();
        const chat = resolveTarget(entityType, entityId!, ctx.userId);
        if (parentId !== undefined) {
          const parent = store.message(parentId);
          if (!parent || parent.deleted_at !== null) throw notFound('parent_message_id', String(parentId), 'Message');
        }
        const message = store.createMessage({
          entity_type: entityType,
          entity_id: entityId!,
          chat_id: chat.id,
          content: content!,
          user_id: ctx.userId,
          buttons: buttons ?? null,
          files,
          parent_message_id: parentId ?? null,
          display_name: displayName ?? null,
          display_avatar_url: displayAvatar ?? null,
          link_preview: linkPreview ?? null,
          skip_invite_mentions: skipInvite ?? null,
        });
        return { status: 201, body: { data: apiMessage(message, origin()) } };
      },
    },
    {
      method: 'GET',
      path: '/messages',
      bucket: 'messageRead',
      chatOf: (ctx) => {
        const v = ctx.query.get('chat_id');
        return v && /^\d+$/.test(v) ? Number(v) : undefined;
      },
      handle(ctx) {
        const chatId = intParam(ctx.query.get('chat_id'), 'chat_id', { required: true })!;
        const { limit, cursor } = pageParams(ctx);
        const sort = enumParam(ctx.query.get('sort'), 'sort', ['id'] as const, 'id');
        const order = cursor?.o ?? enumParam(ctx.query.get('order'), 'order', ORDERS, 'desc');
        if (!store.chat(chatId)) throw notFound('chat_id', String(chatId), 'Chat');
        const page = paginate(store.liveMessages(chatId), (m) => [m.id], { limit, order, sort, cursor });
        return { status: 200, body: { data: page.data.map((m) => apiMessage(m, origin())), meta: page.meta } };
      },
    },
    {
      method: 'GET',
      path: '/messages/:id',
      bucket: 'messageRead',
      chatOf: messageChat,
      handle(ctx) {
        return { status: 200, body: { data: apiMessage(liveMessage(ctx), origin()) } };
      },
    },
    {
      method: 'PUT',
      path: '/messages/:id',
      bucket: 'messageWrite',
      chatOf: messageChat,
      handle(ctx) {
        const m = messageObject(ctx);
        const p = new Problems();
        const patch: MessagePatch = {};
        const content = checkContent(p, m, false, maxContentBytes);
        if (content !== undefined) patch.content = content;
        if (Array.isArray(m.buttons) && m.buttons.length === 0) patch.buttons = null;
        else {
          const buttons = checkButtons(p, m);
          if (buttons !== undefined) patch.buttons = buttons;
        }
        const files = checkFiles(p, m, uploads);
        if (files !== undefined) patch.files = files;
        const displayName = checkShortString(p, m, 'display_name');
        if (displayName !== undefined) patch.display_name = displayName;
        const displayAvatar = checkShortString(p, m, 'display_avatar_url');
        if (displayAvatar !== undefined) patch.display_avatar_url = displayAvatar;
        p.throwIfAny();
        const existing = liveMessage(ctx);
        const updated = store.updateMessage(existing.id, patch)!;
        return { status: 200, body: { data: apiMessage(updated, origin()) } };
      },
    },
    {
      method: 'DELETE',
      path: '/messages/:id',
      bucket: 'messageWrite',
      chatOf: messageChat,
      handle(ctx) {
        store.deleteMessage(liveMessage(ctx).id);
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/messages/:id/thread',
      bucket: 'other',
      chatOf: messageChat,
      handle(ctx) {
        const m = liveMessage(ctx);
        if (store.chat(m.chat_id)?.kind === 'thread') {
          throw apiError(400, 'id', 'thread_message', 'Cannot create a thread for a message that is already in a thread', String(m.id));
        }
        const { thread } = store.ensureThread(m.id)!;
        return { status: 201, body: { data: { ...thread } } };
      },
    },
    {
      method: 'GET',
      path: '/chats',
      bucket: 'other',
      handle(ctx) {
        const { limit, cursor } = pageParams(ctx);
        const q = ctx.query;
        const sort = cursor?.s ?? enumParam(q.get('sort'), 'sort', ['id', 'last_message_at'] as const, 'id');
        const order = cursor?.o ?? enumParam(q.get('order'), 'order', ORDERS, 'desc');
        const availability = enumParam(q.get('availability'), 'availability', ['is_member', 'public'] as const, 'is_member');
        const after = dateParam(ctx, 'last_message_at_after');
        const before = dateParam(ctx, 'last_message_at_before');
        const personal = q.get('personal');
        if (personal !== null && personal !== 'true' && personal !== 'false') {
          throw apiError(400, 'personal', 'invalid', 'personal must be true or false', personal);
        }
        const lastAt = (c: StoredChat) => (c.last_message_at === null ? null : Date.parse(c.last_message_at));
        const chats = store.chats().filter((c) => {
          if (c.kind === 'thread') return false;
          if (availability === 'is_member' ? !c.member_ids.includes(ctx.userId) : !c.public) return false;
          if (personal !== null && c.personal !== (personal === 'true')) return false;
          const t = lastAt(c);
          if (after !== undefined && (t === null || t < after)) return false;
          if (before !== undefined && (t === null || t > before)) return false;
          return true;
        });
        const pos = (c: StoredChat): Position => (sort === 'last_message_at' ? [lastAt(c) ?? -1, c.id] : [c.id]);
        const page = paginate(chats, pos, { limit, order, sort, cursor });
        return { status: 200, body: { data: page.data.map(apiChat), meta: page.meta } };
      },
    },
    {
      method: 'GET',
      path: '/chats/:id',
      bucket: 'other',
      handle(ctx) {
        const id = intParam(ctx.params.id, 'id', { required: true })!;
        const chat = store.chat(id);
        if (!chat) throw notFound('id', String(id), 'Chat');
        return { status: 200, body: { data: apiChat(chat) } };
      },
    },
    {
      method: 'GET',
      path: '/users',
      bucket: 'other',
      handle(ctx) {
        const { limit, cursor } = pageParams(ctx);
        const query = ctx.query.get('query')?.toLowerCase().trim();
        const users = store.users().filter((u) => {
          if (!query) return true;
          return [u.first_name, u.last_name, u.nickname, u.email ?? ''].some((s) => s.toLowerCase().includes(query));
        });
        const page = paginate(users, (u) => [u.id], { limit, order: cursor?.o ?? 'asc', sort: 'id', cursor });
        return { status: 200, body: { data: page.data, meta: page.meta } };
      },
    },
    {
      method: 'GET',
      path: '/users/:id',
      bucket: 'other',
      handle(ctx) {
        const id = intParam(ctx.params.id, 'id', { required: true })!;
        const user = store.user(id);
        if (!user) throw notFound('id', String(id), 'User');
        return { status: 200, body: { data: user } };
      },
    },
    {
      method: 'GET',
      path: '/threads',
      bucket: 'other',
      handle(ctx) {
        const { limit, cursor } = pageParams(ctx);
        const after = dateParam(ctx, 'last_message_at_after');
        const before = dateParam(ctx, 'last_message_at_before');
        const threads = store.threads().filter((t) => {
          const at = Date.parse(t.updated_at);
          return (after === undefined || at >= after) && (before === undefined || at <= before);
        });
        const page = paginate(threads, (t) => [Date.parse(t.updated_at), t.id], {
          limit,
          order: 'desc',
          sort: 'updated_at',
          cursor,
        });
        return { status: 200, body: { data: page.data, meta: page.meta } };
      },
    },
    {
      method: 'GET',
      path: '/threads/:id',
      bucket: 'other',
      handle(ctx) {
        const id = intParam(ctx.params.id, 'id', { required: true })!;
        const t = store.thread(id);
        if (!t) throw notFound('id', String(id), 'Thread');
        return { status: 200, body: { data: t } };
      },
    },
    // GET /webhooks/events and the other bot endpoints live in bot.ts.
    {
      method: 'GET',
      path: '/profile',
      bucket: 'other',
      handle(ctx) {
        return { status: 200, body: { data: store.user(ctx.userId) } };
      },
    },
  ];
}

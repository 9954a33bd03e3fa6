/**
 * The Pachca API subset, validated the way the real API does: structural problems (wrong types,
 * unknown enum values, bad query parameters) are 400, content rules (blank, too long, button
 * limits) are 422, unknown ids are 404 `not_found` — all with ApiError bodies.
 */
import type { EntityType, MessageButton } from '../pachca/index.js';
import { SANDBOX_DEFAULTS } from './defaults.js';
import { apiError, errorItem, notFound, SandboxHttpError, type ApiErrorItem } from './errors.js';
import { decodeCursor, paginate, type Cursor, type Position, type SortOrder } from './pagination.js';
import { enumParam, intParam, type RequestContext, type Route } from './router.js';
import { apiChat, apiMessage, dmWriteScope, type MessagePatch, type SandboxStore, type StoredChat, type StoredFile } from './store.js';

const ENTITY_TYPES: readonly EntityType[] = ['discussion', 'thread', 'user'];
const ORDERS: readonly SortOrder[] = ['asc', 'desc'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects every problem of a body, then throws once (the real API reports them together). */
class Problems {
  items: Array<{ status: number; item: ApiErrorItem }> = [];
  add(status: number, key: string, code: string, message: string, value?: unknown): void {
    this.items.push({ status, item: errorItem(key, code, message, value) });
  }
  throwIfAny(): void {
    if (this.items.length === 0) return;
    // Structural (400) problems win: the request was not understood at all.
    const status = this.items.some((p) => p.status === 400) ? 400 : 422;
    throw new SandboxHttpError(status, { errors: this.items.filter((p) => p.status === status).map((p) => p.item) });
  }
}

function intValue(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  // Rails-style coercion: the real API accepts "334" for an integer field.
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function checkShortString(p: Problems, m: Obj, key: string): string | null | undefined {
  const v = m[key];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') {
    p.add(400, key, 'invalid', `${key} must be a string`, v);
    return undefined;
  }
  if (v.length > SANDBOX_DEFAULTS.maxFieldLength) {
    p.add(422, key, 'too_long', `${key} is too long (maximum is ${SANDBOX_DEFAULTS.maxFieldLength} characters)`, v);
  }
  return v;
}

function checkContent(p: Problems, m: Obj, required: boolean, maxBytes: number): string | undefined {
  const v = m.content;
  if (v === undefined || v === null) {
    if (required) p.add(400, 'content', 'required', 'content is required', v);
    return undefined;
  }
  if (typeof v !== 'string') {
    p.add(400, 'content', 'invalid', 'content must be a string', v);
    return undefined;
  }
  if (v.trim() === '') p.add(422, 'content', 'blank', 'content cannot be blank', v);
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > maxBytes) {
    p.add(422, 'content', 'too_long', `content is too long (${bytes} bytes, maximum is ${maxBytes})`, null);
  }
  return v;
}

function checkButtons(p: Problems, m: Obj): MessageButton[][] | undefined {
  const v = m.buttons;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(Array.isArray)) {
    p.add(400, 'buttons', 'invalid', 'buttons must be an array of rows (arrays of buttons)', v);
    return undefined;
  }
  const rows = v as unknown[][];
  const total = rows.reduce((n, r) => n + r.length, 0);
  if (total > SANDBOX_DEFAULTS.maxButtons) {
    p.add(422, 'buttons', 'invalid', `at most ${SANDBOX_DEFAULTS.maxButtons} buttons per message (got ${total})`, null);
  }
  const out: MessageButton[][] = [];
  rows.forEach((row, i) => {
    if (row.length === 0) p.add(422, `buttons[${i}]`, 'invalid', 'a row of buttons cannot be empty', row);
    if (row.length > SANDBOX_DEFAULTS.maxButtonsPerRow) {
      p.add(422, `buttons[${i}]`, 'invalid', `at most ${SANDBOX_DEFAULTS.maxButtonsPerRow} buttons per row`, null);
    }
    const outRow: MessageButton[] = [];
    row.forEach((b, j) => {
      const key = `buttons[${i}][${j}]`;
      if (!isObj(b)) return p.add(400, key, 'invalid', 'a button must be an object', b);
      if (typeof b.text !== 'string') return p.add(400, `${key}.text`, 'invalid', 'button text must be a string', b.text);
      if (b.text.trim() === '') p.add(422, `${key}.text`, 'blank', 'button text cannot be blank', b.text);
      if (b.text.length > SANDBOX_DEFAULTS.maxFieldLength) p.add(422, `${key}.text`, 'too_long', 'button text is too long', b.text);
      const hasUrl = b.url !== undefined && b.url !== null;
      const hasData = b.data !== undefined && b.data !== null;
      if (hasUrl === hasData) {
        return p.add(422, key, 'invalid', 'a button needs exactly one of url or data', b);
      }
      if (hasUrl) {
        if (typeof b.url !== 'string' || !/^https?:\/\/[^\s]+$/i.test(b.url)) {
          return p.add(422, `${key}.url`, 'invalid', 'button url must be an http(s) URL', b.url);
        }
        outRow.push({ text: b.text, url: b.url });
      } else {
        if (typeof b.data !== 'string') return p.add(400, `${key}.data`, 'invalid', 'button data must be a string', b.data);
        if (b.data.length > SANDBOX_DEFAULTS.maxFieldLength) p.add(422, `${key}.data`, 'too_long', 'button data is too long', b.data);
        outRow.push({ text: b.text, data: b.data });
      }
    });
    out.push(outRow);
  });
  return out;
}

function checkFiles(p: Problems, m: Obj, uploaded?: { has(key: string): boolean }): Array<Omit<StoredFile, 'id' | 'url'>> | undefined {
  const v = m.files;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    p.add(400, 'files', 'invalid', 'files must be an array', v);
    return undefined;
  }
  const out: Array<Omit<StoredFile, 'id' | 'url'>> = [];
  v.forEach((f, i) => {
    if (!isObj(f) || typeof f.key !== 'string' || typeof f.name !== 'string') {
      return p.add(400, `files[${i}]`, 'invalid', 'a file needs string key and name', f);
    }
    if (uploaded && !uploaded.has(f.key)) p.add(422, `files[${i}].key`, 'not_found', 'no file was uploaded with this key', f.key);
    const ext = (s: string) => /\.[^./]*$/.exec(s)?.[0]?.toLowerCase() ?? '';
    if (ext(f.name) !== ext(f.key)) p.add(422, `files[${i}].name`, 'invalid', 'the extension of name must match the extension of key', f.name);
    out.push({
      key: f.key,
      name: f.name,
      file_type: typeof f.file_type === 'string' ? f.file_type : 'file',
      size: typeof f.size === 'number' ? f.size : 0,
      ...(typeof f.width === 'number' ? { width: f.width } : {}),
      ...(typeof f.height === 'number' ? { height: f.height } : {}),
    });
  });
  return out;
}

function checkBoolean(p: Problems, obj: Obj, key: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    p.add(400, key, 'invalid', `${key} must be a boolean`, v);
    return undefined;
  }
  return v;
}

function messageObject(ctx: RequestContext): Obj {
  const body = ctx.json();
  if (!isObj(body)) throw apiError(400, 'message', 'required', 'body must be a JSON object with `message`', body);
  if (!isObj(body.message)) throw apiError(400, 'message', 'required', '`message` object is required', body.message);
  return body.message;
}

function pageParams(ctx: RequestContext) {
  const q = ctx.query;
  const lim = SANDBOX_DEFAULTS.pageLimit;
  const limit = intParam(q.get('limit'), 'limit') ?? lim.default;
  if (limit < lim.min || limit > lim.max) {
    throw apiError(400, 'limit', 'invalid', `limit must be between ${lim.min} and ${lim.max}`, String(limit));
  }
  const c = q.get('cursor');
  const cursor: Cursor | undefined = c ? decodeCursor(c) : undefined;
  return { limit, cursor };
}

function dateParam(ctx: RequestContext, key: string): number | undefined {
  const v = ctx.query.get(key);
  if (v === null || v === '') return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw apiError(400, key, 'invalid', `${key} must be an ISO-8601 date-time`, v);
  return t;
}

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

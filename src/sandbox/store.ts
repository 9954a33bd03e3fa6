/**
 * The in-memory world of the sandbox: users, chats (group, direct and thread chats), messages
 * and threads. Pure data plus a change emitter; HTTP concerns (validation, auth, limits) live in
 * the API layer. Everything is synchronous, so a benchmark run of thousands of posts stays cheap.
 */
import { Emitter } from '../events.js';
import { DEFAULT_BOT_USER, DEFAULT_CHATS, DEFAULT_USERS, SANDBOX_DEFAULTS } from './defaults.js';
import type { MessagePatch, NewMessage, SandboxStoreEvents, SeedChat, SeedUser, StoredChat, StoredFile, StoredMessage, StoredThread, StoredUser } from './records.js';

export interface StoreOptions {
  users?: SeedUser[];
  chats?: SeedChat[];
  botUserId?: number;
  autoCreateChats?: boolean;
  now?: () => number;
  /** Also members of seeded chats without explicit `member_ids` (authors of extra tokens). */
  extraMemberIds?: number[];
}

export class SandboxStore {
  /** Change notifications (the web UI and SSE inspection stream subscribe here). */
  readonly events = new Emitter<SandboxStoreEvents>();
  readonly botUserId: number;
  autoCreateChats: boolean;
  /** Where message `url`s point; the server sets it once it listens. */
  origin = 'http://127.0.0.1';

  readonly #seedUsers: SeedUser[];
  readonly #seedChats: SeedChat[];
  readonly #now: () => number;
  readonly #extraMemberIds: number[];
  #users = new Map<number, StoredUser>();
  #chats = new Map<number, StoredChat>();
  #messages = new Map<number, StoredMessage>();
  #byChat = new Map<number, StoredMessage[]>();
  #threads = new Map<number, StoredThread>();
  #threadByMessage = new Map<number, StoredThread>();
  #directChats = new Map<string, StoredChat>();
  #nextMessageId: number = SANDBOX_DEFAULTS.firstMessageId;
  #nextChatId: number = SANDBOX_DEFAULTS.firstDynamicChatId;
  #nextThreadId: number = SANDBOX_DEFAULTS.firstThreadId;
  #nextFileId = 1;

  constructor(options: StoreOptions = {}) {
    this.botUserId = options.botUserId ?? SANDBOX_DEFAULTS.botUserId;
    this.autoCreateChats = options.autoCreateChats ?? false;
    this.#now = options.now ?? Date.now;
    this.#extraMemberIds = options.extraMemberIds ?? [];
    this.#seedUsers = [...(options.users ?? DEFAULT_USERS)];
    this.#seedChats = [...(options.chats ?? DEFAULT_CHATS)];
    this.#seed();
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  #seed(): void {
    for (const u of this.#seedUsers) this.#putUser(u);
    if (!this.#users.has(this.botUserId)) this.#putUser(DEFAULT_BOT_USER(this.botUserId));
    for (const c of this.#seedChats) this.#putChat(c);
  }

  /** Back to the seeded state: runtime users/chats, messages and threads are dropped. */
  reset(): void {
    this.#users.clear();
    this.#chats.clear();
    this.#messages.clear();
    this.#byChat.clear();
    this.#threads.clear();
    this.#threadByMessage.clear();
    this.#directChats.clear();
    this.#nextMessageId = SANDBOX_DEFAULTS.firstMessageId;
    this.#nextChatId = SANDBOX_DEFAULTS.firstDynamicChatId;
    this.#nextThreadId = SANDBOX_DEFAULTS.firstThreadId;
    this.#nextFileId = 1;
    this.#seed();
    this.events.emit('reset', {});
  }

  // ---- users ----

  #putUser(u: SeedUser): StoredUser {
    const user: StoredUser = {
      id: u.id,
      first_name: u.first_name,
      last_name: u.last_name,
      nickname: u.nickname,
      email: u.email ?? (u.bot ? null : `${u.nickname}@example.com`),
      phone_number: null,
      department: null,
      title: null,
      role: 'user',
      suspended: false,
      invite_status: 'confirmed',
      inviter_id: null,
      list_tags: [],
      custom_properties: [],
      user_status: null,
      bot: u.bot ?? false,
      sso: false,
      created_at: this.#iso(),
      last_activity_at: null,
      time_zone: 'Europe/Moscow',
      image_url: null,
    };
    this.#users.set(user.id, user);
    return user;
  }

  addUser(u: SeedUser): StoredUser {
    if (!Number.isInteger(u.id) || u.id <= 0) throw new Error(`sandbox: user id must be a positive integer, got ${u.id}`);
    const user = this.#putUser(u);
    this.events.emit('user:created', { user });
    return user;
  }

  user(id: number): StoredUser | undefined {
    return this.#users.get(id);
  }

  users(): StoredUser[] {
    return [...this.#users.values()];
  }

  // ---- chats ----

  #putChat(c: SeedChat, extra: Partial<StoredChat> = {}): StoredChat {
    const chat: StoredChat = {
      id: c.id,
      name: c.name,
      created_at: this.#iso(),
      owner_id: this.botUserId,
      member_ids: c.member_ids ? [...c.member_ids] : this.#defaultMembers(),
      group_tag_ids: [],
      channel: c.channel ?? false,
      archived: false,
      personal: false,
      public: c.public ?? false,
      last_message_at: null,
      meet_room_url: `https://meet.example.com/sandbox-${c.id}`,
      kind: 'group',
      thread_id: null,
      ...extra,
    };
    this.#chats.set(chat.id, chat);
    if (chat.id >= this.#nextChatId) this.#nextChatId = chat.id + 1;
    return chat;
  }

  #defaultMembers(): number[] {
    return [...new Set([...this.#seedUsers.map((u) => u.id), this.botUserId, ...this.#extraMemberIds])];
  }

  addChat(c: SeedChat): StoredChat {
    if (!Number.isInteger(c.id) || c.id <= 0) throw new Error(`sandbox: chat id must be a positive integer, got ${c.id}`);
    const chat = this.#putChat(c);
    this.events.emit('chat:created', { chat });
    return chat;
  }

  chat(id: number): StoredChat | undefined {
    return this.#chats.get(id);
  }

  chats(): StoredChat[] {
    return [...this.#chats.values()];
  }

  /**
   * The messageWrite rate-limit scope of a chat: a direct chat is keyed by its two users, so the
   * first DM (which creates the chat, see dmWriteScope) and later posts by chat id share one bucket.
   */
  writeScope(chatId: number): string {
    const c = this.#chats.get(chatId);
    if (c?.kind === 'direct') return dmWriteScope(c.member_ids[0]!, c.member_ids[1] ?? c.member_ids[0]!);
    return `chat:${chatId}`;
  }

  /** The one direct chat between two users, created on first use. */
  directChat(authorId: number, userId: number): StoredChat {
    const key = directKey(authorId, userId);
    let chat = this.#directChats.get(key);
    if (!chat) {
      const u = this.#users.get(userId);
      const name = u ? `${u.first_name} ${u.last_name}`.trim() : `user ${userId}`;
      chat = this.#putChat(
        { id: this.#nextChatId, name, member_ids: authorId === userId ? [userId] : [authorId, userId] },
        { personal: true, kind: 'direct', owner_id: authorId },
      );
      this.#directChats.set(key, chat);
      this.events.emit('chat:created', { chat });
    }
    return chat;
  }

  /** For `autoCreateChats`: a group chat with the requested id. */
  autoChat(id: number): StoredChat {
    return this.addChat({ id, name: `Чат ${id}` });
  }

  // ---- messages ----

  message(id: number): StoredMessage | undefined {
    return this.#messages.get(id);
  }

  /** Every message (deleted ones included) in creation order; of one chat when `chatId` is given. */
  messages(chatId?: number): StoredMessage[] {
    if (chatId === undefined) return [...this.#messages.values()];
    return [...(this.#byChat.get(chatId) ?? [])];
  }

  /** Live (not deleted) messages of a chat, creation order. */
  liveMessages(chatId: number): StoredMessage[] {
    return (this.#byChat.get(chatId) ?? []).filter((m) => m.deleted_at === null);
  }

  messageCount(chatId: number): { total: number; live: number } {
    const list = this.#byChat.get(chatId) ?? [];
    let live = 0;
    for (const m of list) if (m.deleted_at === null) live++;
    return { total: list.length, live };
  }

  #files(files: NewMessage['files']): StoredFile[] {
    return (files ?? []).map((f) => ({
      ...f,
      id: this.#nextFileId++,
      url: `${this.origin}/__sandbox/files/${encodeURIComponent(f.key)}`,
    }));
  }

  createMessage(input: NewMessage): StoredMessage {
    const chat = this.#chats.get(input.chat_id);
    if (!chat) throw new Error(`sandbox: chat ${input.chat_id} does not exist`);
    const thread = chat.thread_id !== null ? this.#threads.get(chat.thread_id) : undefined;
    const now = this.#iso();
    const message: StoredMessage = {
      id: this.#nextMessageId++,
      entity_type: input.entity_type,
      entity_id: input.entity_id,
      chat_id: chat.id,
      root_chat_id: thread ? thread.message_chat_id : chat.id,
      content: input.content,
      user_id: input.user_id,
      created_at: now,
      files: this.#files(input.files),
      buttons: input.buttons && input.buttons.length > 0 ? input.buttons : null,
      thread: null,
      parent_message_id: input.parent_message_id ?? null,
      display_name: input.display_name ?? null,
      display_avatar_url: input.display_avatar_url ?? null,
      changed_at: null,
      deleted_at: null,
      link_preview: input.link_preview ?? null,
      skip_invite_mentions: input.skip_invite_mentions ?? null,
    };
    this.#messages.set(message.id, message);
    let list = this.#byChat.get(chat.id);
    if (!list) this.#byChat.set(chat.id, (list = []));
    list.push(message);
    chat.last_message_at = now;
    if (thread) thread.updated_at = now;
    this.events.emit('message:created', { message });
    return message;
  }

  updateMessage(id: number, patch: MessagePatch): StoredMessage | undefined {
    const m = this.#messages.get(id);
    if (!m || m.deleted_at !== null) return undefined;
    if (patch.content !== undefined) m.content = patch.content;
    if (patch.buttons !== undefined) m.buttons = patch.buttons && patch.buttons.length > 0 ? patch.buttons : null;
    if (patch.files !== undefined) m.files = this.#files(patch.files);
    if (patch.display_name !== undefined) m.display_name = patch.display_name;
    if (patch.display_avatar_url !== undefined) m.display_avatar_url = patch.display_avatar_url;
    m.changed_at = this.#iso();
    this.events.emit('message:updated', { message: m });
    return m;
  }

  deleteMessage(id: number): StoredMessage | undefined {
    const m = this.#messages.get(id);
    if (!m || m.deleted_at !== null) return undefined;
    m.deleted_at = this.#iso();
    this.events.emit('message:deleted', { message: m });
    return m;
  }

  // ---- threads ----

  thread(id: number): StoredThread | undefined {
    return this.#threads.get(id);
  }

  threads(): StoredThread[] {
    return [...this.#threads.values()];
  }

  /** The thread of a live message, created on first call. `created` tells which happened. */
  ensureThread(messageId: number): { thread: StoredThread; created: boolean } | undefined {
    const m = this.#messages.get(messageId);
    if (!m || m.deleted_at !== null) return undefined;
    const existing = this.#threadByMessage.get(messageId);
    if (existing) return { thread: existing, created: false };
    const parent = this.#chats.get(m.chat_id)!;
    const id = this.#nextThreadId++;
    const chat = this.#putChat(
      { id: this.#nextChatId, name: `Тред: ${m.content.slice(0, 40)}`, member_ids: parent.member_ids },
      { kind: 'thread', thread_id: id, channel: false, public: parent.public },
    );
    const thread: StoredThread = {
      id,
      chat_id: chat.id,
      message_id: m.id,
      message_chat_id: m.chat_id,
      updated_at: this.#iso(),
    };
    this.#threads.set(id, thread);
    this.#threadByMessage.set(m.id, thread);
    m.thread = { id, chat_id: chat.id };
    this.events.emit('chat:created', { chat });
    this.events.emit('thread:created', { thread });
    this.events.emit('message:updated', { message: m });
    return { thread, created: true };
  }
}

/** One key per pair of users, whichever of them writes. */
function directKey(a: number, b: number): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** The write scope of the direct chat between two users, whether or not it exists yet. */
export function dmWriteScope(a: number, b: number): string {
  return `dm:${directKey(a, b)}`;
}

/**
 * "Did this message already land?" — the one answer behind both the client's retry of an
 * ambiguous POST and the pipeline's takeover of a run that died between Pachca's commit and the
 * ledger's record. Pachca has no idempotency key, so the answer is read from the target's chat:
 * our bot's message with the same content, to the same entity, created since the attempt began,
 * not already accounted for.
 *
 * The chat of a target: a discussion is its own chat; a thread's chat comes from GET /threads/{id};
 * a direct message's chat is the bot's personal chat with the user (GET /chats?personal=true; the
 * API has no "DM of user X" lookup). Chats learned once are kept for the token.
 */
import { PachcaApiError } from './errors.js';
import type { PageBody } from './paginate.js';
import type { Chat, CreateMessageInput, Message, Thread } from './types.js';

/** What a finder needs from the client: paced, retried reads and the token's memory. */
export interface LandedDeps {
  read<T>(path: string, query: Record<string, string | number | boolean>, signal: AbortSignal | undefined): Promise<T>;
  botUserId(): number | undefined;
  /** Ids this process returned as created: never matched again. */
  claimed: ReadonlySet<number>;
  /** `thread:12` / `user:5` → chat id (shared with the client's pacing). */
  entityChats: Map<string, number>;
  /** Messages per page when reading a chat (1..50). */
  pageSize: number;
  /** A message stamped this long before `since` still counts (our clock and Pachca's differ). */
  clockSkewMs: number;
}

export interface LandedQuery {
  /** When the first attempt that may have posted it began (epoch ms). */
  since: number;
  /** Ids already accounted for (other keys of the run); the found id is added before returning. */
  taken?: Set<number>;
  /** The target's chat when the caller knows it (the ledger does for earlier deliveries). */
  chatId?: number;
  signal?: AbortSignal;
}

/** Pages of a chat read at most when looking back to `since` (50 messages each). */
const MAX_PAGES = 20;

export class LandedFinder {
  /** When the personal chats were last listed in full (their user → chat pairs are in entityChats). */
  #personalListedAt: number | undefined;

  constructor(private readonly deps: LandedDeps) {}

  /** The message an earlier attempt posted for `input`, or null when none landed. */
  async find(input: CreateMessageInput, q: LandedQuery): Promise<Message | null> {
    const chatId = q.chatId ?? (await this.chatOf(input, q.since, q.signal));
    if (chatId === null) return null;
    const cutoff = q.since - this.deps.clockSkewMs;
    const candidates: Message[] = [];
    let pages = 0;
    try {
      for (let cursor: string | undefined; pages < MAX_PAGES; pages++) {
        const query: Record<string, string | number> = { chat_id: chatId, limit: this.deps.pageSize };
        if (cursor !== undefined) query.cursor = cursor;
        const page = await this.deps.read<PageBody<Message>>('/messages', query, q.signal);
        const data = Array.isArray(page?.data) ? page.data : [];
        let older = false;
        for (const m of data) {
          const created = Date.parse(m?.created_at ?? '');
          if (!Number.isNaN(created) && created < cutoff) older = true;
          else candidates.push(m);
        }
        const next = page?.meta?.paginate?.next_page;
        // Newest first: once a page reaches back past the cutoff, nothing older can be ours.
        if (older || !page?.meta?.paginate?.has_next || typeof next !== 'string' || next === '') break;
        cursor = next;
      }
    } catch (e) {
      // A chat that does not exist cannot hold the message (the POST then reports the real problem).
      if (e instanceof PachcaApiError && e.status === 404) return null;
      throw e;
    }
    const found = matchLanded(candidates, input, {
      since: cutoff,
      taken: q.taken,
      claimed: this.deps.claimed,
      botUserId: this.deps.botUserId(),
    });
    if (found) q.taken?.add(found.id);
    return found ?? null;
  }

  /** The chat `input` posts into, null when it does not exist (then nothing can have landed there). */
  async chatOf(input: CreateMessageInput, since: number, signal?: AbortSignal): Promise<number | null> {
    const type = input.entity_type ?? 'discussion';
    if (type === 'discussion') return input.entity_id;
    const key = `${type}:${input.entity_id}`;
    const known = this.deps.entityChats.get(key);
    if (known !== undefined) return known;
    try {
      if (type === 'thread') {
        const t = await this.deps.read<{ data?: Thread }>(`/threads/${input.entity_id}`, {}, signal);
        if (typeof t?.data?.chat_id !== 'number') return null;
        this.deps.entityChats.set(key, t.data.chat_id);
        return t.data.chat_id;
      }
    } catch (e) {
      if (e instanceof PachcaApiError && e.status === 404) return null;
      throw e;
    }
    // A listing made after the attempt began shows every DM that attempt could have created.
    if (this.#personalListedAt !== undefined && this.#personalListedAt >= since) return null;
    const listedAt = Date.now();
    await this.#listPersonalChats(signal);
    this.#personalListedAt = listedAt;
    return this.deps.entityChats.get(key) ?? null;
  }

  async #listPersonalChats(signal: AbortSignal | undefined): Promise<void> {
    const bot = this.deps.botUserId();
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const query: Record<string, string | number | boolean> = { personal: true, limit: 50 };
      if (cursor !== undefined) query.cursor = cursor;
      const body = await this.deps.read<PageBody<Chat>>('/chats', query, signal);
      for (const chat of body?.data ?? []) {
        if (!chat || typeof chat.id !== 'number' || !Array.isArray(chat.member_ids)) continue;
        // Listed chats are the bot's own, so a personal chat is the bot and one user. Before the
        // bot knows its id, both members are mapped (the bot's own entry is never asked for).
        if (chat.member_ids.length > 2) continue;
        for (const id of chat.member_ids) if (id !== bot) this.deps.entityChats.set(`user:${id}`, chat.id);
      }
      const next = body?.meta?.paginate?.next_page;
      if (!body?.meta?.paginate?.has_next || typeof next !== 'string' || next === '' || next === cursor) return;
      cursor = next;
    }
  }
}

/**
 * The oldest of `messages` that an attempt to post `input` created: the bot's, to the same entity,
 * same content (whitespace at the ends aside), created at or after `since`, not taken or claimed.
 */
export function matchLanded(
  messages: readonly Message[],
  input: CreateMessageInput,
  opts: { since: number; taken?: ReadonlySet<number> | undefined; claimed?: ReadonlySet<number>; botUserId?: number | undefined },
): Message | undefined {
  const content = input.content.trim();
  return messages
    .filter((m) => {
      if (!m || typeof m.id !== 'number' || opts.taken?.has(m.id) || opts.claimed?.has(m.id)) return false;
      if (opts.botUserId !== undefined && m.user_id !== opts.botUserId) return false;
      if (!sameEntity(m, input)) return false;
      if (typeof m.content !== 'string' || m.content.trim() !== content) return false;
      const created = Date.parse(m.created_at);
      return Number.isNaN(created) || created >= opts.since;
    })
    // Oldest first: if several attempts got through, the first one is the message.
    .sort((a, b) => a.id - b.id)[0];
}

function sameEntity(m: Message, input: CreateMessageInput): boolean {
  const type = input.entity_type ?? 'discussion';
  if (type === 'discussion') {
    return m.chat_id === input.entity_id && (m.entity_type === undefined || m.entity_type === 'discussion');
  }
  if (type === 'thread') return m.entity_type === 'thread' && m.entity_id === input.entity_id;
  // A direct chat holds only messages to or from that user: the chat id already pins it down.
  return m.entity_type === undefined || m.entity_type === 'user';
}

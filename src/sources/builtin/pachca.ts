import { z } from 'zod';
import { defineSource, lazySchema, type SourceContext } from '../define.js';
import type { Chat, Message, Thread, User } from '../../pachca/index.js';
import type { PachcaClient } from '../../pachca/index.js';

export const PACHCA_SOURCE_DEFAULTS = {
  top: 5,
  /** Threads active in the period whose replies are counted (one listing each). */
  maxThreads: 100,
  /** User names are cached across runs of the process for this long. */
  userCacheMs: 60 * 60 * 1000,
  titleChars: 80,
} as const;

export interface AuthorStat {
  id: number;
  name: string;
  nickname: string;
  messages: number;
}

export interface ThreadStat {
  id: number;
  chat_id: number;
  message_id: number;
  /** Replies in the thread within the period. */
  messages: number;
  /** First line of the thread's root message (plain text as written: the template escapes it). */
  title: string;
  url: string | null;
}

export interface ChatStat {
  id: number;
  name: string;
  /** Messages in the chat itself within the period (thread replies not included). */
  messages: number;
  /** Replies in the chat's threads within the period. */
  thread_messages: number;
  /** Distinct authors of both. */
  authors: number;
  top_authors: AuthorStat[];
  threads: ThreadStat[];
}

const options = lazySchema(() =>
  z
    .object({
      chats: z
        .array(z.number().int().positive())
        .min(1)
        .optional()
        .describe('Chat ids; default: every group chat and channel the bot is a member of'),
      top: z.number().int().positive().max(50).default(PACHCA_SOURCE_DEFAULTS.top).describe('How many top authors and threads to list'),
      include_bots: z.boolean().default(false).describe('Count messages of bots (this digest bot included)'),
      max_threads: z.number().int().positive().default(PACHCA_SOURCE_DEFAULTS.maxThreads).describe('Most active threads whose replies are counted'),
    })
    .strict(),
);

type Options = z.output<ReturnType<typeof options>>;

/**
 * Chat activity over the period, read with the job's own Pachca client (same token and limiter):
 *
 *   { totals: { chats, messages, thread_messages, authors },
 *     top_authors: [{ id, name, nickname, messages }],
 *     busiest_threads: [{ id, chat_id, message_id, messages, title, url }],
 *     chats: [{ id, name, messages, thread_messages, authors, top_authors, threads }] }
 *
 * `chats` is sorted by activity; with the default chat list, chats without activity are left out
 * (listed explicitly, they stay with zeros). Messages are read newest first and the reading stops
 * at the first one older than the period. Thread replies come from GET /threads (threads updated
 * since the period start) and each thread's own chat.
 */
export default defineSource({
  name: 'pachca',
  description: 'Активность чатов Пачки за период: сообщения, авторы, треды.',
  get options() {
    return options();
  },
  async collect(ctx) {
    const client = ctx.pachca();
    const o = ctx.options;
    const start = ctx.period.start.getTime();
    const end = ctx.period.end.getTime();
    const signal = ctx.signal;
    const users = userLookup(client, signal);

    const chats = await selectChats(client, o, signal);
    const chatIds = new Set(chats.map((c) => c.id));

    // Threads first: a chat with no new top-level messages may still have busy threads.
    const threadsByChat = new Map<number, Thread[]>();
    try {
      let n = 0;
      for await (const t of client.paginate<Thread>('/threads', { last_message_at_after: ctx.period.startIso }, { signal })) {
        const parent = t.message_chat_id;
        if (parent === undefined || !chatIds.has(parent)) continue;
        if (n++ >= o.max_threads) {
          ctx.note?.(`only the ${o.max_threads} most recently active threads were counted`);
          break;
        }
        let list = threadsByChat.get(parent);
        if (!list) threadsByChat.set(parent, (list = []));
        list.push(t);
      }
    } catch (err) {
      if (signal.aborted) throw err;
      ctx.note?.(`thread activity is not included: ${(err as Error).message}`);
    }

    const isCounted = async (m: Message) => o.include_bots || !(await users(m.user_id)).bot;
    const overallAuthors = new Map<number, number>();
    const allThreads: ThreadStat[] = [];
    const stats: ChatStat[] = [];

    for (const chat of chats) {
      const authors = new Map<number, number>();
      let messages = 0;
      const lastAt = chat.last_message_at ? Date.parse(chat.last_message_at) : NaN;
      // last_message_at before the period: no top-level messages to read (saves a request per quiet chat).
      if (!(Number.isFinite(lastAt) && lastAt < start)) {
        for await (const m of inPeriod(client.listMessages({ chat_id: chat.id, limit: 50, order: 'desc' }, { signal }), start, end)) {
          if (!(await isCounted(m))) continue;
          messages++;
          authors.set(m.user_id, (authors.get(m.user_id) ?? 0) + 1);
        }
      }
      let threadMessages = 0;
      const threads: Array<Omit<ThreadStat, 'title' | 'url'>> = [];
      for (const t of threadsByChat.get(chat.id) ?? []) {
        let count = 0;
        for await (const m of inPeriod(client.listMessages({ chat_id: t.chat_id, limit: 50, order: 'desc' }, { signal }), start, end)) {
          if (!(await isCounted(m))) continue;
          count++;
          authors.set(m.user_id, (authors.get(m.user_id) ?? 0) + 1);
        }
        if (count > 0) threads.push({ id: t.id, chat_id: chat.id, message_id: t.message_id ?? 0, messages: count });
        threadMessages += count;
      }
      for (const [id, n] of authors) overallAuthors.set(id, (overallAuthors.get(id) ?? 0) + n);
      threads.sort((a, b) => b.messages - a.messages || b.id - a.id);
      const topThreads = await describeThreads(client, threads.slice(0, o.top), signal);
      allThreads.push(...topThreads);
      stats.push({
        id: chat.id,
        name: chat.name,
        messages,
        thread_messages: threadMessages,
        authors: authors.size,
        top_authors: await topAuthors(authors, o.top, users),
        threads: topThreads,
      });
    }

    const active = stats.filter((c) => c.messages + c.thread_messages > 0);
    const listed = o.chats ? stats : active;
    listed.sort((a, b) => b.messages + b.thread_messages - (a.messages + a.thread_messages) || a.id - b.id);
    allThreads.sort((a, b) => b.messages - a.messages || b.id - a.id);
    // A quiet period is not worth a digest (unless the job says on_empty: send).
    if (active.length === 0) ctx.reportEmpty?.('no messages in the period');
    return {
      totals: {
        chats: active.length,
        messages: stats.reduce((s, c) => s + c.messages, 0),
        thread_messages: stats.reduce((s, c) => s + c.thread_messages, 0),
        authors: overallAuthors.size,
      },
      top_authors: await topAuthors(overallAuthors, o.top, users),
      busiest_threads: allThreads.slice(0, o.top),
      chats: listed,
    };
  },
});

async function selectChats(client: PachcaClient, o: Options, signal: AbortSignal): Promise<Chat[]> {
  if (o.chats) {
    // Explicit ids: names come from the member list when we can see it; unknown ids still count.
    const known = new Map<number, Chat>();
    for await (const c of client.listChats({ availability: 'is_member', limit: 50 }, { signal })) known.set(c.id, c);
    return o.chats.map((id) => known.get(id) ?? ({ id, name: `#${id}`, last_message_at: null } as Chat));
  }
  const out: Chat[] = [];
  for await (const c of client.listChats({ availability: 'is_member', limit: 50 }, { signal })) {
    if (!c.personal) out.push(c);
  }
  return out;
}

/** Newest-first messages → those inside [start, end), stopping at the first one before start. */
async function* inPeriod(messages: AsyncIterable<Message>, start: number, end: number): AsyncGenerator<Message> {
  for await (const m of messages) {
    const at = Date.parse(m.created_at);
    if (at >= end) continue;
    if (at < start) return;
    yield m;
  }
}

type UserInfo = { name: string; nickname: string; bot: boolean };
const userCache = new Map<string, { at: number; info: UserInfo }>();

function userLookup(client: PachcaClient, signal: AbortSignal): (id: number) => Promise<UserInfo> {
  const pending = new Map<number, Promise<UserInfo>>();
  return (id) => {
    const key = `${client.baseUrl}#${id}`;
    const hit = userCache.get(key);
    if (hit && Date.now() - hit.at < PACHCA_SOURCE_DEFAULTS.userCacheMs) return Promise.resolve(hit.info);
    let p = pending.get(id);
    if (!p) {
      p = client.getUser(id, { signal }).then(
        (u: User) => {
          const info = { name: `${u.first_name ?? ''} ${u.last_name ?? ''}`.trim() || u.nickname || `#${id}`, nickname: u.nickname ?? '', bot: Boolean(u.bot) };
          userCache.set(key, { at: Date.now(), info });
          return info;
        },
        // A deleted user or a forbidden profile must not fail the digest: show the id.
        () => ({ name: `#${id}`, nickname: '', bot: false }),
      );
      pending.set(id, p);
    }
    return p;
  };
}

async function topAuthors(counts: Map<number, number>, top: number, users: (id: number) => Promise<UserInfo>): Promise<AuthorStat[]> {
  const best = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, top);
  return Promise.all(
    best.map(async ([id, messages]) => {
      const u = await users(id);
      return { id, name: u.name, nickname: u.nickname, messages };
    }),
  );
}

async function describeThreads(
  client: PachcaClient,
  threads: Array<Omit<ThreadStat, 'title' | 'url'>>,
  signal: AbortSignal,
): Promise<ThreadStat[]> {
  return Promise.all(
    threads.map(async (t) => {
      try {
        const root = await client.getMessage(t.message_id, { signal });
        const first = (root.content ?? '').split('\n').find((l) => l.trim() !== '') ?? '';
        const title = first.length > PACHCA_SOURCE_DEFAULTS.titleChars ? `${first.slice(0, PACHCA_SOURCE_DEFAULTS.titleChars - 1)}…` : first;
        return { ...t, title: title.trim(), url: root.url ?? null };
      } catch {
        return { ...t, title: '', url: null };
      }
    }),
  );
}

export type PachcaSourceContext = SourceContext<Options>;

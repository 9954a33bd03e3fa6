import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PachcaClient } from '../../src/pachca/client.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import pachcaSource from '../../src/sources/builtin/pachca.js';
import { run } from './helpers.js';

let sandbox: Sandbox;
let client: PachcaClient;
let clock = 0;
let threadId = 0;
let rootId = 0;

/** Seeds messages at given UTC times. The test period is [2026-11-24T21:00Z, 2026-11-25T21:00Z). */
function post(chatId: number, userId: number, at: string, content = 'сообщение'): number {
  clock = Date.parse(at);
  return sandbox.store.createMessage({ entity_type: 'discussion', entity_id: chatId, chat_id: chatId, content, user_id: userId }).id;
}

beforeAll(async () => {
  sandbox = await startSandbox({ tokens: ['test-token'], now: () => clock, rateLimits: false });
  client = new PachcaClient({
    token: 'test-token',
    baseUrl: sandbox.baseUrl,
    rateLimits: { messageRead: { perSecond: 1000, burst: 1000 }, other: { perSecond: 1000, burst: 1000 } },
  });
  const s = sandbox.store;
  // #101 «Общий»: one message before, four in the period (+1 from the bot), one after.
  post(101, 1, '2026-11-24T20:00:00Z');
  post(101, 1, '2026-11-24T21:00:00Z');
  post(101, 2, '2026-11-25T08:00:00Z');
  post(101, 1, '2026-11-25T09:00:00Z');
  post(101, 1000, '2026-11-25T09:30:00Z', 'Дайджест за вчера');
  post(101, 1, '2026-11-25T20:59:59Z');
  post(101, 3, '2026-11-25T22:00:00Z');
  // #102 «Разработка»: a thread rooted before the period, busy inside it.
  rootId = post(102, 3, '2026-11-24T10:00:00Z', 'Релиз 2.0\nподробности в треде');
  const thread = s.ensureThread(rootId)!.thread;
  threadId = thread.id;
  const reply = (userId: number, at: string) => {
    clock = Date.parse(at);
    s.createMessage({ entity_type: 'thread', entity_id: thread.id, chat_id: thread.chat_id, content: 'ответ', user_id: userId });
  };
  reply(4, '2026-11-24T11:00:00Z');
  post(102, 2, '2026-11-25T10:00:00Z');
  reply(1, '2026-11-25T10:05:00Z');
  reply(4, '2026-11-25T10:06:00Z');
  post(102, 2, '2026-11-25T11:00:00Z');
  reply(1, '2026-11-25T12:00:00Z');
  // #103 «Продажи»: quiet in the period.
  post(103, 2, '2026-11-20T12:00:00Z');
});

afterAll(async () => {
  await client.close();
  await sandbox.close();
});

describe('pachca source (against the sandbox)', () => {
  it('summarises the period: totals, top authors, busiest threads, active chats by activity', async () => {
    const out = await run(pachcaSource, {}, { pachca: () => client });
    expect(out.totals).toEqual({ chats: 2, messages: 6, thread_messages: 3, authors: 3 });
    expect(out.top_authors).toEqual([
      { id: 1, name: 'Иван Петров', nickname: 'ivan.petrov', messages: 5 },
      { id: 2, name: 'Мария Смирнова', nickname: 'maria.smirnova', messages: 3 },
      { id: 4, name: 'Ольга Соколова', nickname: 'olga.sokolova', messages: 1 },
    ]);
    expect(out.busiest_threads).toEqual([
      { id: threadId, chat_id: 102, message_id: rootId, messages: 3, title: 'Релиз 2.0', url: expect.stringContaining(String(rootId)) },
    ]);
    expect(out.chats.map((c: any) => [c.id, c.name, c.messages, c.thread_messages, c.authors])).toEqual([
      [102, 'Разработка', 2, 3, 3],
      [101, 'Общий', 4, 0, 2],
    ]);
    expect(out.chats[1].top_authors.map((a: any) => [a.name, a.messages])).toEqual([
      ['Иван Петров', 3],
      ['Мария Смирнова', 1],
    ]);
  });

  it('keeps explicitly listed chats even when quiet, and can count bots', async () => {
    const out = await run(pachcaSource, { chats: [103, 101], include_bots: true, top: 1 }, { pachca: () => client });
    expect(out.chats.map((c: any) => [c.id, c.messages, c.top_authors.length])).toEqual([
      [101, 5, 1],
      [103, 0, 0],
    ]);
    expect(out.totals).toMatchObject({ chats: 1, messages: 5, thread_messages: 0 });
    expect(out.top_authors).toEqual([{ id: 1, name: 'Иван Петров', nickname: 'ivan.petrov', messages: 3 }]);
  });

  it('stops reading a chat at the first message older than the period', async () => {
    // 60 old messages then one in the period: reading everything would take two pages of 50.
    for (let i = 0; i < 60; i++) post(103, 2, new Date(Date.parse('2026-11-21T00:00:00Z') + i * 60_000).toISOString());
    post(103, 4, '2026-11-25T15:00:00Z');
    const before = sandbox.requests().length;
    const out = await run(pachcaSource, { chats: [103] }, { pachca: () => client });
    expect(out.totals.messages).toBe(1);
    const reads = sandbox.requests().slice(before).filter((r) => r.path.startsWith('/api/shared/v1/messages?') && r.path.includes('chat_id=103'));
    expect(reads).toHaveLength(1);
  });
});

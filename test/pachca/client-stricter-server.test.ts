/**
 * The client with its default pacing against sandboxes whose limits are stricter than, and
 * different from, what the client assumes (a lower token ceiling, smaller bursts, slower chats):
 * Pachca calls its limits "approximate"; a run must cost a handful of 429s, not hundreds, and
 * deliver everything exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PachcaClient } from '../../src/pachca/index.js';
import { startSandbox, type Sandbox, type SandboxRateLimitsOption } from '../../src/sandbox/index.js';
import { freshToken } from './helpers.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(rateLimits: SandboxRateLimitsOption, chats = 1): Promise<{ sb: Sandbox; c: PachcaClient; chatIds: number[] }> {
  const chatIds = Array.from({ length: chats }, (_, i) => 3001 + i);
  const sb = await startSandbox({ web: false, rateLimits, chats: chatIds.map((id) => ({ id, name: `Канал ${id}` })) });
  open.push(sb);
  // Client defaults on purpose: the server's limits are what the client does not know.
  const token = freshToken();
  sb.acceptToken(token);
  const c = new PachcaClient({ token, baseUrl: sb.baseUrl });
  open.push(c);
  return { sb, c, chatIds };
}

/** Each expected content exactly once in its chat. */
function exactlyOnce(sb: Sandbox, expected: Map<number, string[]>): { lost: number; duplicates: number } {
  let lost = 0;
  let duplicates = 0;
  for (const [chatId, contents] of expected) {
    const seen = new Map<string, number>();
    for (const m of sb.store.messages(chatId)) seen.set(m.content, (seen.get(m.content) ?? 0) + 1);
    for (const content of contents) {
      const n = seen.get(content) ?? 0;
      if (n === 0) lost++;
      else duplicates += n - 1;
    }
  }
  return { lost, duplicates };
}

describe('default client, stricter server', () => {
  it('fan-out to 30 chats under a 30 req/s token ceiling, burst 15, per-chat burst 2: a handful of 429s, all delivered once', async () => {
    const { sb, c, chatIds } = await setup({ token: { perSecond: 30, burst: 15 }, messageWrite: { perSecond: 3, burst: 2 } }, 30);
    const expected = new Map(chatIds.map((id) => [id, Array.from({ length: 6 }, (_, i) => `сводка ${id}/${i}`)]));
    await Promise.all([...expected].flatMap(([chatId, contents]) => contents.map((content) => c.createMessage({ entity_id: chatId, content }))));
    expect(exactlyOnce(sb, expected)).toEqual({ lost: 0, duplicates: 0 });
    const stats = sb.stats();
    // The first wave leaves before any answer is back: the client's token burst (25) minus the
    // server's (15) is what it can cost. After that the lowered ceiling holds; the chats are
    // interleaved, so the per-chat burst of 2 (the client assumes 10) is never the one answering.
    expect(stats.rateLimited).toBeLessThanOrEqual(14);
    expect(stats.rateLimitedBy.messageWrite ?? 0).toBeLessThanOrEqual(2);
    expect(stats.byEndpoint['POST /messages']!['201']).toBe(180);
  });

  it('edits of one chat under a slower per-chat limit with a burst of 2: a handful of 429s, every edit applied', async () => {
    const { sb, c, chatIds } = await setup({ messageWrite: { perSecond: 2, burst: 2 } });
    const chat = chatIds[0]!;
    const ids = Array.from({ length: 16 }, (_, i) => sb.store.createMessage({ chat_id: chat, entity_type: 'discussion', entity_id: chat, content: `v1 ${i}`, user_id: 1000 }).id);
    await Promise.all(ids.map((id, i) => c.updateMessage(id, { content: `v2 ${i}` }, { chatId: chat })));
    expect(sb.store.liveMessages(chat).map((m) => m.content)).toEqual(ids.map((_, i) => `v2 ${i}`));
    // The first wave costs the client's chat burst (10) minus the server's (2); after it the
    // lowered rate holds: 16 edits, not 16 × retries.
    expect(sb.stats().rateLimited).toBeLessThanOrEqual(11);
  });

  it('reads under a lower read limit and token ceiling: a handful of 429s, every read answered', async () => {
    const { sb, c, chatIds } = await setup({ messageRead: { perSecond: 5, burst: 2 }, token: { perSecond: 20, burst: 4 } });
    const chat = chatIds[0]!;
    const ids = Array.from({ length: 20 }, (_, i) => sb.store.createMessage({ chat_id: chat, entity_type: 'discussion', entity_id: chat, content: `m ${i}`, user_id: 1000 }).id);
    const got = await Promise.all(ids.map((id) => c.getMessage(id)));
    expect(got.map((m) => m.id)).toEqual(ids);
    // First wave: the client's read burst (10) minus the server's (2); then the lowered rate holds.
    expect(sb.stats().rateLimited).toBeLessThanOrEqual(11);
  });
});

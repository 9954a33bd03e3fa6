import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { Emitter, type DigestEvents } from '../../src/events.js';
import { PachcaClient } from '../../src/pachca/index.js';
import { runJob } from '../../src/pipeline/run.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStateStore, type StateStore } from '../../src/state/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { checkWebhook, drainHistory, webhookHandler, type IncomingEvent } from '../../src/interactions/index.js';
import { createRouter } from '../../src/cli/commands/events.js';
import { project } from '../config/helpers.js';

const YAML = `version: 1
events: { mode: poll }
jobs:
  - name: sales
    schedule: "0 9 * * *"
    timezone: UTC
    source: { type: file, path: data.json }
    template: t.hbs
    target:
      chat_id: 101
      buttons:
        - - { text: "Обновить", action: refresh }
          - { text: "Принято", action: acknowledge }
          - { text: "Подробнее", action: details, template: d.hbs }
          - { text: "Отписаться", action: unsubscribe }
`;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A whole MessageWebhookPayload (the spec's shape): an event type the router does not handle. */
const messageNew = (id: number) => ({
  type: 'message',
  event: 'new',
  id,
  entity_type: 'discussion',
  entity_id: 101,
  content: 'Привет',
  user_id: 2,
  created_at: new Date().toISOString(),
  url: `https://app.pachca.com/chats/101?message=${id}`,
  chat_id: 101,
  parent_message_id: null,
  thread: null,
});

async function setup(storeUrl = 'sqlite::memory:') {
  const sandbox: Sandbox = await startSandbox({ tokens: ['bot-token'], web: false, bot: { deliveryRetryMs: 50 } });
  cleanup.push(() => sandbox.close());
  const dir = project(YAML, { 'templates/t.hbs': 'Продажи: {{metrics.total}}\n', 'templates/d.hbs': 'Подробно: {{metrics.total}} за {{metrics.days}} дн.\n', 'data.json': '{"total": 10, "days": 7}' });
  const config = await loadConfig({ cwd: dir, env: {} });
  const store: StateStore = await openStateStore(storeUrl, { baseDir: dir });
  cleanup.push(() => store.close());
  const events = new Emitter<DigestEvents>();
  const client = new PachcaClient({ token: 'bot-token', baseUrl: sandbox.baseUrl, events });
  cleanup.push(() => client.close());
  const deps = { config: () => config, client: () => client, store, events, logger: silentLogger, owner: 'test' };
  const router = createRouter(deps);
  return { sandbox, config, store, client, router, dir, deps };
}

async function post(s: Awaited<ReturnType<typeof setup>>, slot = new Date('2026-12-01T09:00:00Z')) {
  const out = await runJob({ config: s.config, events: s.deps.events, logger: silentLogger, store: s.store, client: () => s.client, owner: 'test' }, { job: s.config.jobs[0]!, slot });
  expect(out.status).toBe('succeeded');
  return s.sandbox.store.message(out.delivered[0]!.messageId)!;
}

describe('button actions end to end (poll mode)', () => {
  it('refresh: re-collects and edits in place; the event is deleted from the history', async () => {
    const s = await setup();
    const m = await post(s);
    expect(m.content).toContain('Продажи: 10');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${s.dir}/data.json`, '{"total": 42, "days": 7}');
    s.sandbox.bot.click({ messageId: m.id, userId: 1, text: 'Обновить' });
    const r = await drainHistory(s.client, s.router);
    expect(r).toMatchObject({ handled: 1, deleted: 1, failed: 0 });
    expect(s.sandbox.store.message(m.id)!.content).toContain('Продажи: 42');
    expect(s.sandbox.bot.events()).toHaveLength(0);
  });

  it('acknowledge: «Принято: @user, HH:MM», the button removed; three deliveries of one click → one effect', async () => {
    const s = await setup();
    const m = await post(s);
    const e = s.sandbox.bot.click({ messageId: m.id, userId: 2, text: 'Принято' });
    // Pachca delivers at least once: the same event twice more.
    s.sandbox.bot.emit(e.event_type, e.payload);
    s.sandbox.bot.emit(e.event_type, e.payload);
    const r = await drainHistory(s.client, s.router);
    expect(r).toMatchObject({ handled: 1, duplicates: 2, deleted: 3 });
    const after = s.sandbox.store.message(m.id)!;
    expect(after.content).toMatch(/Принято: .*maria.*smirnova, \d\d:\d\d/);
    expect(after.content.match(/Принято:/g)).toHaveLength(1);
    expect(after.buttons!.flat().map((b) => b.text)).toEqual(['Обновить', 'Подробнее', 'Отписаться']);
    // The mention is inert: no raw @nick that would notify.
    expect(after.content).not.toMatch(/Принято: @maria\.smirnova/);
  });

  it('details DMs the clicking user; unsubscribe is kept in the ledger', async () => {
    const s = await setup();
    const m = await post(s);
    s.sandbox.bot.click({ messageId: m.id, userId: 3, text: 'Подробнее' });
    s.sandbox.bot.click({ messageId: m.id, userId: 3, text: 'Отписаться' });
    await drainHistory(s.client, s.router);
    const dms = s.sandbox.store.messages().filter((x) => x.entity_type === 'user' && x.entity_id === 3);
    expect(dms.map((x) => x.content)).toEqual([expect.stringContaining('Подробно: 10 за 7 дн.'), expect.stringContaining('Вы отписались')]);
    expect(await s.store.interactions.listUnsubscribed('sales')).toEqual([3]);
  });

  it('a tampered or foreign payload and unhandled event types are acknowledged, ignored, deleted', async () => {
    const s = await setup();
    const m = await post(s);
    s.sandbox.bot.emit('button_click', { type: 'button', event: 'click', message_id: m.id, trigger_id: 't-x', data: 'pd1|r|sales|x|0|chat:101|deadbeef', user_id: 1, chat_id: 101 });
    s.sandbox.bot.emit('message_new', messageNew(5));
    const before = s.sandbox.store.message(m.id)!.content;
    const r = await drainHistory(s.client, s.router);
    expect(r).toMatchObject({ handled: 1, ignored: 1, deleted: 2 });
    expect(s.sandbox.store.message(m.id)!.content).toBe(before);
  });

  it('a backlog of 500 events drains within the history limit with at most one 429', async () => {
    const s = await setup();
    for (let i = 1; i <= 500; i++) s.sandbox.bot.emit('message_new', messageNew(i));
    const r = await drainHistory(s.client, s.router);
    expect(r.deleted).toBe(500);
    expect(s.sandbox.bot.events()).toHaveLength(0);
    const get = s.sandbox.stats().byEndpoint['GET /webhooks/events'] ?? {};
    expect(get['429'] ?? 0).toBeLessThanOrEqual(1);
    expect(s.sandbox.stats().rateLimited).toBeLessThanOrEqual(1);
  }, 60_000);

  it('two routers on one ledger (replicas) handle a click once', async () => {
    const s = await setup();
    const m = await post(s);
    const second = createRouter({ ...s.deps, owner: 'replica-2' });
    s.sandbox.bot.click({ messageId: m.id, userId: 4, text: 'Подробнее' });
    const [a, b] = await Promise.all([drainHistory(s.client, s.router), drainHistory(s.client, second)]);
    expect(a.handled + b.handled).toBe(1);
    expect(s.sandbox.store.messages().filter((x) => x.entity_type === 'user' && x.entity_id === 4)).toHaveLength(1);
  });
});

describe('signed webhooks', () => {
  const secret = 'sandbox-signing-secret';
  const sign = (body: string) => createHmac('sha256', secret).update(body).digest('hex');
  const now = Date.parse('2026-12-01T10:00:00Z');

  it('accepts a good signature; refuses a bad one, an old timestamp, a body changed after signing', () => {
    const body = JSON.stringify({ type: 'button', event: 'click', trigger_id: 'a', data: 'x', webhook_timestamp: now / 1000 - 5 });
    expect(checkWebhook(Buffer.from(body), sign(body), { secret, maxAgeMs: 60_000, now })).toMatchObject({ ok: true, event: { type: 'button_click' } });
    expect(checkWebhook(Buffer.from(body), sign(body).replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), { secret, maxAgeMs: 60_000, now }).ok).toBe(false);
    expect(checkWebhook(Buffer.from(body), undefined, { secret, maxAgeMs: 60_000, now }).ok).toBe(false);
    const old = JSON.stringify({ type: 'button', event: 'click', webhook_timestamp: now / 1000 - 61 });
    expect(checkWebhook(Buffer.from(old), sign(old), { secret, maxAgeMs: 60_000, now })).toMatchObject({ ok: false, reason: expect.stringMatching(/old/) });
    expect(checkWebhook(Buffer.from(body.replace('"x"', '"y"')), sign(body), { secret, maxAgeMs: 60_000, now }).ok).toBe(false);
  });

  it('end to end: the sandbox POSTs a signed click, the receiver answers 200 and acts once; bad requests are 401 with no effect', async () => {
    const s = await setup();
    const m = await post(s);
    const handled: IncomingEvent[] = [];
    const handler = webhookHandler({
      secret,
      maxAgeMs: 60_000,
      logger: silentLogger,
      onEvent: (e) => {
        handled.push(e);
        void s.router.dispatch(e);
      },
    });
    let fail = 1;
    const server: Server = createServer((req, res) => {
      // The first delivery fails (503): Pachca (the sandbox) retries.
      if (fail-- > 0) return void res.writeHead(503).end();
      void handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pachca/webhook`;
    await s.client.request('PUT', '/bot/webhook', { body: { webhook: { outgoing_url: url } } });
    s.sandbox.bot.click({ messageId: m.id, userId: 2, text: 'Принято' });
    await s.sandbox.bot.settled();
    expect(s.sandbox.bot.deliveries.map((d) => d.status)).toEqual([503, 200]);
    await expect.poll(() => s.sandbox.store.message(m.id)!.content, { timeout: 10_000 }).toMatch(/Принято:/);

    const bad = await fetch(url, { method: 'POST', body: '{"type":"button","event":"click","webhook_timestamp":1}', headers: { 'pachca-signature': '0'.repeat(64) } });
    expect(bad.status).toBe(401);
    const body = JSON.stringify({ type: 'button', event: 'click', message_id: m.id, trigger_id: 'zzz', data: 'x', user_id: 1, chat_id: 101, webhook_timestamp: Math.floor(Date.now() / 1000) - 120 });
    const stale = await fetch(url, { method: 'POST', body, headers: { 'pachca-signature': sign(body) } });
    expect(stale.status).toBe(401);
    expect(handled).toHaveLength(1);
  });
});

/**
 * `bot webhook` and `bot status` through the built CLI against the sandbox playing Pachca: the bot
 * token sets its own webhook, a user token with --bot-id sets URL and events, a missing scope is a
 * clear error naming the scope and the kind of token, and status shows the history's backlog.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { makeProject, runCli, type Project } from '../helpers/project.js';

const BOT = 'bot-token-0123456789abcdef';
const WEAK_BOT = 'weak-bot-token-0123456789';
const ADMIN = 'admin-user-token-0123456789';
const STACK = /\n\s+at .+:\d+:\d+\)?/;

describe('pachca-digest bot', () => {
  let sb: Sandbox;
  let p: Project;
  const cli = (args: string[], token: string) => runCli(args, { cwd: p.dir, env: { PACHCA_TOKEN: token, PACHCA_API_URL: sb.baseUrl }, timeoutMs: 60_000 });

  beforeAll(async () => {
    sb = await startSandbox({
      tokens: { [BOT]: 1000, [WEAK_BOT]: 1000, [ADMIN]: 1 },
      bot: { tokenScopes: { [WEAK_BOT]: ['messages:create', 'webhooks:events:read'], [ADMIN]: ['bots:read', 'bots:write'] } },
    });
    p = makeProject({
      'jobs.config.yaml': 'version: 1\nevents: { mode: poll }\njobs:\n  - name: a\n    schedule: "0 9 * * *"\n    source: { type: static, data: {} }\n    template: a.hbs\n    target: { chat_id: 101 }\n',
      'templates/a.hbs': 'hi\n',
    });
  });
  afterAll(async () => {
    await sb.close();
    p.cleanup();
  });
  beforeEach(() => sb.reset());

  it("webhook: the bot token sets its own outgoing URL; \"\" turns it off", async () => {
    const r = await cli(['bot', 'webhook', '--url', 'https://digest.example.ru/pachca/webhook'], BOT);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("The bot's outgoing webhook is https://digest.example.ru/pachca/webhook");
    expect(sb.bot.webhook.outgoing_url).toBe('https://digest.example.ru/pachca/webhook');
    const off = await cli(['bot', 'webhook', '--url', ''], BOT);
    expect(off.code, off.stderr).toBe(0);
    expect(sb.bot.webhook.outgoing_url).toBe('');
  });

  it('webhook --bot-id with a user token sets the URL and the events the service handles', async () => {
    const r = await cli(['bot', 'webhook', '--bot-id', '1000', '--url', 'https://digest.example.ru/hook'], ADMIN);
    expect(r.code, r.stderr).toBe(0);
    expect(sb.bot.webhook).toEqual({ outgoing_url: 'https://digest.example.ru/hook', events: ['button_click', 'message_link_shared'] });
    const status = await cli(['bot', 'status', '--bot-id', '1000'], ADMIN);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('a user token of user 1');
    expect(status.stdout).toMatch(/webhook URL: https:\/\/digest\.example\.ru\/hook; events: button_click, message_link_shared/);
  });

  it('a token without the scope: a clear error naming the scope and the token to use, exit 1, no stack', async () => {
    const r = await cli(['bot', 'webhook', '--url', 'https://digest.example.ru/hook'], WEAK_BOT);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lacks the scope bot_self:webhook:write/);
    expect(r.stderr).toMatch(/the bot's own token/);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).not.toContain(WEAK_BOT);
    expect(sb.bot.webhook.outgoing_url).toBe('');
  });

  it('usage errors exit 2: --events without --bot-id, a URL that is not http(s)', async () => {
    const a = await cli(['bot', 'webhook', '--url', 'https://x.example/h', '--events', 'button_click'], BOT);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--events needs --bot-id/);
    const b = await cli(['bot', 'webhook', '--url', 'ftp://x.example/h'], BOT);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/must be an http\(s\) URL/);
  });

  it("status: the token's kind, missing scopes per feature, the history's backlog", async () => {
    const m = sb.store.createMessage({ entity_type: 'discussion', entity_id: 101, chat_id: 101, content: 'x', user_id: 1000, buttons: [[{ text: 'Ок', data: 'd' }]] });
    for (let i = 0; i < 3; i++) sb.bot.click({ messageId: m.id, userId: 1, data: 'd' });
    const full = await cli(['bot', 'status'], BOT);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toContain('Token: a bot token of user 1000');
    expect(full.stdout).toContain('scopes: everything pachca-digest uses');
    expect(full.stdout).toContain('Events: events.mode poll');
    expect(full.stdout).toMatch(/event history: 3 waiting, the oldest from \d{4}-/);
    const weak = await cli(['bot', 'status'], WEAK_BOT);
    expect(weak.code, weak.stderr).toBe(0);
    expect(weak.stdout).toMatch(/missing for delivery: update and button actions: messages:update/);
    expect(weak.stdout).toMatch(/missing for event history \(events.mode: poll\): webhooks:events:delete/);
    expect(weak.stdout).not.toContain(WEAK_BOT);
  });
});

/**
 * `bot webhook` / `bot status`: set the bot's outgoing webhook and see how events reach it, from
 * the CLI. A bot token changes its own webhook (`PUT /bot/webhook`, scope bot_self:webhook:write);
 * with `--bot-id` a user token with bots:write sets the URL and the events (`PUT /bots/{id}`).
 */
import { DigestError, EXIT } from '../../errors.js';
import { PachcaApiError, type PachcaClient } from '../../pachca/index.js';
import { loadConfigFor, newEmitter, resolveDelivery, type GlobalOptions, type Io } from '../context.js';

/** The events the service handles (what `--events` defaults to with `--bot-id`). */
const HANDLED_EVENTS = ['button_click', 'message_link_shared'];
/** Scopes each feature needs; `bot status` names the missing ones. */
const FEATURE_SCOPES: Array<{ feature: string; scopes: string[] }> = [
  { feature: 'posting digests', scopes: ['messages:create'] },
  { feature: 'delivery: update and button actions', scopes: ['messages:update'] },
  { feature: 'checking an unanswered post before re-sending', scopes: ['messages:read'] },
  { feature: 'attachments', scopes: ['uploads:write'] },
  { feature: 'event history (events.mode: poll)', scopes: ['webhooks:events:read', 'webhooks:events:delete'] },
  { feature: 'link previews (unfurl:)', scopes: ['link_previews:write'] },
  { feature: '`bot webhook` with the bot token', scopes: ['bot_self:webhook:write'] },
];

interface TokenInfo {
  user_id: number;
  name: string | null;
  scopes: string[];
}

interface BotFlags {
  botId?: string;
  sandbox?: boolean;
}

async function withClient(flags: BotFlags, g: GlobalOptions, io: Io, fn: (client: PachcaClient, where: string) => Promise<number>): Promise<number> {
  const config = await loadConfigFor(g, io);
  const delivery = await resolveDelivery(config, newEmitter(), { sandbox: flags.sandbox ?? false });
  try {
    return await fn(delivery.client(), delivery.description);
  } catch (err) {
    throw explainScope(err, flags.botId !== undefined);
  } finally {
    await delivery.close();
  }
}

function botIdOf(flags: BotFlags): number | undefined {
  if (flags.botId === undefined) return undefined;
  const id = Number(flags.botId);
  if (!Number.isSafeInteger(id) || id <= 0) throw new DigestError('E_USAGE', `--bot-id must be a positive integer, not "${flags.botId}"`, { hint: "the bot's id is its user id: the «API» tab of the bot's settings shows it" });
  return id;
}

export async function botWebhookCommand(flags: BotFlags & { url: string; events?: string }, g: GlobalOptions, io: Io): Promise<number> {
  const url = flags.url.trim();
  if (url !== '' && !/^https?:\/\/[^\s]+$/.test(url)) {
    throw new DigestError('E_USAGE', `--url must be an http(s) URL (or "" to turn the webhook off), not "${flags.url}"`, { hint: 'for example --url https://digest.example.ru/pachca/webhook (the daemon serves events.path on --http-port)' });
  }
  const botId = botIdOf(flags);
  const events = flags.events?.split(',').map((e) => e.trim()).filter(Boolean);
  if (events && botId === undefined) {
    throw new DigestError('E_USAGE', '--events needs --bot-id: a bot token can change only its own webhook URL (PUT /bot/webhook)', { hint: 'pass --bot-id <the bot id> with a user token that has the bots:write scope, or drop --events' });
  }
  return withClient(flags, g, io, async (client, where) => {
    if (botId === undefined) {
      await client.request('PUT', '/bot/webhook', { body: { webhook: { outgoing_url: url } } });
    } else {
      await client.request('PUT', `/bots/${botId}`, { body: { webhook: { outgoing_url: url, events: events ?? HANDLED_EVENTS } } });
    }
    io.out(url === '' ? `The bot's outgoing webhook is off (${where}).` : `The bot's outgoing webhook is ${url} (${where}).`);
    if (url !== '') io.out('  Pachca signs each POST with the bot\'s signing secret: set events.mode: webhook and PACHCA_WEBHOOK_SECRET for the daemon.');
    return EXIT.OK;
  });
}

export async function botStatusCommand(flags: BotFlags, g: GlobalOptions, io: Io): Promise<number> {
  const botId = botIdOf(flags);
  const config = await loadConfigFor(g, io);
  return withClient(flags, g, io, async (client, where) => {
    const info = (await client.request<{ data: TokenInfo }>('GET', '/oauth/token/info')).data;
    const kind = info.name === null ? 'a bot token' : 'a user token';
    io.out(`Token: ${kind} of user ${info.user_id} (${where})`);
    const missing = FEATURE_SCOPES.filter((f) => f.scopes.some((s) => !info.scopes.includes(s)));
    if (missing.length === 0) io.out('  scopes: everything pachca-digest uses');
    for (const f of missing) io.out(`  missing for ${f.feature}: ${f.scopes.filter((s) => !info.scopes.includes(s)).join(', ')}`);

    const mode = config.events?.mode;
    io.out(`Events: ${mode ? `events.mode ${mode}${mode === 'webhook' ? ` at ${config.events!.path}` : ''}` : 'no events: section (button clicks and shared links are not received)'}`);
    if (botId !== undefined) {
      const bot = (await client.request<{ data: { webhook?: { outgoing_url?: string | null; events?: string[]; events_history_enabled?: boolean } } }>('GET', `/bots/${botId}`)).data;
      const w = bot.webhook ?? {};
      io.out(`  webhook URL: ${w.outgoing_url ? w.outgoing_url : '(none)'}; events: ${(w.events ?? []).join(', ') || '(none)'}; event history: ${w.events_history_enabled ? 'on' : 'off'}`);
      const unhandled = HANDLED_EVENTS.filter((e) => !(w.events ?? []).includes(e));
      if (w.outgoing_url && unhandled.length > 0) io.out(`  not subscribed: ${unhandled.join(', ')} (pachca-digest bot webhook --bot-id ${botId} --url … adds them)`);
    } else {
      io.out('  the webhook URL is not readable with a bot token; pass --bot-id with a user token (bots:read) to see it');
    }
    if (info.scopes.includes('webhooks:events:read')) {
      const page = await client.request<{ data: Array<{ created_at: string }>; meta?: { paginate?: { has_next?: boolean } } }>('GET', '/webhooks/events', { query: { limit: 50 } });
      const n = page.data.length;
      const more = page.meta?.paginate?.has_next ? '+' : '';
      const oldest = page.data.map((e) => Date.parse(e.created_at)).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b)[0];
      io.out(n === 0 ? '  event history: empty (nothing waiting)' : `  event history: ${n}${more} waiting, the oldest from ${new Date(oldest!).toISOString()}${mode === 'poll' ? '' : ' — nothing drains it: run `pachca-digest events` or set events.mode: poll'}`);
    }
    return EXIT.OK;
  });
}

/** A refused scope names what is missing and which kind of token has it. */
function explainScope(err: unknown, userToken: boolean): unknown {
  if (!(err instanceof PachcaApiError) || (err.status !== 403 && err.status !== 401)) return err;
  const needed = /\/bots\//.test(err.path) ? (err.method === 'GET' ? 'bots:read' : 'bots:write') : err.path === '/bot/webhook' ? 'bot_self:webhook:write' : err.path.startsWith('/webhooks/events') ? 'webhooks:events:read' : null;
  if (err.status === 401) {
    return new DigestError('E_DELIVERY', `Pachca refused the token (401 ${err.oauthError ?? 'unauthorized'}) for ${err.method} ${err.path}`, { hint: 'check PACHCA_TOKEN: the bot token is on the «API» tab of the bot settings', cause: err });
  }
  const kind = needed === 'bot_self:webhook:write' ? "the bot's own token" : needed?.startsWith('bots:') ? 'a user token (an administrator\'s, with --bot-id)' : 'the bot token';
  return new DigestError('E_DELIVERY', `Pachca refused ${err.method} ${err.path}: the token lacks the scope ${needed ?? '(named in the answer)'}${err.oauthDescription ? ` (${err.oauthDescription})` : ''}`, {
    hint: `use ${kind} with the ${needed ?? 'required'} scope${userToken ? '' : "; or pass --bot-id with a user token that has bots:write"}`,
    cause: err,
  });
}

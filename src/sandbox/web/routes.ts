/**
 * The sandbox's web view: a page at `/` showing chats the way Pachca renders them, live, with
 * what the client did and (optionally) the configured jobs. Everything the page needs is served
 * here (HTML and CSS are strings in this package, the script is bundled from client/ — see
 * client-bundle.ts), so nothing is fetched from outside and the page works from src/ and dist/ alike.
 *
 * The page reads through a small JSON API of its own (`/__web/api/*`) that returns chats already
 * grouped the way they are shown (replies and thread messages under their parent), so the browser
 * code stays a renderer.
 */
import { apiError } from '../errors.js';
import { SANDBOX_DEFAULTS } from '../defaults.js';
import { FILES_BASE_PATH } from '../uploads.js';
import type { Reply, RequestContext, Route } from '../router.js';
import type { RouteMount, Sandbox } from '../server.js';
import type { StoredMessage } from '../records.js';
import { clientJs } from './client-bundle.js';
import { FAVICON_SVG, PAGE_CSS, pageHtml } from './page.js';
import type { WebJobInfo, WebJobRunResponse, WebJobRunResult, WebMessage, WebState, WebStatsResponse } from './types.js';

export type { WebJobInfo, WebJobRunResult, WebMessage } from './types.js';

export interface WebJobsProvider {
  list(): Promise<WebJobInfo[]>;
  runNow(name: string): Promise<WebJobRunResult>;
}

export interface WebOptions {
  /** Enables the Jobs view and its "Run now" button. */
  jobs?: WebJobsProvider;
  /** Page title (default "Pachca sandbox"). */
  title?: string;
  /** The sandbox's content limit, for the size warning (startSandbox passes its own). */
  maxContentBytes?: number;
}

export const WEB_BASE_PATH = '/__web';

export const WEB_DEFAULTS = {
  title: 'Pachca sandbox',
  /** Request log entries the stats panel shows (newest first). */
  recentRequests: 60,
  /** Messages of one chat sent to the page (the newest ones; a benchmark chat can hold thousands). */
  maxMessagesPerChat: 500,
} as const;

const SECURITY_HEADERS: Record<string, string> = {
  // Defence in depth: even if a renderer bug let markup through, no inline script or handler runs.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Route tables of the web view; pass them to `startSandbox({ extraRoutes })` or use `web` there. */
export function createWebRoutes(sandbox: Sandbox, options: WebOptions = {}): RouteMount[] {
  const { store } = sandbox;
  const jobs = options.jobs;
  const title = options.title ?? WEB_DEFAULTS.title;
  const asset = (type: string, body: string): Reply => ({ status: 200, headers: { ...SECURITY_HEADERS, 'content-type': type }, body });
  const json = (body: unknown, status = 200): Reply => ({ status, headers: { 'cache-control': 'no-store' }, body });

  const webMessage = (m: StoredMessage, withThread: boolean): WebMessage => ({
    id: m.id,
    chat_id: m.chat_id,
    content: m.content,
    bytes: Buffer.byteLength(m.content, 'utf8'),
    user_id: m.user_id,
    created_at: m.created_at,
    changed_at: m.changed_at,
    display_name: m.display_name,
    display_avatar_url: m.display_avatar_url,
    buttons: m.buttons,
    files: m.files.map((f) => ({ name: f.name, size: f.size, file_type: f.file_type, url: f.url })),
    parent_message_id: m.parent_message_id,
    link_preview: m.link_preview,
    previews: sandbox.linkPreviews.get(m.id).map((p) => ({
      url: p.url,
      title: p.title,
      description: p.description,
      image_url: p.image_url ?? (p.image ? `${FILES_BASE_PATH}/${encodeURIComponent(p.image.key)}` : null),
    })),
    replies: [],
    thread: withThread && m.thread ? { ...m.thread, messages: grouped(m.thread.chat_id, false) } : null,
  });

  /** Live messages of a chat, replies folded under the first message of their reply chain. */
  function grouped(chatId: number, withThreads: boolean): WebMessage[] {
    const live = store.liveMessages(chatId).slice(-WEB_DEFAULTS.maxMessagesPerChat);
    const byId = new Map<number, WebMessage>();
    const rootOf = new Map<number, number>();
    const top: WebMessage[] = [];
    for (const m of live) {
      const wm = webMessage(m, withThreads);
      byId.set(m.id, wm);
      const parentRoot = m.parent_message_id !== null ? rootOf.get(m.parent_message_id) : undefined;
      if (parentRoot !== undefined) {
        byId.get(parentRoot)!.replies.push(wm);
        rootOf.set(m.id, parentRoot);
      } else {
        // A reply to a deleted message or to another chat stands alone (the page notes its parent id).
        top.push(wm);
        rootOf.set(m.id, m.id);
      }
    }
    return top;
  }

  const state = (ctx: RequestContext): WebState => {
    const raw = ctx.query.get('chat_id');
    const chatId = raw && /^\d+$/.test(raw) ? Number(raw) : null;
    const chats = store
      .chats()
      .filter((c) => c.kind !== 'thread')
      .map((c) => ({
        id: c.id,
        name: c.name,
        kind: c.kind,
        channel: c.channel,
        count: store.messageCount(c.id).live,
        last_message_at: c.last_message_at,
      }));
    const users = store.users().map((u) => ({
      id: u.id,
      nickname: u.nickname,
      name: `${u.first_name} ${u.last_name}`.trim(),
      bot: u.bot,
      image_url: u.image_url,
    }));
    let chat = chatId !== null ? store.chat(chatId) : undefined;
    // A thread's messages are shown under their parent: a link into a thread opens the parent's chat.
    const thread = chat?.kind === 'thread' && chat.thread_id !== null ? store.thread(chat.thread_id) : undefined;
    if (thread) chat = store.chat(thread.message_chat_id);
    return {
      baseUrl: sandbox.baseUrl,
      maxContentBytes: options.maxContentBytes ?? SANDBOX_DEFAULTS.maxContentBytes,
      jobs: Boolean(jobs),
      chats,
      users,
      chat: chat ? { id: chat.id, name: chat.name, messages: grouped(chat.id, true) } : null,
    };
  };

  /**
   * Run now has side effects, so a cross-site page must not trigger it: require a JSON body (forces
   * a CORS preflight this server never approves) and, when the browser sends one, our own Origin.
   */
  const checkSameOrigin = (ctx: RequestContext) => {
    const type = String(ctx.req.headers['content-type'] ?? '');
    if (!type.toLowerCase().startsWith('application/json')) {
      throw apiError(415, 'content-type', 'invalid', 'send the request as application/json');
    }
    const origin = ctx.req.headers.origin;
    const host = ctx.req.headers.host;
    if (origin !== undefined && (!host || origin !== `http://${host}`)) {
      throw apiError(403, 'origin', 'forbidden', 'cross-origin requests are not allowed');
    }
  };

  const page = () => asset('text/html; charset=utf-8', pageHtml({ title, baseUrl: sandbox.baseUrl, jobs: Boolean(jobs) }));

  const webRoutes: Route[] = [
    { method: 'GET', path: '/app.js', handle: async () => asset('text/javascript; charset=utf-8', await clientJs()) },
    { method: 'GET', path: '/app.css', handle: () => asset('text/css; charset=utf-8', PAGE_CSS) },
    { method: 'GET', path: '/favicon.svg', handle: () => asset('image/svg+xml', FAVICON_SVG) },
    { method: 'GET', path: '/api/state', handle: (ctx) => json(state(ctx)) },
    {
      method: 'GET',
      path: '/api/stats',
      handle: () => {
        const body: WebStatsResponse = {
          stats: sandbox.stats(),
          requests: sandbox.requests().slice(-WEB_DEFAULTS.recentRequests).reverse(),
          faults: sandbox.faults.list().map((f) => ({ id: f.id, kind: f.fault.kind, remaining: f.remaining })),
        };
        return json(body);
      },
    },
    {
      method: 'GET',
      path: '/api/jobs',
      async handle() {
        if (!jobs) throw apiError(404, 'jobs', 'not_found', 'no jobs provider: start the sandbox with a config');
        return json({ data: await jobs.list() });
      },
    },
    {
      method: 'POST',
      path: '/api/jobs/run',
      async handle(ctx) {
        if (!jobs) throw apiError(404, 'jobs', 'not_found', 'no jobs provider: start the sandbox with a config');
        checkSameOrigin(ctx);
        const body = ctx.json() as { name?: unknown } | undefined;
        if (!body || typeof body.name !== 'string' || body.name === '') throw apiError(400, 'name', 'required', 'job name is required');
        let result: WebJobRunResult;
        try {
          result = await jobs.runNow(body.name);
        } catch (e) {
          // The provider's own error (unknown job, config problem) is what the author needs to see.
          return json({ data: { status: 'error', messageIds: [], messages: [], error: (e as Error)?.message ?? String(e) } }, 500);
        }
        // A thread message is shown under its parent, so the link opens the parent's chat.
        const data: WebJobRunResponse = {
          ...result,
          messages: result.messageIds.map((id) => ({ id, chat_id: store.message(id)?.root_chat_id ?? null })),
        };
        return json({ data });
      },
    },
  ];

  return [
    { prefix: WEB_BASE_PATH, routes: webRoutes },
    {
      prefix: '',
      routes: [
        { method: 'GET', path: '/', handle: page },
        // The message links the API returns (`url`) and the CLI prints: /chats/103#message-7.
        { method: 'GET', path: '/chats/:id', handle: page },
        { method: 'GET', path: '/favicon.ico', handle: () => asset('image/svg+xml', FAVICON_SVG) },
      ],
    },
  ];
}

/**
 * The sandbox HTTP server: node:http, a route table per area; every API call goes through the
 * request pipeline (pipeline.ts: faults, auth, rate limit, handler), recorded in a capped log.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/index.js';
import { apiRoutes } from './api.js';
import { SandboxBot } from './bot.js';
import { API_BASE_PATH, INSPECT_BASE_PATH, SANDBOX_DEFAULTS } from './defaults.js';
import { PREVIEW_NOTICE, TokenAuth, type SandboxMode } from './auth.js';
import { apiError, SandboxHttpError } from './errors.js';
import { errorReply, readBody, run, send, unhandledBody } from './http.js';
import { FaultRegistry, type Fault } from './faults.js';
import { inspectRoutes } from './inspect.js';
import { RateLimiter, resolveRateLimits, type SandboxRateLimits, type SandboxRateLimitsOption } from './rate-limit.js';
import { compileRoutes, matchRoute, type RequestContext, type Route, type RouteTable } from './router.js';
import { RequestLog, type RequestLogEntry, type SandboxExchange, type SandboxStats } from './request-log.js';
import type { SeedChat, SeedUser } from './records.js';
import { SandboxStore } from './store.js';
import { exchangeRecorder } from './exchange-recorder.js';
import { handleApiRequest, type PipelineDeps } from './pipeline.js';

export type { RequestLogEntry, SandboxExchange, SandboxStats };
import { createWebRoutes, type WebOptions } from './web/index.js';
import { SandboxLinkPreviews, linkPreviewRoutes } from './link-previews.js';
import { FILES_BASE_PATH, SandboxUploads, STORAGE_BASE_PATH, fileRoutes, storageRoutes, uploadApiRoutes } from './uploads.js';

export interface RouteMount {
  prefix: string;
  routes: Route[];
}

export interface SandboxOptions {
  host?: string;
  port?: number;
  /**
   * `strict` (default): the real API's answers — only `tokens` are accepted (401 otherwise), an
   * unknown chat, user, thread or message is 404. `preview`: any token, any chat id (created on
   * first post), and a one-line notice saying so when it starts: what users get from
   * `pachca-digest sandbox` and token-less runs.
   */
  mode?: SandboxMode;
  /**
   * Accepted bearer tokens. A list: each token posts as `botUserId`. A record: token → author
   * user id (a bot user is created for unknown ids). Strict default: SANDBOX_DEFAULTS.strictToken;
   * preview default: any non-empty token.
   */
  tokens?: string[] | Record<string, number>;
  botUserId?: number;
  chats?: SeedChat[];
  users?: SeedUser[];
  /** Preview mode only: create a group chat on the first post to an unknown chat id (default true there). */
  autoCreateChats?: boolean;
  /** Test-only: every API request with the sandbox's own answer (the conformance suite validates them). */
  onExchange?: (exchange: SandboxExchange) => void;
  /** Where preview mode's notice goes (default: a line on stderr). */
  notice?: (line: string) => void;
  /**
   * `false` disables limits; an object overrides single limits of DOCUMENTED_LIMITS (tests make
   * them stricter than the client assumes: a lower `token` rate, smaller bursts).
   */
  rateLimits?: false | SandboxRateLimitsOption;
  /** `true`: one line per API request on stderr; a Logger: `info` per request. */
  logRequests?: boolean | Logger;
  /** Request log capacity (default SANDBOX_DEFAULTS.requestLogSize). */
  requestLogSize?: number;
  /** Clock for timestamps and rate limits (tests pass a fake one to skip waiting). */
  now?: () => number;
  /** Content size limit in UTF-8 bytes (default SANDBOX_DEFAULTS.maxContentBytes). */
  maxContentBytes?: number;
  /** Upload parameters' lifetime and file size limit (see UPLOAD_DEFAULTS). */
  uploads?: { ttlMs?: number; maxFileBytes?: number };
  /** More route tables (the web UI mounts itself at prefix ''). */
  extraRoutes?: (sandbox: Sandbox) => RouteMount[];
  /** The bot's webhook signing secret (default BOT_DEFAULTS.signingSecret) and per-token scopes. */
  bot?: { signingSecret?: string; tokenScopes?: Record<string, string[]>; deliveryRetryMs?: number; unfurlDomains?: string[] };
  /** The web view at `/` (default on; `{ jobs }` adds the Jobs view); `false`: the plain-text index. */
  web?: false | WebOptions;
}



export interface Sandbox {
  mode: SandboxMode;
  /** A token this sandbox accepts (strict: the first configured one). */
  token: string;
  /** Strict mode: accept one more token from now on (a test's fresh token), posting as `userId`. */
  acceptToken(token: string, userId?: number): void;
  origin: string;
  /** origin + '/api/shared/v1': what a client uses as its base URL. */
  baseUrl: string;
  port: number;
  store: SandboxStore;
  /** Files uploaded through POST /uploads and the direct URL. */
  uploads: SandboxUploads;
  /** Previews added through POST /messages/{id}/link_previews. */
  linkPreviews: SandboxLinkPreviews;
  faults: {
    add(fault: Fault): { id: number };
    remove(id: number): boolean;
    clear(): void;
    list(): ReturnType<FaultRegistry['list']>;
  };
  rateLimits: SandboxRateLimits | null;
  /** Pachca's bot side: button clicks → event history and signed webhook deliveries. */
  bot: SandboxBot;
  requests(): RequestLogEntry[];
  stats(): SandboxStats;
  /** Seeded data back, log/stats/faults/limit buckets cleared. */
  reset(): void;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? Date.now;
  const botUserId = options.botUserId ?? SANDBOX_DEFAULTS.botUserId;
  const mode = options.mode ?? 'strict';
  if (mode === 'strict' && options.autoCreateChats) {
    throw new Error('sandbox: autoCreateChats is a preview-mode option (the real API answers 404 for an unknown chat); seed the chats instead');
  }
  const auth = new TokenAuth(mode, options.tokens, botUserId);
  const store = new SandboxStore({
    users: options.users,
    chats: options.chats,
    botUserId,
    autoCreateChats: mode === 'preview' && options.autoCreateChats !== false,
    now,
    extraMemberIds: auth.userIds(),
  });
  const uploads = new SandboxUploads({ now, ...options.uploads });
  const linkPreviews = new SandboxLinkPreviews();
  const ensureTokenUsers = () => {
    for (const id of auth.userIds()) {
      if (!store.user(id)) store.addUser({ id, first_name: 'Бот', last_name: String(id), nickname: `bot_${id}`, bot: true });
    }
  };
  ensureTokenUsers();

  const bot = new SandboxBot({ store, now, botUserId, ...options.bot });
  const faults = new FaultRegistry();
  const limits = resolveRateLimits(options.rateLimits);
  const limiter = limits ? new RateLimiter(limits) : null;
  const logSize = options.requestLogSize ?? SANDBOX_DEFAULTS.requestLogSize;
  const maxContentBytes = options.maxContentBytes ?? SANDBOX_DEFAULTS.maxContentBytes;
  const streams = new Set<ServerResponse>();
  const pendingDelays = new Set<AbortController>();

  const requestLog = new RequestLog(logSize);
  const record = (e: RequestLogEntry) => {
    requestLog.record(e);
    if (options.logRequests === true) {
      process.stderr.write(`sandbox ${e.method} ${e.path} ${e.status ?? e.outcome} ${e.durationMs}ms${e.fault ? ` fault=${e.fault}` : ''}\n`);
    } else if (options.logRequests) {
      options.logRequests.info({ ...e }, 'sandbox request');
    }
  };

  const reset = () => {
    store.reset();
    bot.reset();
    uploads.reset();
    linkPreviews.reset();
    ensureTokenUsers();
    faults.clear();
    limiter?.reset();
    requestLog.reset();
  };

  const pipeline: PipelineDeps = {
    now,
    botUserId,
    auth,
    limiter,
    store,
    faults,
    requestLog,
    record,
    pendingDelays,
    recorder: exchangeRecorder(),
    ...(options.onExchange ? { onExchange: options.onExchange } : {}),
  };

  let tables: RouteTable[] = [];
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in a handler must not kill the server: answer 500 if still possible.
      if (!res.headersSent && !res.destroyed) send(res, req, { status: 500, body: unhandledBody(err) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const match = matchRoute(tables, method, url.pathname);

    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, match?.route?.maxBodyBytes ?? SANDBOX_DEFAULTS.maxBodyBytes);
    } catch (e) {
      if (e instanceof SandboxHttpError) send(res, req, errorReply(e));
      else res.destroy();
      return;
    }
    let parsed: { ok: true; value: unknown } | undefined;
    const ctx: RequestContext = {
      method,
      url,
      path: match?.path ?? url.pathname,
      params: match?.params ?? {},
      query: url.searchParams,
      rawBody,
      json() {
        if (!parsed) {
          const text = rawBody.toString('utf8');
          if (text.trim() === '') parsed = { ok: true, value: undefined };
          else {
            try {
              parsed = { ok: true, value: JSON.parse(text) };
            } catch {
              throw apiError(400, 'body', 'invalid', 'Request body is not valid JSON');
            }
          }
        }
        return parsed.value;
      },
      userId: botUserId,
      tokenKey: '',
      now: started,
      req,
      res,
    };

    if (match && !match.table.api) {
      if (!match.route) {
        send(res, req, { status: match.methodMismatch ? 405 : 404, body: { error: 'not found' } });
        return;
      }
      const reply = await run(() => match.route!.handle(ctx));
      if (!('stream' in reply)) send(res, req, reply);
      return;
    }

    return handleApiRequest(pipeline, { req, res, ctx, match, url, method, started, rawBody });
  }

  const sandbox: Sandbox = {
    mode,
    token: auth.token,
    acceptToken(token, userId) {
      auth.accept(token, userId);
      ensureTokenUsers();
    },
    origin: '',
    baseUrl: '',
    port: 0,
    store,
    uploads,
    linkPreviews,
    faults: {
      add: (f) => faults.add(f),
      remove: (id) => faults.remove(id),
      clear: () => faults.clear(),
      list: () => faults.list(),
    },
    rateLimits: limits,
    bot,
    requests: () => requestLog.entries(),
    stats: () => requestLog.stats(),
    reset,
    async close() {
      bot.close();
      for (const c of pendingDelays) c.abort();
      for (const s of streams) s.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would hold close() for the keep-alive timeout: end them now.
        server.closeAllConnections();
      });
    },
  };

  const mounts: RouteMount[] = [
    ...(options.extraRoutes?.(sandbox) ?? []),
    ...(options.web === false ? [] : createWebRoutes(sandbox, { maxContentBytes, ...options.web })),
    {
      prefix: '',
      routes: [
        {
          method: 'GET',
          path: '/',
          handle: () => ({
            status: 200,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
            body: `Pachca sandbox\nAPI: ${sandbox.baseUrl}\nInspection: ${sandbox.origin}${INSPECT_BASE_PATH}/messages, /chats, /requests, /stats, /events\n`,
          }),
        },
      ],
    },
  ];
  tables = [
    ...mergeMounts(mounts).map((m) => compileRoutes(m.prefix, false, m.routes)),
    compileRoutes(API_BASE_PATH, true, [
      ...apiRoutes({ store, maxContentBytes, uploads }),
      ...uploadApiRoutes(uploads, () => sandbox.origin),
      ...bot.apiRoutes(),
      ...linkPreviewRoutes(store, linkPreviews),
    ]),
    // An API-like table (request log, faults) without a token: what the direct upload URL is.
    compileRoutes(STORAGE_BASE_PATH, true, storageRoutes(uploads)),
    compileRoutes(FILES_BASE_PATH, false, fileRoutes(uploads)),
    compileRoutes(INSPECT_BASE_PATH, false, [
      ...inspectRoutes({ store, faults, requests: sandbox.requests, stats: sandbox.stats, reset, streams, previews: linkPreviews }),
      ...bot.inspectRoutes(),
    ]),
  ];

  const host = options.host ?? SANDBOX_DEFAULTS.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? SANDBOX_DEFAULTS.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  sandbox.port = port;
  sandbox.origin = `http://${publicHost}:${port}`;
  sandbox.baseUrl = `${sandbox.origin}${API_BASE_PATH}`;
  store.origin = sandbox.origin;
  if (mode === 'preview') (options.notice ?? ((line) => process.stderr.write(`${line}\n`)))(PREVIEW_NOTICE);
  return sandbox;
}

// ---- helpers ----

/**
 * One table per prefix, routes in mount order: a route lookup only searches the table owning the
 * longest matching prefix, so two mounts at '' (extra routes, the web view, the plain index) must
 * share one table for the later ones to be reachable.
 */
function mergeMounts(mounts: RouteMount[]): RouteMount[] {
  const byPrefix = new Map<string, Route[]>();
  for (const m of mounts) {
    const list = byPrefix.get(m.prefix) ?? [];
    list.push(...m.routes);
    byPrefix.set(m.prefix, list);
  }
  return [...byPrefix].map(([prefix, routes]) => ({ prefix, routes }));
}



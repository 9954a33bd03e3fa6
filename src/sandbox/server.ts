/**
 * The sandbox HTTP server: node:http, a route table per area, and the request pipeline every
 * API call goes through — faults, auth, rate limit, handler — recorded in a capped log.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/index.js';
import { apiRoutes } from './api.js';
import { SandboxBot } from './bot.js';
import { API_BASE_PATH, INSPECT_BASE_PATH, SANDBOX_DEFAULTS } from './defaults.js';
import { apiError, oauthError, rateLimitError, SandboxHttpError } from './errors.js';
import { FaultRegistry, type Fault, type FaultKind } from './faults.js';
import { inspectRoutes } from './inspect.js';
import { RateLimiter, resolveRateLimits, type LimitName, type SandboxRateLimits, type SandboxRateLimitsOption } from './rate-limit.js';
import { compileRoutes, matchRoute, type Reply, type RequestContext, type Route, type RouteTable } from './router.js';
import { SandboxStore, type SeedChat, type SeedUser } from './store.js';
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
   * Accepted bearer tokens. A list: each token posts as `botUserId`. A record: token → author
   * user id (a bot user is created for unknown ids). Default: any non-empty token is accepted.
   */
  tokens?: string[] | Record<string, number>;
  botUserId?: number;
  chats?: SeedChat[];
  users?: SeedUser[];
  /** Create a group chat on the first post to an unknown chat id (default false: 404). */
  autoCreateChats?: boolean;
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

export interface RequestLogEntry {
  seq: number;
  time: string;
  method: string;
  /** Path and query (never headers: the token stays out of the log). */
  path: string;
  /** Route label such as `POST /messages`; null for unknown paths. */
  endpoint: string | null;
  /** null when no answer was sent (socket reset, client gone). */
  status: number | null;
  outcome: 'answered' | 'reset' | 'client-closed';
  bucket: string | null;
  /** The limit that answered 429 (`token`: the token-wide budget), null when none did. */
  limitedBy: LimitName | null;
  chatId: number | null;
  fault: FaultKind | null;
  durationMs: number;
}

export interface SandboxStats {
  requests: number;
  /** `POST /messages` → { "201": 12, "429": 3 }; unanswered requests count under "reset". */
  byEndpoint: Record<string, Record<string, number>>;
  rateLimited: number;
  /** 429s by the limit that answered them (`token`, `messageWrite`, …). */
  rateLimitedBy: Partial<Record<LimitName, number>>;
  faultsInjected: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
}

export interface Sandbox {
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
  const tokenUsers = tokenMap(options.tokens, botUserId);
  const store = new SandboxStore({
    users: options.users,
    chats: options.chats,
    botUserId,
    autoCreateChats: options.autoCreateChats,
    now,
    extraMemberIds: [...new Set(tokenUsers?.values() ?? [])],
  });
  const uploads = new SandboxUploads({ now, ...options.uploads });
  const linkPreviews = new SandboxLinkPreviews();
  const ensureTokenUsers = () => {
    for (const id of new Set(tokenUsers?.values() ?? [])) {
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

  let log: RequestLogEntry[] = [];
  let seq = 0;
  let stats: SandboxStats = emptyStats();

  const record = (e: RequestLogEntry) => {
    log.push(e);
    if (log.length > logSize) log = log.slice(-Math.ceil(logSize * 0.9));
    stats.requests++;
    const key = e.endpoint ?? 'unknown';
    const byStatus = (stats.byEndpoint[key] ??= {});
    const s = e.status === null ? e.outcome : String(e.status);
    byStatus[s] = (byStatus[s] ?? 0) + 1;
    if (e.status === 429) stats.rateLimited++;
    if (e.limitedBy) stats.rateLimitedBy[e.limitedBy] = (stats.rateLimitedBy[e.limitedBy] ?? 0) + 1;
    if (e.fault) {
      stats.faultsInjected++;
      stats.faultsByKind[e.fault] = (stats.faultsByKind[e.fault] ?? 0) + 1;
    }
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
    log = [];
    stats = emptyStats();
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
      if (!match.route) return send(res, req, { status: match.methodMismatch ? 405 : 404, body: { error: 'not found' } });
      const reply = await run(() => match.route!.handle(ctx));
      if (!('stream' in reply)) send(res, req, reply);
      return;
    }

    // ---- API pipeline ----
    const route = match?.route ?? null;
    const entry: RequestLogEntry = {
      seq: ++seq,
      time: new Date(started).toISOString(),
      method,
      path: url.pathname + url.search,
      endpoint: route?.label ?? null,
      status: null,
      outcome: 'answered',
      bucket: route?.bucket ?? null,
      limitedBy: null,
      chatId: null,
      fault: null,
      durationMs: 0,
    };
    const finish = (status: number | null, outcome: RequestLogEntry['outcome'] = 'answered') => {
      entry.status = status;
      entry.outcome = outcome;
      entry.durationMs = Math.max(0, now() - started);
      record(entry);
    };

    if (!match || !route) {
      const reply = errorReply(apiError(404, 'path', 'not_found', `No route for ${method} ${url.pathname}`, url.pathname));
      send(res, req, reply);
      return finish(reply.status);
    }

    const chatId = route.chatOf?.(ctx);
    entry.chatId = chatId ?? null;
    const fault = faults.take({ method, path: url.pathname, apiPath: match.path, chatId });
    entry.fault = fault?.kind ?? null;

    if (fault?.kind === 'reset-before') {
      req.socket.destroy();
      return finish(null, 'reset');
    }
    if (fault?.kind === 'status' && fault.when !== 'after') {
      const reply = faultStatusReply(fault.status, fault.body, fault.headers);
      send(res, req, reply);
      return finish(reply.status);
    }
    if (fault?.kind === 'rate-limit') {
      const reply = errorReply(rateLimitError(fault.retryAfter ?? 1));
      send(res, req, reply);
      return finish(reply.status);
    }
    if (fault?.kind === 'delay' && fault.when !== 'after') {
      if (!(await sleep(fault.ms, res, pendingDelays))) return finish(null, 'client-closed');
    }
    // Handled whatever the client did meanwhile; only the sandbox closing cuts it short.
    if (fault?.kind === 'late' && !(await sleep(fault.ms, null, pendingDelays))) return finish(null, 'client-closed');

    const reply = await run(() => {
      const auth = route.auth === false ? { userId: botUserId, token: '' } : authenticate(req, tokenUsers, botUserId);
      ctx.userId = auth.userId;
      ctx.tokenKey = auth.token;
      if (limiter) {
        const scope = route.bucket === 'messageWrite' ? `chat:${chatId ?? '?'}` : null;
        const r = limiter.admit(auth.token, route.bucket, scope, now());
        if (!r.ok) {
          entry.limitedBy = r.limit;
          throw rateLimitError(r.retryAfterSec);
        }
      }
      return route.handle(ctx);
    });
    if ('stream' in reply) return finish(200);

    if (fault?.kind === 'reset-after') {
      req.socket.destroy();
      return finish(null, 'reset');
    }
    if (fault?.kind === 'status' && fault.when === 'after') {
      const failed = faultStatusReply(fault.status, fault.body, fault.headers);
      send(res, req, failed);
      return finish(failed.status);
    }
    if (fault?.kind === 'delay' && fault.when === 'after') {
      if (!(await sleep(fault.ms, res, pendingDelays))) return finish(null, 'client-closed');
    }
    send(res, req, reply);
    finish(reply.status);
  }

  const sandbox: Sandbox = {
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
    requests: () => log.map((e) => ({ ...e })),
    stats: () => structuredClone(stats),
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

function emptyStats(): SandboxStats {
  return { requests: 0, byEndpoint: {}, rateLimited: 0, rateLimitedBy: {}, faultsInjected: 0, faultsByKind: {} };
}

function tokenMap(tokens: SandboxOptions['tokens'], botUserId: number): Map<string, number> | null {
  if (!tokens) return null;
  if (Array.isArray(tokens)) return new Map(tokens.map((t) => [t, botUserId]));
  return new Map(Object.entries(tokens));
}

function authenticate(
  req: IncomingMessage,
  tokens: Map<string, number> | null,
  botUserId: number,
): { token: string; userId: number } {
  const header = req.headers.authorization;
  if (!header) throw oauthError('Access token is missing');
  const m = /^Bearer\s+(\S.*)$/i.exec(header.trim());
  if (!m) throw oauthError('Access token is missing');
  const token = m[1]!.trim();
  if (!tokens) return { token, userId: botUserId };
  const userId = tokens.get(token);
  if (userId === undefined) throw oauthError('Access token is invalid');
  return { token, userId };
}

async function run(fn: () => Reply | Promise<Reply>): Promise<Reply> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SandboxHttpError) return errorReply(e);
    return { status: 500, body: unhandledBody(e) };
  }
}

function errorReply(e: SandboxHttpError): { status: number; body: unknown; headers: Record<string, string> } {
  return { status: e.status, body: e.body, headers: e.headers };
}

function unhandledBody(e: unknown) {
  return {
    errors: [{ key: 'server', value: null, message: `Sandbox error: ${(e as Error)?.message ?? e}`, code: 'unhandled', payload: null }],
  };
}

function faultStatusReply(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): { status: number; body: unknown; headers: Record<string, string> } {
  if (body === undefined) {
    body = { errors: [{ key: 'fault', value: null, message: `Injected ${status}`, code: 'unhandled', payload: null }] };
  }
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (typeof body === 'string') lower['content-type'] ??= 'text/html; charset=utf-8';
  return { status, body, headers: lower };
}

function send(res: ServerResponse, req: IncomingMessage, reply: Reply): void {
  if ('stream' in reply || res.destroyed || res.headersSent) return;
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload: string | Buffer | undefined;
  if (reply.status !== 204 && reply.status !== 304 && reply.body !== undefined) {
    if (typeof reply.body === 'string' || Buffer.isBuffer(reply.body)) {
      payload = reply.body;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(reply.body);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  res.writeHead(reply.status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw apiError(413, 'body', 'too_long', `Request body is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Waits `ms` unless the client goes away or the server closes; false when cut short. */
/** Resolves true after `ms`, false when the client hangs up first (`res`; null: never) or the sandbox closes. */
function sleep(ms: number, res: ServerResponse | null, pending: Set<AbortController>): Promise<boolean> {
  if (res?.destroyed) return Promise.resolve(false);
  const ac = new AbortController();
  pending.add(ac);
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      res?.off('close', onClose);
      ac.signal.removeEventListener('abort', onAbort);
      pending.delete(ac);
      resolve(ok);
    };
    const onClose = () => done(false);
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    res?.once('close', onClose);
    ac.signal.addEventListener('abort', onAbort);
  });
}

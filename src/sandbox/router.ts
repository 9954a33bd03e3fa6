/**
 * A tiny route table: `{ method, path: '/messages/:id', handle }`. The API, the inspection
 * endpoints and (later) the web UI are each a table mounted under a prefix.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BucketName } from './rate-limit.js';
import { apiError } from './errors.js';

export interface RequestContext {
  method: string;
  url: URL;
  /** Path under the table's prefix. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  rawBody: Buffer;
  /** Parsed JSON body; throws a 400 ApiError when the body is not JSON. Empty body: undefined. */
  json(): unknown;
  /** The author behind the bearer token (API routes, after auth). */
  userId: number;
  /** Opaque per-token key for rate-limit buckets (never the token itself in logs). */
  tokenKey: string;
  now: number;
  req: IncomingMessage;
  res: ServerResponse;
}

export type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Takes over the response (server-sent events); the server writes nothing itself. */
  | { stream: true };

export interface Route {
  method: string;
  /** Pattern under the prefix, `:name` segments become params. */
  path: string;
  /** Rate-limit bucket (API routes); none means not limited. */
  bucket?: BucketName;
  /** `false`: no bearer token expected (the direct upload URL: its signed policy is the credential). */
  auth?: false;
  /** Request body limit of this route (default SANDBOX_DEFAULTS.maxBodyBytes). */
  maxBodyBytes?: number;
  /** The chat a request concerns: scopes the messageWrite bucket and lets faults match chatId. */
  chatOf?: (ctx: RequestContext) => number | undefined;
  /**
   * The messageWrite scope when `chatOf` knows no chat, asked after authentication (a DM's chat
   * depends on who writes): without it every such request would share one bucket.
   */
  writeScopeOf?: (ctx: RequestContext) => string | undefined;
  handle(ctx: RequestContext): Reply | Promise<Reply>;
}

export interface CompiledRoute extends Route {
  /** Stats label, e.g. `GET /messages/{id}`. */
  label: string;
  regex: RegExp;
  keys: string[];
}

export interface RouteTable {
  prefix: string;
  /** API tables require a bearer token, apply faults and rate limits. */
  api: boolean;
  routes: CompiledRoute[];
}

export function compileRoutes(prefix: string, api: boolean, routes: Route[]): RouteTable {
  return {
    prefix,
    api,
    routes: routes.map((r) => {
      const keys: string[] = [];
      const src = r.path
        .split('/')
        .map((seg) => {
          if (seg.startsWith(':')) {
            keys.push(seg.slice(1));
            return '([^/]+)';
          }
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/');
      return {
        ...r,
        method: r.method.toUpperCase(),
        keys,
        regex: new RegExp(`^${src}/?$`),
        label: `${r.method.toUpperCase()} ${r.path.replace(/:(\w+)/g, '{$1}') || '/'}`,
      };
    }),
  };
}

export interface RouteMatch {
  table: RouteTable;
  route: CompiledRoute | null;
  path: string;
  params: Record<string, string>;
  /** The path exists with another method. */
  methodMismatch: boolean;
}

/** The table owning `pathname` (longest prefix wins) and the route in it, if any. */
export function matchRoute(tables: RouteTable[], method: string, pathname: string): RouteMatch | null {
  let best: RouteTable | null = null;
  for (const t of tables) {
    const owns = t.prefix === '' || pathname === t.prefix || pathname.startsWith(`${t.prefix}/`);
    if (owns && (!best || t.prefix.length > best.prefix.length)) best = t;
  }
  if (!best) return null;
  const path = pathname.slice(best.prefix.length) || '/';
  let methodMismatch = false;
  for (const r of best.routes) {
    const m = r.regex.exec(path);
    if (!m) continue;
    if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) {
      methodMismatch = true;
      continue;
    }
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
    return { table: best, route: r, path, params, methodMismatch: false };
  }
  return { table: best, route: null, path, params: {}, methodMismatch };
}

// ---- small parsing helpers shared by handlers ----

/** A path/query id: positive integer or a 404/400 in the API's shape. */
export function intParam(value: string | null | undefined, key: string, opts: { required?: boolean } = {}): number | undefined {
  if (value === null || value === undefined || value === '') {
    if (opts.required) throw apiError(400, key, 'required', `${key} is required`);
    return undefined;
  }
  if (!/^-?\d+$/.test(value)) throw apiError(400, key, 'invalid', `${key} must be an integer`, value);
  return Number(value);
}

export function enumParam<T extends string>(value: string | null, key: string, allowed: readonly T[], dflt: T): T {
  if (value === null || value === '') return dflt;
  if (!(allowed as readonly string[]).includes(value)) {
    throw apiError(400, key, 'inclusion', `${key} must be one of: ${allowed.join(', ')}`, value);
  }
  return value as T;
}

/**
 * The request pipeline every API call goes through: faults, auth, rate limit, handler, then the
 * answer, recorded in the request log (and, in the test run, in the exchange recorder).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenAuth } from './auth.js';
import { API_BASE_PATH } from './defaults.js';
import { apiError, rateLimitError } from './errors.js';
import type { ExchangeRecorder } from './exchange-recorder.js';
import type { Fault, FaultRegistry } from './faults.js';
import { errorReply, faultStatusReply, run, send, sleep } from './http.js';
import type { RateLimiter } from './rate-limit.js';
import type { RequestLog, RequestLogEntry, SandboxExchange } from './request-log.js';
import type { RequestContext, RouteMatch } from './router.js';
import type { SandboxStore } from './store.js';

export interface PipelineDeps {
  now: () => number;
  botUserId: number;
  auth: TokenAuth;
  limiter: RateLimiter | null;
  store: SandboxStore;
  faults: FaultRegistry;
  requestLog: RequestLog;
  record: (e: RequestLogEntry) => void;
  pendingDelays: Set<AbortController>;
  recorder: ExchangeRecorder | null;
  onExchange?: (exchange: SandboxExchange) => void;
}

export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: RequestContext;
  /** The API table's match; null or route-less: no such route (404). */
  match: RouteMatch | null;
  url: URL;
  method: string;
  started: number;
  rawBody: Buffer;
}

export async function handleApiRequest(d: PipelineDeps, { req, res, ctx, match, url, method, started, rawBody }: ApiRequest): Promise<void> {
  const route = match?.route ?? null;
  const entry: RequestLogEntry = {
    seq: d.requestLog.nextSeq(),
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
    entry.durationMs = Math.max(0, d.now() - started);
    d.record(entry);
  };

  // The request as an exchange (onExchange, the test run's recorder): built only when asked for.
  const wire = () => ({
    method,
    base: match?.table.prefix ?? API_BASE_PATH,
    path: match?.path ?? url.pathname,
    query: url.search,
    request: { contentType: req.headers['content-type'] ?? null, userAgent: req.headers['user-agent'] ?? null, body: rawBody.toString('utf8') },
  });
  const template = route ? route.label.slice(route.label.indexOf(' ') + 1) : null;
  /** Test-only (exchange-recorder.ts): every API request with its answer, faults included. */
  const note = (reply: { status: number; body?: unknown } | null, sent: Record<string, string> | null, fault?: Fault) =>
    d.recorder?.({
      ...wire(),
      template,
      response: reply && sent ? { status: reply.status, contentType: sent['content-type'] ?? null, body: reply.body } : null,
      fault: fault?.kind ?? null,
      ...(fault?.kind === 'status' ? { faultWhen: fault.when ?? 'before' } : {}),
    });

  if (!match || !route) {
    const reply = errorReply(apiError(404, 'path', 'not_found', `No route for ${method} ${url.pathname}`, url.pathname));
    note(reply, send(res, req, reply));
    return finish(reply.status);
  }

  const chatId = route.chatOf?.(ctx);
  entry.chatId = chatId ?? null;
  const fault = d.faults.take({ method, path: url.pathname, apiPath: match.path, chatId });
  entry.fault = fault?.kind ?? null;
  const cut = (outcome: 'reset' | 'client-closed') => {
    note(null, null, fault);
    finish(null, outcome);
  };

  if (fault?.kind === 'reset-before') {
    req.socket.destroy();
    return cut('reset');
  }
  if (fault?.kind === 'status' && fault.when !== 'after') {
    const reply = faultStatusReply(fault.status, fault.body, fault.headers);
    note(reply, send(res, req, reply), fault);
    return finish(reply.status);
  }
  const answer = (reply: { status: number; body?: unknown; headers?: Record<string, string> }) => {
    const sent = send(res, req, reply);
    note(reply, sent, fault);
    if (sent && d.onExchange) {
      d.onExchange({ ...wire(), template: template!, response: { status: reply.status, contentType: sent['content-type'] ?? null, headers: sent, body: reply.body } });
    }
    finish(reply.status);
  };
  if (fault?.kind === 'rate-limit') {
    return answer(errorReply(rateLimitError(fault.retryAfter ?? 1)));
  }
  if (fault?.kind === 'delay' && fault.when !== 'after') {
    if (!(await sleep(fault.ms, res, d.pendingDelays))) return cut('client-closed');
  }
  // Handled whatever the client did meanwhile; only the sandbox closing cuts it short.
  if (fault?.kind === 'late' && !(await sleep(fault.ms, null, d.pendingDelays))) return cut('client-closed');

  const reply = await run(() => {
    const caller = route.auth === false ? { userId: d.botUserId, token: '' } : d.auth.authenticate(req);
    ctx.userId = caller.userId;
    ctx.tokenKey = caller.token;
    if (d.limiter) {
      const scope = route.bucket === 'messageWrite' ? (chatId !== undefined ? d.store.writeScope(chatId) : (route.writeScopeOf?.(ctx) ?? 'chat:?')) : null;
      const r = d.limiter.admit(caller.token, route.bucket, scope, d.now());
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
    return cut('reset');
  }
  if (fault?.kind === 'status' && fault.when === 'after') {
    const failed = faultStatusReply(fault.status, fault.body, fault.headers);
    note(failed, send(res, req, failed), fault);
    return finish(failed.status);
  }
  if (fault?.kind === 'delay' && fault.when === 'after') {
    if (!(await sleep(fault.ms, res, d.pendingDelays))) return cut('client-closed');
  }
  answer(reply);
}

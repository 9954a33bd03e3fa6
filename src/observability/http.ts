/**
 * The daemon's small HTTP surface: `/metrics`, `/healthz`, `/readyz`. node:http only, and no
 * prom-client import here — the metrics object is passed in (see ./metrics.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DigestError } from '../errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { scrubSecrets } from './secrets.js';

export interface CheckResult {
  ok: boolean;
  detail?: unknown;
}

export interface HealthChecks {
  /** Process alive and the scheduler ticking. Must be cheap and synchronous. */
  live(): CheckResult;
  /** Config loaded and the state store reachable. */
  ready(): Promise<CheckResult>;
}

/** What `/metrics` needs; ./metrics.ts's `Metrics` satisfies it. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface HealthServerOptions {
  port: number;
  /** Default: all interfaces (Node's default), as a pod's probes and Prometheus need. */
  host?: string;
  metrics?: MetricsSource | null;
  checks: HealthChecks;
  /** A readiness check slower than this answers 503 (a hung database must not hang the probe). */
  checkTimeoutMs?: number;
  logger?: Logger;
  /** More endpoints (the signed webhook receiver): path → handler, any method; checked before the built-ins. */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void> | void>;
}

export interface HealthServer {
  port: number;
  host: string;
  /** e.g. `http://127.0.0.1:9464` */
  url: string;
  close(): Promise<void>;
}

export const HEALTH_DEFAULTS = { checkTimeoutMs: 5_000 } as const;

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const log = options.logger ?? silentLogger;
  const timeoutMs = options.checkTimeoutMs ?? HEALTH_DEFAULTS.checkTimeoutMs;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ error: errorText(err), path: req.url }, 'health endpoint failed');
      if (!res.headersSent) send(res, 500, { status: 'error', detail: 'internal error' });
      else res.destroy();
    });
  });
  // Probes and scrapes are short; do not let idle keep-alive sockets delay shutdown.
  server.keepAliveTimeout = 5_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const extra = path !== undefined ? options.routes?.[path] : undefined;
    if (extra) return extra(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { status: 'error', detail: 'method not allowed' });
    }
    switch (path) {
      case '/healthz':
      case '/livez': {
        const r = runSync(() => options.checks.live());
        return send(res, r.ok ? 200 : 503, { status: r.ok ? 'ok' : 'fail', detail: r.detail ?? null });
      }
      case '/readyz': {
        const r = await withTimeout(() => options.checks.ready(), timeoutMs);
        return send(res, r.ok ? 200 : 503, { status: r.ok ? 'ok' : 'fail', detail: r.detail ?? null });
      }
      case '/metrics': {
        if (!options.metrics) return send(res, 404, { status: 'error', detail: 'metrics are not enabled' });
        const text = await options.metrics.metrics();
        res.statusCode = 200;
        res.setHeader('content-type', options.metrics.contentType);
        res.setHeader('cache-control', 'no-store');
        res.end(req.method === 'HEAD' ? undefined : text);
        return;
      }
      case '/':
        return send(res, 200, { status: 'ok', endpoints: ['/healthz', '/readyz', ...(options.metrics ? ['/metrics'] : [])] });
      default:
        return send(res, 404, { status: 'error', detail: 'not found' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new DigestError('E_USAGE', `Cannot listen on ${options.host ?? '*'}:${options.port}: ${err.code ?? err.message}`, {
          hint: err.code === 'EADDRINUSE' ? 'Another process uses this port: choose another --http-port' : undefined,
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ error: errorText(err) }, 'health server error'));

  const addr = server.address() as AddressInfo;
  const host = options.host ?? addr.address;
  const urlHost = host === '::' || host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  log.info({ port: addr.port, host }, 'health and metrics endpoints listening');

  let closing: Promise<void> | undefined;
  return {
    port: addr.port,
    host,
    url: `http://${urlHost}:${addr.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = scrubSecrets(JSON.stringify(body));
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function runSync(fn: () => CheckResult): CheckResult {
  try {
    return normalise(fn());
  } catch (err) {
    return { ok: false, detail: errorText(err) };
  }
}

async function withTimeout(fn: () => Promise<CheckResult>, ms: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, detail: `check timed out after ${ms} ms` }), ms);
    });
    return normalise(await Promise.race([Promise.resolve().then(fn), timeout]));
  } catch (err) {
    return { ok: false, detail: errorText(err) };
  } finally {
    clearTimeout(timer);
  }
}

function normalise(r: CheckResult | undefined | null): CheckResult {
  return r && typeof r === 'object' ? { ok: r.ok === true, detail: r.detail } : { ok: false, detail: 'check returned nothing' };
}

function errorText(err: unknown): string {
  if (err instanceof DigestError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

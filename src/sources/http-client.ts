/**
 * JSON over HTTP for the http and prometheus sources: undici on the shared keep-alive agent,
 * a response size cap enforced while streaming, and errors that never echo secrets (the URL is
 * shown without its query string; headers are never shown).
 */
import type { Dispatcher } from 'undici';
import { SourceError } from './errors.js';

export interface JsonRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  maxBytes: number;
  dispatcher?: Dispatcher;
  signal: AbortSignal;
  /** Return non-2xx JSON bodies instead of throwing (Prometheus explains its 4xx in JSON). */
  returnErrorBodies?: boolean;
}

export interface JsonResponse {
  status: number;
  data: unknown;
}

/** `https://host/path` — query strings often carry API keys. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}

export async function requestJson(req: JsonRequest): Promise<JsonResponse> {
  const { request } = await import('undici');
  const where = safeUrl(req.url);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'pachca-digest', ...req.headers };
  let body: string | undefined;
  if (req.body !== undefined && req.body !== null) {
    if (typeof req.body === 'string') body = req.body;
    else {
      body = JSON.stringify(req.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
  }
  let res: Dispatcher.ResponseData;
  try {
    res = await request(req.url, {
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body,
      signal: req.signal,
      ...(req.dispatcher ? { dispatcher: req.dispatcher } : {}),
    });
  } catch (err) {
    if (req.signal.aborted) throw req.signal.reason;
    const e = err as Error & { code?: string };
    throw new SourceError(`request to ${where} failed: ${e.code ? `${e.code} ` : ''}${e.message}`, {
      transient: true,
      cause: err,
    });
  }

  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > req.maxBytes) {
    res.body.destroy();
    throw tooLarge(where, req.maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > req.maxBytes) {
        res.body.destroy();
        throw tooLarge(where, req.maxBytes);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    if (req.signal.aborted) throw req.signal.reason;
    throw new SourceError(`reading the response from ${where} failed: ${(err as Error).message}`, { transient: true, cause: err });
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode;
  const ok = status >= 200 && status < 300;

  if (!ok && !req.returnErrorBodies) throw statusError(status, where, text);
  if (text.trim() === '') {
    if (!ok) throw statusError(status, where, text);
    return { status, data: null };
  }
  try {
    return { status, data: JSON.parse(text) };
  } catch {
    if (!ok) throw statusError(status, where, text);
    const type = String(res.headers['content-type'] ?? 'no content-type');
    throw new SourceError(`response from ${where} is not JSON (${type}): ${excerpt(text)}`, {
      hint: 'The http source reads JSON APIs; check the URL and the Accept header.',
    });
  }
}

function statusError(status: number, where: string, text: string): SourceError {
  return new SourceError(`HTTP ${status} from ${where}${text.trim() ? `: ${excerpt(text)}` : ''}`, {
    transient: status >= 500 || status === 429 || status === 408,
    hint:
      status === 401 || status === 403
        ? 'Check the credentials in the source headers (e.g. Authorization: "Bearer ${API_TOKEN}").'
        : status === 404
          ? 'Check the URL.'
          : undefined,
  });
}

function tooLarge(where: string, max: number): SourceError {
  return new SourceError(`response from ${where} is larger than ${formatBytes(max)}`, {
    hint: 'Ask the API for less (filters, paging) or raise the source\'s `max_bytes`.',
  });
}

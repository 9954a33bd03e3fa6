import type { Sandbox } from '../../src/sandbox/index.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** One API call through real HTTP with the sandbox's token; `token: null` sends no Authorization header. */
export async function call(
  sb: Sandbox,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string | null; signal?: AbortSignal } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? sb.token : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const url = path.startsWith('/__sandbox') ? sb.origin + path : sb.baseUrl + path;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: opts.signal,
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export const post = (
  sb: Sandbox,
  message: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  token?: string,
  signal?: AbortSignal,
) => call(sb, 'POST', '/messages', { message, ...extra }, { token, signal });

/** Every ApiError item has the documented keys. */
export function expectApiErrorShape(body: any): void {
  if (!body || !Array.isArray(body.errors) || body.errors.length === 0) throw new Error(`not an ApiError: ${JSON.stringify(body)}`);
  for (const e of body.errors) {
    for (const k of ['key', 'value', 'message', 'code', 'payload']) {
      if (!(k in e)) throw new Error(`ApiError item lacks ${k}: ${JSON.stringify(e)}`);
    }
  }
}

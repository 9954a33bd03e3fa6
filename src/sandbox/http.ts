/**
 * The sandbox's HTTP plumbing: reading bodies, writing replies, error bodies and cancellable
 * waits. No Pachca semantics here (those are in api.ts and the request pipeline in server.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiError, SandboxHttpError } from './errors.js';
import type { Reply } from './router.js';

export async function run(fn: () => Reply | Promise<Reply>): Promise<Reply> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SandboxHttpError) return errorReply(e);
    return { status: 500, body: unhandledBody(e) };
  }
}

export function errorReply(e: SandboxHttpError): { status: number; body: unknown; headers: Record<string, string> } {
  return { status: e.status, body: e.body, headers: e.headers };
}

export function unhandledBody(e: unknown) {
  return {
    errors: [{ key: 'server', value: null, message: `Sandbox error: ${(e as Error)?.message ?? e}`, code: 'unhandled', payload: null }],
  };
}

export function faultStatusReply(
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

/** Writes the reply; returns the headers it sent (null when nothing could be sent). */
export function send(res: ServerResponse, req: IncomingMessage, reply: Reply): Record<string, string> | null {
  if ('stream' in reply || res.destroyed || res.headersSent) return null;
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
  return headers;
}

export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
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
export function sleep(ms: number, res: ServerResponse | null, pending: Set<AbortController>): Promise<boolean> {
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

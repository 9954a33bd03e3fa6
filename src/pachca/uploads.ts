/**
 * The upload flow as Pachca documents it: `POST /uploads` for each file (through the client: paced,
 * retried) → a multipart POST to the returned `direct_url` with every returned field as-is and the
 * file last, without our Authorization header → the key with `${filename}` replaced, for
 * `message.files`. All files of a message are uploaded before the message is posted, so a failed
 * upload fails the delivery and never posts a message with files missing.
 */
import { randomBytes } from 'node:crypto';
import { DigestError } from '../errors.js';
import { backoffDelay, parseRetryAfter, sleep } from './backoff.js';
import { abortError } from './bucket.js';
import type { PachcaClient } from './client.js';
import type { MessageFile } from './types.js';

export interface UploadInput {
  name: string;
  bytes: Buffer;
  contentType: string;
  fileType: MessageFile['file_type'];
  width?: number;
  height?: number;
}

/** `POST /uploads` answer: the form fields plus where to send them. */
export type UploadParams = Record<string, string> & { key: string; direct_url: string };

export interface UploadOptions {
  signal?: AbortSignal;
  /** Fresh parameters asked for after an expired or refused signature (default 2). */
  maxRenewals?: number;
}

/** Storage answers that mean "these parameters are no good any more": ask Pachca for new ones. */
const RENEW_STATUSES = new Set([400, 403]);
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

/** Uploads files one after another; the result is `message.files` in the same order. */
export async function uploadFiles(client: PachcaClient, files: UploadInput[], opts: UploadOptions = {}): Promise<MessageFile[]> {
  const out: MessageFile[] = [];
  for (const f of files) out.push(await uploadFile(client, f, opts));
  return out;
}

export async function uploadFile(client: PachcaClient, file: UploadInput, opts: UploadOptions = {}): Promise<MessageFile> {
  const maxRenewals = opts.maxRenewals ?? 2;
  const started = Date.now();
  const deadline = started + client.retry.maxTotalMs;
  let renewals = 0;
  let failures = 0;
  let params = await getParams(client, opts.signal);
  for (;;) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const r = await postToStorage(params, file, client.timeouts.requestMs, opts.signal);
    if (r.kind === 'ok') break;
    const what = r.kind === 'status' ? `answered ${r.status}${r.detail ? ` (${r.detail})` : ''}` : `failed (${r.error})`;
    if (r.kind === 'status' && RENEW_STATUSES.has(r.status)) {
      // An expired signature (the parameters are short-lived) or a policy the storage refused: new parameters.
      if (++renewals > maxRenewals) throw uploadError(file, `the file storage ${what} ${renewals} times, also with new upload parameters`, 'the upload policy Pachca returned is refused; check the bot\'s `uploads:write` scope and the clock of this machine');
      params = await getParams(client, opts.signal);
      continue;
    }
    const retryable = r.kind === 'network' || RETRY_STATUSES.has(r.status);
    const delay = r.kind === 'status' && r.retryAfterMs !== undefined ? r.retryAfterMs : backoffDelay(failures + 1, client.retry);
    if (!retryable || ++failures > client.retry.retries || Date.now() + delay > deadline) {
      throw uploadError(file, `the file storage ${what}${retryable ? ` after ${failures} attempt(s)` : ''}`, retryable ? 'the file storage is unavailable; the run is retried later and posts nothing until every file is uploaded' : 'the storage refused the file; see the status above');
    }
    await sleep(delay, opts.signal);
  }
  const out: MessageFile = { key: params.key.split('${filename}').join(file.name), name: file.name, file_type: file.fileType, size: file.bytes.length };
  if (file.width !== undefined) out.width = file.width;
  if (file.height !== undefined) out.height = file.height;
  return out;
}

async function getParams(client: PachcaClient, signal: AbortSignal | undefined): Promise<UploadParams> {
  const body = await client.request<Record<string, unknown>>('POST', '/uploads', signal ? { signal } : {});
  // The spec answers UploadParams at the top level; accept a `data` wrapper too.
  const p = (body && typeof body === 'object' && 'data' in body && typeof body.data === 'object' ? body.data : body) as Record<string, unknown>;
  if (!p || typeof p.direct_url !== 'string' || typeof p.key !== 'string') {
    throw new DigestError('E_DELIVERY', 'POST /uploads answered without direct_url and key', { hint: 'the API did not return upload parameters; check the base URL and the bot\'s uploads:write scope' });
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'string' || typeof v === 'number') fields[k] = String(v);
  return fields as UploadParams;
}

type StorageResult =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; detail: string; retryAfterMs?: number }
  | { kind: 'network'; error: string };

/** multipart/form-data by hand: the field order is the contract (policy fields first, `file` last). */
export function multipartBody(params: UploadParams, file: UploadInput): { body: Buffer; contentType: string } {
  const boundary = `----pachca-digest-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  const quote = (s: string) => s.replace(/["\r\n]/g, (c) => encodeURIComponent(c));
  for (const [k, v] of Object.entries(params)) {
    if (k === 'direct_url') continue;
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(k)}"\r\n\r\n${v}\r\n`, 'utf8'));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.name)}"\r\nContent-Type: ${file.contentType}\r\n\r\n`, 'utf8'));
  parts.push(file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function postToStorage(params: UploadParams, file: UploadInput, timeoutMs: number, signal: AbortSignal | undefined): Promise<StorageResult> {
  const { body, contentType } = multipartBody(params, file);
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => ctrl.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // No Authorization header: the signed policy is the credential, and the token must not leave for the storage host.
    // undici only when a message has files: the daemon's plain posts never load it (transport.ts).
    const { request: undiciRequest } = await import('undici');
    const res = await undiciRequest(params.direct_url, { method: 'POST', headers: { 'content-type': contentType }, body, signal: ctrl.signal });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return { kind: 'ok' };
    const retryAfterMs = res.statusCode === 429 || res.statusCode === 503 ? parseRetryAfter(res.headers['retry-after'], Date.now()) : undefined;
    return { kind: 'status', status: res.statusCode, detail: storageDetail(text), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  } catch (e) {
    if (signal?.aborted) throw abortError(signal);
    return { kind: 'network', error: (e as { code?: string }).code ?? (e as Error).message };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** S3-style XML errors carry <Code> and <Message>; anything else, a short excerpt. */
function storageDetail(text: string): string {
  const code = /<Code>([^<]{1,80})<\/Code>/.exec(text)?.[1];
  const msg = /<Message>([^<]{1,160})<\/Message>/.exec(text)?.[1];
  if (code || msg) return [code, msg].filter(Boolean).join(': ');
  return text.replace(/\s+/g, ' ').trim().slice(0, 120);
}

function uploadError(file: UploadInput, message: string, hint: string): DigestError {
  return new DigestError('E_DELIVERY', `upload of ${file.name}: ${message}`, { hint });
}

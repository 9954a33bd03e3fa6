/**
 * Reading API requests the way the real API does: every problem of a message body collected and
 * answered at once (structural ones 400, content rules 422), page and date query parameters.
 * The routes that use them are in api.ts.
 */
import type { EntityType, MessageButton } from '../pachca/index.js';
import { SANDBOX_DEFAULTS } from './defaults.js';
import { apiError, errorItem, SandboxHttpError, type ApiErrorItem } from './errors.js';
import { decodeCursor, type Cursor, type SortOrder } from './pagination.js';
import { intParam, type RequestContext } from './router.js';
import type { StoredFile } from './records.js';

export const ENTITY_TYPES: readonly EntityType[] = ['discussion', 'thread', 'user'];
export const ORDERS: readonly SortOrder[] = ['asc', 'desc'];

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects every problem of a body, then throws once (the real API reports them together). */
export class Problems {
  items: Array<{ status: number; item: ApiErrorItem }> = [];
  add(status: number, key: string, code: string, message: string, value?: unknown): void {
    this.items.push({ status, item: errorItem(key, code, message, value) });
  }
  throwIfAny(): void {
    if (this.items.length === 0) return;
    // Structural (400) problems win: the request was not understood at all.
    const status = this.items.some((p) => p.status === 400) ? 400 : 422;
    throw new SandboxHttpError(status, { errors: this.items.filter((p) => p.status === status).map((p) => p.item) });
  }
}

export function intValue(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  // Rails-style coercion: the real API accepts "334" for an integer field.
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

export function checkShortString(p: Problems, m: Obj, key: string): string | null | undefined {
  const v = m[key];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') {
    p.add(400, key, 'invalid', `${key} must be a string`, v);
    return undefined;
  }
  if (v.length > SANDBOX_DEFAULTS.maxFieldLength) {
    p.add(422, key, 'too_long', `${key} is too long (maximum is ${SANDBOX_DEFAULTS.maxFieldLength} characters)`, v);
  }
  return v;
}

export function checkContent(p: Problems, m: Obj, required: boolean, maxBytes: number): string | undefined {
  const v = m.content;
  if (v === undefined || v === null) {
    if (required) p.add(400, 'content', 'required', 'content is required', v);
    return undefined;
  }
  if (typeof v !== 'string') {
    p.add(400, 'content', 'invalid', 'content must be a string', v);
    return undefined;
  }
  if (v.trim() === '') p.add(422, 'content', 'blank', 'content cannot be blank', v);
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes > maxBytes) {
    p.add(422, 'content', 'too_long', `content is too long (${bytes} bytes, maximum is ${maxBytes})`, null);
  }
  return v;
}

export function checkButtons(p: Problems, m: Obj): MessageButton[][] | undefined {
  const v = m.buttons;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(Array.isArray)) {
    p.add(400, 'buttons', 'invalid', 'buttons must be an array of rows (arrays of buttons)', v);
    return undefined;
  }
  const rows = v as unknown[][];
  const total = rows.reduce((n, r) => n + r.length, 0);
  if (total > SANDBOX_DEFAULTS.maxButtons) {
    p.add(422, 'buttons', 'invalid', `at most ${SANDBOX_DEFAULTS.maxButtons} buttons per message (got ${total})`, null);
  }
  const out: MessageButton[][] = [];
  rows.forEach((row, i) => {
    if (row.length === 0) p.add(422, `buttons[${i}]`, 'invalid', 'a row of buttons cannot be empty', row);
    if (row.length > SANDBOX_DEFAULTS.maxButtonsPerRow) {
      p.add(422, `buttons[${i}]`, 'invalid', `at most ${SANDBOX_DEFAULTS.maxButtonsPerRow} buttons per row`, null);
    }
    const outRow: MessageButton[] = [];
    row.forEach((b, j) => {
      const key = `buttons[${i}][${j}]`;
      if (!isObj(b)) return p.add(400, key, 'invalid', 'a button must be an object', b);
      if (typeof b.text !== 'string') return p.add(400, `${key}.text`, 'invalid', 'button text must be a string', b.text);
      if (b.text.trim() === '') p.add(422, `${key}.text`, 'blank', 'button text cannot be blank', b.text);
      if (b.text.length > SANDBOX_DEFAULTS.maxFieldLength) p.add(422, `${key}.text`, 'too_long', 'button text is too long', b.text);
      const hasUrl = b.url !== undefined && b.url !== null;
      const hasData = b.data !== undefined && b.data !== null;
      if (hasUrl === hasData) {
        return p.add(422, key, 'invalid', 'a button needs exactly one of url or data', b);
      }
      if (hasUrl) {
        if (typeof b.url !== 'string' || !/^https?:\/\/[^\s]+$/i.test(b.url)) {
          return p.add(422, `${key}.url`, 'invalid', 'button url must be an http(s) URL', b.url);
        }
        outRow.push({ text: b.text, url: b.url });
      } else {
        if (typeof b.data !== 'string') return p.add(400, `${key}.data`, 'invalid', 'button data must be a string', b.data);
        if (b.data.length > SANDBOX_DEFAULTS.maxFieldLength) p.add(422, `${key}.data`, 'too_long', 'button data is too long', b.data);
        outRow.push({ text: b.text, data: b.data });
      }
    });
    out.push(outRow);
  });
  return out;
}

export function checkFiles(p: Problems, m: Obj, uploaded?: { has(key: string): boolean }): Array<Omit<StoredFile, 'id' | 'url'>> | undefined {
  const v = m.files;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    p.add(400, 'files', 'invalid', 'files must be an array', v);
    return undefined;
  }
  const out: Array<Omit<StoredFile, 'id' | 'url'>> = [];
  v.forEach((f, i) => {
    if (!isObj(f) || typeof f.key !== 'string' || typeof f.name !== 'string') {
      return p.add(400, `files[${i}]`, 'invalid', 'a file needs string key and name', f);
    }
    if (uploaded && !uploaded.has(f.key)) p.add(422, `files[${i}].key`, 'not_found', 'no file was uploaded with this key', f.key);
    const ext = (s: string) => /\.[^./]*$/.exec(s)?.[0]?.toLowerCase() ?? '';
    if (ext(f.name) !== ext(f.key)) p.add(422, `files[${i}].name`, 'invalid', 'the extension of name must match the extension of key', f.name);
    out.push({
      key: f.key,
      name: f.name,
      file_type: typeof f.file_type === 'string' ? f.file_type : 'file',
      size: typeof f.size === 'number' ? f.size : 0,
      ...(typeof f.width === 'number' ? { width: f.width } : {}),
      ...(typeof f.height === 'number' ? { height: f.height } : {}),
    });
  });
  return out;
}

export function checkBoolean(p: Problems, obj: Obj, key: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') {
    p.add(400, key, 'invalid', `${key} must be a boolean`, v);
    return undefined;
  }
  return v;
}

export function messageObject(ctx: RequestContext): Obj {
  const body = ctx.json();
  if (!isObj(body)) throw apiError(400, 'message', 'required', 'body must be a JSON object with `message`', body);
  if (!isObj(body.message)) throw apiError(400, 'message', 'required', '`message` object is required', body.message);
  return body.message;
}

export function pageParams(ctx: RequestContext) {
  const q = ctx.query;
  const lim = SANDBOX_DEFAULTS.pageLimit;
  const limit = intParam(q.get('limit'), 'limit') ?? lim.default;
  if (limit < lim.min || limit > lim.max) {
    throw apiError(400, 'limit', 'invalid', `limit must be between ${lim.min} and ${lim.max}`, String(limit));
  }
  const c = q.get('cursor');
  const cursor: Cursor | undefined = c ? decodeCursor(c) : undefined;
  return { limit, cursor };
}

export function dateParam(ctx: RequestContext, key: string): number | undefined {
  const v = ctx.query.get(key);
  if (v === null || v === '') return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw apiError(400, key, 'invalid', `${key} must be an ISO-8601 date-time`, v);
  return t;
}

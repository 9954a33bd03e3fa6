/**
 * File uploads as the Pachca API documents them: `POST /uploads` hands out S3-style POST-policy
 * fields and a `direct_url`; the direct URL (no Authorization header, the signed policy is the
 * credential) checks every field against the policy, refuses an expired signature with 403, takes
 * the `file` part only as the last field, and stores the bytes under the key with `${filename}`
 * replaced. Messages may then carry those keys in `files`; the stored files are served for the web view.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Reply, RequestContext, Route } from './router.js';

export const STORAGE_BASE_PATH = '/__storage';
export const FILES_BASE_PATH = '/__sandbox/files';

export const UPLOAD_DEFAULTS = {
  /** How long upload parameters stay valid. */
  ttlMs: 60 * 60 * 1000,
  /** Largest file the direct URL accepts. */
  maxFileBytes: 25 * 1024 * 1024,
} as const;

/** The form fields of UploadParams, in the order the API returns them (the spec's order). */
const POLICY_FIELDS = ['Content-Disposition', 'acl', 'policy', 'x-amz-credential', 'x-amz-algorithm', 'x-amz-date', 'x-amz-signature', 'key'] as const;

export interface StoredUpload {
  key: string;
  name: string;
  contentType: string;
  bytes: Buffer;
  uploadedAt: string;
}

export interface UploadsOptions {
  now: () => number;
  ttlMs?: number;
  maxFileBytes?: number;
}

export class SandboxUploads {
  readonly ttlMs: number;
  readonly maxFileBytes: number;
  readonly #secret = randomBytes(32);
  readonly #now: () => number;
  #files = new Map<string, StoredUpload>();
  #next = 1;
  /** Parameters handed out (tests count them: an expired signature means a second POST /uploads). */
  issued = 0;

  constructor(opts: UploadsOptions) {
    this.#now = opts.now;
    this.ttlMs = opts.ttlMs ?? UPLOAD_DEFAULTS.ttlMs;
    this.maxFileBytes = opts.maxFileBytes ?? UPLOAD_DEFAULTS.maxFileBytes;
  }

  params(origin: string): Record<string, string> {
    const now = this.#now();
    const id = `${now.toString(36)}${(this.#next++).toString(36)}`;
    const date = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const credential = `sandbox/${date.slice(0, 8)}/ru-sandbox-1/s3/aws4_request`;
    const prefix = `attaches/files/${id}/`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(now + this.ttlMs).toISOString(),
        conditions: [
          { bucket: 'sandbox-uploads' },
          ['starts-with', '$key', prefix],
          { 'Content-Disposition': 'attachment' },
          { acl: 'private' },
          { 'x-amz-credential': credential },
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-date': date },
          ['content-length-range', 0, this.maxFileBytes],
        ],
      }),
    ).toString('base64');
    this.issued++;
    return {
      'Content-Disposition': 'attachment',
      acl: 'private',
      policy,
      'x-amz-credential': credential,
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-date': date,
      'x-amz-signature': this.#sign(policy),
      key: `${prefix}\${filename}`,
      direct_url: `${origin}${STORAGE_BASE_PATH}`,
    };
  }

  #sign(policy: string): string {
    return createHmac('sha256', this.#secret).update(policy).digest('hex');
  }

  /** Checks a direct upload the way S3 checks a POST policy; the stored file, or an S3-style error. */
  accept(fields: Map<string, string>, file: { filename: string; contentType: string; bytes: Buffer }): StoredUpload | StorageError {
    for (const f of POLICY_FIELDS) if (!fields.has(f)) return new StorageError(400, 'InvalidArgument', `Bucket POST must contain a field named '${f}'.`);
    const policy = fields.get('policy')!;
    const sig = Buffer.from(fields.get('x-amz-signature')!, 'utf8');
    const want = Buffer.from(this.#sign(policy), 'utf8');
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) {
      return new StorageError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    let doc: { expiration: string; conditions: unknown[] };
    try {
      doc = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
    } catch {
      return new StorageError(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
    }
    if (Date.parse(doc.expiration) <= this.#now()) return new StorageError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    const rawKey = fields.get('key')!;
    for (const c of doc.conditions) {
      if (Array.isArray(c) && c[0] === 'starts-with' && c[1] === '$key' && !rawKey.startsWith(String(c[2]))) {
        return new StorageError(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", ...]');
      }
      if (Array.isArray(c) && c[0] === 'content-length-range' && file.bytes.length > Number(c[2])) {
        return new StorageError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
      }
      if (!Array.isArray(c) && typeof c === 'object' && c !== null) {
        for (const [k, v] of Object.entries(c)) {
          if (k !== 'bucket' && fields.get(k) !== v) return new StorageError(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ["eq", "$${k}", "${String(v)}"]`);
        }
      }
    }
    if (file.filename === '') return new StorageError(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
    const key = rawKey.split('${filename}').join(file.filename);
    const stored: StoredUpload = { key, name: file.filename, contentType: file.contentType, bytes: file.bytes, uploadedAt: new Date(this.#now()).toISOString() };
    this.#files.set(key, stored);
    return stored;
  }

  get(key: string): StoredUpload | undefined {
    return this.#files.get(key);
  }

  has(key: string): boolean {
    return this.#files.has(key);
  }

  list(): StoredUpload[] {
    return [...this.#files.values()];
  }

  reset(): void {
    this.#files.clear();
    this.issued = 0;
  }
}

export class StorageError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}

  reply(): Reply {
    return {
      status: this.status,
      headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${this.code}</Code><Message>${this.message}</Message></Error>`,
    };
  }
}

/** `POST /uploads` of the API table. */
export function uploadApiRoutes(uploads: SandboxUploads, origin: () => string): Route[] {
  return [{ method: 'POST', path: '/uploads', bucket: 'other', handle: () => ({ status: 201, body: uploads.params(origin()) }) }];
}

/** The direct URL (no token: the policy is the credential). */
export function storageRoutes(uploads: SandboxUploads): Route[] {
  return [
    {
      method: 'POST',
      path: '/',
      auth: false,
      maxBodyBytes: uploads.maxFileBytes + 64 * 1024,
      handle(ctx) {
        // The storage is another host: the API token must never be sent there.
        if (ctx.req.headers.authorization) {
          return new StorageError(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified').reply();
        }
        const form = parseMultipart(ctx);
        if (form instanceof StorageError) return form.reply();
        const r = uploads.accept(form.fields, form.file);
        return r instanceof StorageError ? r.reply() : { status: 204 };
      },
    },
  ];
}

/** Stored files, for the web view and the `url` of message files. */
export function fileRoutes(uploads: SandboxUploads): Route[] {
  return [
    {
      method: 'GET',
      path: '/:key',
      handle(ctx) {
        const f = uploads.get(ctx.params.key!);
        if (!f) return { status: 404, body: { error: 'file not found' } };
        const inline = f.contentType.startsWith('image/') || f.contentType.startsWith('text/');
        return {
          status: 200,
          headers: {
            'content-type': f.contentType,
            'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(f.name)}`,
          },
          body: f.bytes,
        };
      },
    },
  ];
}

interface Form {
  fields: Map<string, string>;
  file: { filename: string; contentType: string; bytes: Buffer };
}

/** multipart/form-data: fields before `file`; S3 ignores anything after the file, so a field there is an error. */
function parseMultipart(ctx: RequestContext): Form | StorageError {
  const type = String(ctx.req.headers['content-type'] ?? '');
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!/^multipart\/form-data/i.test(type) || !boundary) return new StorageError(412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data');
  const sep = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const body = ctx.rawBody;
  const fields = new Map<string, string>();
  let file: Form['file'] | undefined;
  let pos = body.indexOf(sep);
  while (pos >= 0) {
    const start = pos + sep.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(sep, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after the boundary and before the next
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd < 0) return new StorageError(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
    const head = part.subarray(0, headEnd).toString('utf8');
    const content = part.subarray(headEnd + 4);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined) return new StorageError(400, 'MalformedPOSTRequest', 'A form part has no name.');
    if (file) return new StorageError(400, 'InvalidArgument', `Field "${name}" comes after the file: the file must be the last field.`);
    if (name === 'file') {
      file = { filename: decodeName(filename ?? ''), contentType: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim() ?? 'application/octet-stream', bytes: Buffer.from(content) };
    } else fields.set(name, content.toString('utf8'));
    pos = next;
  }
  if (!file) return new StorageError(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
  return { fields, file };
}

function decodeName(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

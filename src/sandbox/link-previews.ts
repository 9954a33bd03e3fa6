/**
 * Link previews (unfurl) as Pachca documents them: `POST /messages/{id}/link_previews` with
 * `{ link_previews: { "<url>": { title, description, image_url? | image: { key, name, size? } } } }`,
 * answered 204. Each key must be a link of that message (a URL from its `link_shared` event), and one
 * bad entry fails the whole request — which is why the service sends one URL per request.
 */
import type { SandboxStore } from './store.js';
import { apiError, notFound } from './errors.js';
import type { Route } from './router.js';

export interface StoredLinkPreview {
  url: string;
  title: string;
  description: string;
  image_url: string | null;
  image: { key: string; name: string; size: number | null } | null;
}

/** Links Pachca would find in a message's text (and send in `link_shared`). */
export function linksOf(content: string): string[] {
  return [...new Set([...content.matchAll(/https?:\/\/[^\s<>()\]"'`*]+/g)].map((m) => m[0].replace(/[.,;:!?]+$/, '')))];
}

export class SandboxLinkPreviews {
  readonly #byMessage = new Map<number, Map<string, StoredLinkPreview>>();
  #listeners: Array<(messageId: number) => void> = [];

  get(messageId: number): StoredLinkPreview[] {
    return [...(this.#byMessage.get(messageId)?.values() ?? [])];
  }

  /** All previews, for the web view and tests. */
  all(): Array<{ messageId: number; previews: StoredLinkPreview[] }> {
    return [...this.#byMessage.entries()].map(([messageId, m]) => ({ messageId, previews: [...m.values()] }));
  }

  onChange(fn: (messageId: number) => void): () => void {
    this.#listeners.push(fn);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== fn);
    };
  }

  reset(): void {
    this.#byMessage.clear();
  }

  add(messageId: number, previews: StoredLinkPreview[]): void {
    const m = this.#byMessage.get(messageId) ?? new Map<string, StoredLinkPreview>();
    for (const p of previews) m.set(p.url, p);
    this.#byMessage.set(messageId, m);
    for (const l of this.#listeners) l(messageId);
  }
}

function str(v: unknown): v is string {
  return typeof v === 'string';
}

export function linkPreviewRoutes(store: SandboxStore, previews: SandboxLinkPreviews): Route[] {
  return [
    {
      method: 'POST',
      path: '/messages/:id/link_previews',
      bucket: 'other',
      handle(ctx) {
        const id = Number(ctx.params.id);
        const message = Number.isSafeInteger(id) ? store.message(id) : undefined;
        if (!message || message.deleted_at !== null) throw notFound('id', ctx.params.id, 'Message');
        const body = ctx.json() as { link_previews?: unknown } | undefined;
        const map = body?.link_previews;
        if (!map || typeof map !== 'object' || Array.isArray(map) || Object.keys(map).length === 0) {
          throw apiError(400, 'link_previews', 'blank', 'link_previews is required: an object keyed by URL');
        }
        const links = new Set(linksOf(message.content));
        const out: StoredLinkPreview[] = [];
        // Validated as a whole before anything is stored: one bad URL fails the request.
        for (const [url, raw] of Object.entries(map as Record<string, unknown>)) {
          if (!links.has(url)) throw apiError(422, `link_previews.${url}`, 'invalid', 'URL is not a link of this message');
          const p = (raw ?? {}) as Record<string, unknown>;
          if (!str(p.title) || p.title.trim() === '') throw apiError(422, `link_previews.${url}.title`, 'blank', 'title is required');
          if (!str(p.description)) throw apiError(422, `link_previews.${url}.description`, 'blank', 'description is required');
          let image: StoredLinkPreview['image'] = null;
          if (p.image !== undefined) {
            const im = p.image as Record<string, unknown>;
            if (!im || !str(im.key) || !str(im.name)) throw apiError(422, `link_previews.${url}.image`, 'invalid', 'image needs key and name');
            image = { key: im.key, name: im.name, size: typeof im.size === 'number' ? im.size : null };
          }
          if (p.image_url !== undefined && !str(p.image_url)) throw apiError(422, `link_previews.${url}.image_url`, 'invalid', 'image_url must be a string');
          out.push({ url, title: p.title, description: p.description, image_url: str(p.image_url) ? p.image_url : null, image });
        }
        previews.add(id, out);
        return { status: 204 };
      },
    },
  ];
}

/**
 * DOM building blocks. Message content is untrusted, so every node is built with
 * createElement/textContent (nothing from the API ever goes through innerHTML) and only
 * http(s)/mailto links become anchors.
 */

/** An element the page shell is known to contain (page.ts); a missing one is a bug worth a throw. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page shell has no #${id}`);
  return e as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string | null,
  text?: string | number | null,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/** The URL if it is http(s) or mailto, normalised; null for anything else (javascript:, data:, relative). */
export function safeHref(raw: string): string | null {
  const u = String(raw).trim();
  if (!/^(https?:\/\/|mailto:)/i.test(u)) return null;
  try {
    const p = new URL(u);
    if (p.protocol === 'http:' || p.protocol === 'https:' || p.protocol === 'mailto:') return p.href;
  } catch {
    // not a URL: stays text
  }
  return null;
}

/** A link that opens outside the page and tells the target nothing about it. */
export function anchor(href: string, cls?: string | null): HTMLAnchorElement {
  const a = el('a', cls);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function toast(msg: string): void {
  const t = byId('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    t.hidden = true;
  }, 3500);
}

/** GET a JSON endpoint of the page's own API, never from the cache (the data is live). */
export async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, { cache: 'no-store' });
  return (await r.json()) as T;
}

/** POST JSON to the sandbox's own API; the error message of a refusal (its `errors[0].message`) is thrown. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = (await r.json().catch(() => ({}))) as T & { errors?: Array<{ message?: string }> };
  if (!r.ok) throw new Error(answer.errors?.[0]?.message ?? `HTTP ${r.status}`);
  return answer;
}

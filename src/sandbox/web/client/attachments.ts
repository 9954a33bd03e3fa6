/**
 * A message's files as Pachca shows them: images inline, `.md` files as formatted cards (tables
 * render there), anything else as a download chip.
 */
import type { WebFile } from '../types.js';
import { el } from './dom.js';
import { renderMarkdownCard } from './md-card.js';
import type { MessagePart } from './message.js';

function sizeText(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1).replace('.', ',')} МБ` : n >= 1024 ? `${Math.round(n / 1024)} КБ` : `${n} Б`;
}

/** Same-origin file URLs only: the sandbox serves them; nothing else is fetched or linked. */
function fileUrl(f: WebFile): string | null {
  try {
    const u = new URL(f.url, location.href);
    return u.origin === location.origin ? u.href : null;
  } catch {
    return null;
  }
}

function chip(f: WebFile, url: string | null): HTMLElement {
  const a = el(url ? 'a' : 'span', 'file', `📎 ${f.name} · ${sizeText(f.size)}`);
  if (url && a instanceof HTMLAnchorElement) {
    a.href = url;
    a.download = f.name;
  }
  a.title = f.file_type;
  return a;
}

function image(f: WebFile, url: string): HTMLElement {
  const img = el('img', 'file-image');
  img.src = url;
  img.alt = f.name;
  img.loading = 'lazy';
  const a = el('a', 'file-image-link');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener';
  a.appendChild(img);
  return a;
}

function markdown(f: WebFile, url: string): HTMLElement {
  const box = el('div', 'md-file');
  box.appendChild(el('div', 'md-file-name', `📄 ${f.name}`));
  const body = box.appendChild(el('div', 'md-file-body', 'загрузка…'));
  fetch(url)
    .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
    .then((text) => body.replaceChildren(renderMarkdownCard(text)))
    .catch(() => body.replaceChildren(chip(f, url)));
  return box;
}

export const attachmentsPart: MessagePart = (m) => {
  if (!m.files.length) return null;
  const box = el('div', 'files');
  for (const f of m.files) {
    const url = fileUrl(f);
    if (url && f.file_type === 'image') box.appendChild(image(f, url));
    else if (url && /\.md$/i.test(f.name)) box.appendChild(markdown(f, url));
    else box.appendChild(chip(f, url));
  }
  return box;
};

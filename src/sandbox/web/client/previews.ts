/** Link preview cards under a message, as Pachca shows what an Unfurl bot added. */
import type { WebLinkPreview } from '../types.js';
import { anchor, el, safeHref } from './dom.js';
import type { MessagePart } from './message.js';

function card(p: WebLinkPreview): HTMLElement {
  const box = el('div', 'preview');
  const href = safeHref(p.url);
  const title = href ? anchor(href, 'preview-title') : el('div', 'preview-title');
  title.textContent = p.title;
  box.appendChild(title);
  if (p.description) box.appendChild(el('div', 'preview-text', p.description));
  const src = p.image_url ? safeHref(p.image_url) : null;
  if (src) {
    const img = el('img', 'preview-image');
    img.alt = '';
    img.loading = 'lazy';
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('error', () => img.remove());
    img.src = src;
    box.appendChild(img);
  }
  return box;
}

export const previewsPart: MessagePart = (m) => {
  if (!m.previews?.length) return null;
  const list = el('div', 'previews');
  for (const p of m.previews) list.appendChild(card(p));
  return list;
};

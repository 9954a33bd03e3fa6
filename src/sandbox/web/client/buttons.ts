/** A message's buttons grid: URL buttons open the link; data buttons say what they would send. */
import type { WebButton } from '../types.js';
import { anchor, el, safeHref, toast } from './dom.js';
import type { MessagePart } from './message.js';

function buttonEl(b: WebButton): HTMLElement {
  const href = b.url ? safeHref(b.url) : null;
  if (href) {
    const a = anchor(href, 'msg-button url');
    a.textContent = b.text;
    a.title = b.url ?? '';
    return a;
  }
  const btn = el('button', 'msg-button data', b.text);
  btn.type = 'button';
  btn.title = 'data: ' + (b.data ?? '');
  btn.addEventListener('click', () => toast('Кнопка отправит боту вебхук с data = ' + (b.data ?? '')));
  return btn;
}

export const buttonsPart: MessagePart = (m) => {
  if (!m.buttons?.length) return null;
  const grid = el('div', 'buttons');
  for (const row of m.buttons) {
    const r = el('div', 'button-row');
    for (const b of row) r.appendChild(buttonEl(b));
    grid.appendChild(r);
  }
  return grid;
};

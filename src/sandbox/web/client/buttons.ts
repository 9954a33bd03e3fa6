/**
 * A message's buttons grid: URL buttons open the link; a data button is clicked as Pachca would: the
 * bot gets a `button_click` event (history and webhook), and a running daemon answers it.
 */
import type { WebButton } from '../types.js';
import { anchor, el, postJson, safeHref, toast } from './dom.js';
import type { MessagePart } from './message.js';

async function click(messageId: number, b: WebButton, btn: HTMLButtonElement): Promise<void> {
  btn.disabled = true;
  try {
    await postJson('/__sandbox/bot/click', { message_id: messageId, data: b.data });
    toast('Нажатие отправлено боту: событие button_click с data = ' + (b.data ?? ''));
  } catch (e) {
    toast('Не удалось нажать: ' + (e instanceof Error ? e.message : String(e)));
  } finally {
    btn.disabled = false;
  }
}

function buttonEl(messageId: number, b: WebButton): HTMLElement {
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
  btn.addEventListener('click', () => void click(messageId, b, btn));
  return btn;
}

export const buttonsPart: MessagePart = (m) => {
  if (!m.buttons?.length) return null;
  const grid = el('div', 'buttons');
  for (const row of m.buttons) {
    const r = el('div', 'button-row');
    for (const b of row) r.appendChild(buttonEl(m.id, b));
    grid.appendChild(r);
  }
  return grid;
};

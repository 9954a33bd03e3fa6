/**
 * One message as Pachca shows it: avatar, header, then its parts in order (text, attachments,
 * buttons, replies, thread). A new kind of part (a link preview, an image) is one more entry in
 * MESSAGE_PARTS with its own renderer file; messageEl itself does not change.
 */
import type { WebMessage } from '../types.js';
import { attachmentsPart } from './attachments.js';
import { buttonsPart } from './buttons.js';
import { previewsPart } from './previews.js';
import { el, safeHref } from './dom.js';
import { colorOf, countOf, fullFmt, initials, timeEl } from './format.js';
import { renderContent } from './markup.js';
import { mentions, S } from './state.js';

/** How a message is being shown: in the chat's list, or under its parent (replies, thread). */
export interface MessageContext {
  /** Under a parent: a smaller avatar. */
  small: boolean;
  /** Shown under the message it replies to, so the "reply to #id" note would repeat it. */
  underParent: boolean;
}

/** One part of a message's body; null when the message has none. */
export type MessagePart = (m: WebMessage, ctx: MessageContext) => Node | null;

const replyNote: MessagePart = (m, ctx) =>
  m.parent_message_id && !ctx.underParent ? el('div', 'reply-to', '↳ ответ на сообщение #' + m.parent_message_id) : null;

const textPart: MessagePart = (m) => renderContent(m.content, mentions);

const repliesPart: MessagePart = (m) =>
  m.replies.length ? childrenEl('replies', countOf(m.replies.length, 'ответ', 'ответа', 'ответов'), m.replies) : null;

const threadPart: MessagePart = (m) => {
  const n = m.thread?.messages.length ?? 0;
  return m.thread && n ? childrenEl('thread', 'Тред · ' + countOf(n, 'сообщение', 'сообщения', 'сообщений'), m.thread.messages) : null;
};

/** The body, top to bottom. */
export const MESSAGE_PARTS: MessagePart[] = [replyNote, textPart, previewsPart, attachmentsPart, buttonsPart, repliesPart, threadPart];

function avatarEl(m: WebMessage, name: string, small: boolean): HTMLDivElement {
  const av = el('div', 'avatar ' + colorOf(m.display_name || m.user_id) + (small ? ' sm' : ''), initials(name));
  const user = S.users.get(m.user_id);
  const raw = m.display_avatar_url || user?.image_url;
  const src = raw ? safeHref(raw) : null;
  if (src && !/^mailto:/i.test(src)) {
    const img = el('img');
    img.alt = '';
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('error', () => img.remove());
    img.src = src;
    av.appendChild(img);
  }
  return av;
}

function sizeEl(bytes: number): HTMLSpanElement {
  const size = el('span', 'size', bytes + ' Б');
  size.dataset.bytes = String(bytes);
  size.title = bytes + ' байт в UTF-8 из ' + S.maxBytes + ' допустимых';
  if (bytes > S.maxBytes) size.classList.add('over-limit');
  else if (bytes > S.maxBytes * 0.8) size.classList.add('near-limit');
  return size;
}

function metaEl(m: WebMessage, name: string): HTMLDivElement {
  const meta = el('div', 'meta');
  meta.appendChild(el('span', 'author', name));
  if (S.users.get(m.user_id)?.bot) meta.appendChild(el('span', 'badge', 'бот'));
  meta.appendChild(timeEl(m.created_at));
  if (m.changed_at) {
    const ed = el('span', 'edited', 'изменено');
    ed.title = 'Изменено: ' + fullFmt.format(new Date(m.changed_at));
    meta.appendChild(ed);
  }
  meta.appendChild(sizeEl(m.bytes));
  return meta;
}

export function messageEl(m: WebMessage, ctx: MessageContext = { small: false, underParent: false }): HTMLElement {
  const user = S.users.get(m.user_id);
  const name = m.display_name || (user ? user.name : 'Пользователь ' + m.user_id);
  const art = el('article', 'msg');
  art.id = 'message-' + m.id;
  art.dataset.id = String(m.id);
  if (S.known && !S.known.has(m.id)) art.classList.add('fresh');
  if (S.linked === m.id) art.classList.add('linked');
  art.appendChild(avatarEl(m, name, ctx.small));
  const body = el('div', 'msg-body');
  body.appendChild(metaEl(m, name));
  for (const part of MESSAGE_PARTS) {
    const node = part(m, ctx);
    if (node) body.appendChild(node);
  }
  art.appendChild(body);
  return art;
}

/** Replies or a thread under their parent; a reply to a thread message sits right under it. */
function childrenEl(kind: 'replies' | 'thread', title: string, list: WebMessage[]): HTMLDivElement {
  const box = el('div', 'children ' + kind);
  box.appendChild(el('div', 'children-title', title));
  for (const c of list) {
    // Nested replies are flattened here, so a message's own replies part must not repeat them.
    box.appendChild(messageEl({ ...c, replies: [] }, { small: true, underParent: kind === 'replies' }));
    for (const r of c.replies) box.appendChild(messageEl(r, { small: true, underParent: true }));
  }
  return box;
}

/** Every message id a chat shows, nested ones included. */
export function shownIds(messages: WebMessage[]): Set<number> {
  const seen = new Set<number>();
  const add = (m: WebMessage) => {
    seen.add(m.id);
    m.replies.forEach(add);
    m.thread?.messages.forEach(add);
  };
  messages.forEach(add);
  return seen;
}

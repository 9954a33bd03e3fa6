/** The sidebar's chat list and the open chat's messages, loaded from `/__web/api/state`. */
import type { WebState } from '../types.js';
import { byId, el, getJson } from './dom.js';
import { countOf } from './format.js';
import { messageEl, shownIds } from './message.js';
import { S } from './state.js';
import { showView } from './views.js';

function renderChats(): void {
  const nav = byId('chats');
  nav.textContent = '';
  for (const c of S.chats) {
    const b = el('button', 'chat-item');
    b.type = 'button';
    b.dataset.chatId = String(c.id);
    if (c.id === S.chatId) b.classList.add('active');
    if (S.unread.has(c.id)) b.classList.add('unread');
    b.appendChild(el('span', 'chat-icon', c.kind === 'direct' ? '@' : c.channel ? '≡' : '#'));
    b.appendChild(el('span', 'chat-name', c.name));
    b.appendChild(el('span', 'chat-count', c.count));
    b.addEventListener('click', () => {
      S.follow = false;
      selectChat(c.id);
    });
    nav.appendChild(b);
  }
}

/** Opens a chat (and scrolls to `focus`, a message id, once it is painted). */
export function selectChat(id: number, focus: number | null = null): void {
  S.chatId = id;
  S.known = null;
  S.focus = focus;
  S.linked = focus;
  S.unread.delete(id);
  history.replaceState(null, '', focus ? '/chats/' + id + '#message-' + focus : '/#chat-' + id);
  showView('messages');
  void refresh();
}

function emptyChat(chatId: number): HTMLElement {
  const empty = el('div', 'empty');
  empty.appendChild(el('div', null, 'В этом чате пока нет сообщений. Отправьте что-нибудь через API:'));
  empty.appendChild(
    el(
      'pre',
      null,
      'curl -X POST ' + S.baseUrl + '/messages \\\n  -H "Authorization: Bearer sandbox" -H "Content-Type: application/json" \\\n' +
        '  -d \'{"message":{"entity_id":' + chatId + ',"content":"**Привет**"}}\'',
    ),
  );
  return empty;
}

function renderMessages(chat: WebState['chat']): void {
  const box = byId('messages');
  const view = byId('view-messages');
  const atBottom = view.scrollHeight - view.scrollTop - view.clientHeight < 60;
  const prevTop = view.scrollTop;
  box.textContent = '';
  const ids = shownIds(chat?.messages ?? []);
  // In the Jobs view the header is the Jobs view's own.
  if (S.view === 'messages') {
    byId('chat-title').textContent = chat ? chat.name : 'Нет чатов';
    byId('chat-sub').textContent = chat ? 'id ' + chat.id + ' · ' + countOf(ids.size, 'сообщение', 'сообщения', 'сообщений') : '';
  }
  if (!chat) return;
  if (!chat.messages.length) box.appendChild(emptyChat(chat.id));
  for (const m of chat.messages) box.appendChild(messageEl(m));
  const firstPaint = S.known === null;
  S.known = ids;
  const target = S.focus !== null ? document.getElementById('message-' + S.focus) : null;
  if (target) {
    target.scrollIntoView({ block: 'center' });
    // Restart the highlight even when the message was already known.
    target.classList.remove('fresh');
    void target.offsetWidth;
    target.classList.add('fresh');
    S.focus = null;
  } else if (firstPaint || atBottom) view.scrollTop = view.scrollHeight;
  else view.scrollTop = prevTop;
}

function latestChat() {
  let best: (typeof S.chats)[number] | null = null;
  for (const c of S.chats) {
    if (c.last_message_at && (!best || c.last_message_at > (best.last_message_at ?? ''))) best = c;
  }
  return best ?? S.chats[0] ?? null;
}

function applyState(data: WebState, asked: number | null): void {
  // Another chat was opened while this answer was on its way: it is stale, load again.
  if (asked !== S.chatId) {
    again = true;
    return;
  }
  // The server opens a thread's chat as its parent's (where the thread is shown).
  if (data.chat && asked !== null && data.chat.id !== asked) S.chatId = data.chat.id;
  S.baseUrl = data.baseUrl;
  S.maxBytes = data.maxContentBytes;
  S.users = new Map(data.users.map((u) => [u.id, u]));
  S.byNick = new Map(data.users.map((u) => [String(u.nickname).toLowerCase(), u]));
  const counts = new Map<number, number>();
  for (const c of data.chats) {
    counts.set(c.id, c.count);
    if (S.counts && c.id !== S.chatId && c.count > (S.counts.get(c.id) ?? 0)) S.unread.add(c.id);
  }
  S.counts = counts;
  S.chats = data.chats.slice().sort((a, b) => a.id - b.id);
  const latest = latestChat();
  // Following: the chat with the newest message; a chat that is gone (reset): the latest too.
  if (latest && ((S.follow && latest.id !== S.chatId) || S.chatId === null || !counts.has(S.chatId))) {
    S.chatId = latest.id;
    S.known = null;
    S.unread.delete(latest.id);
    again = true;
    return;
  }
  renderChats();
  renderMessages(data.chat);
}

let loading = false;
let again = false;

/** Loads and paints the current chat; a call while one is in flight makes one more load after it. */
export async function refresh(): Promise<void> {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    const asked = S.chatId;
    const q = asked === null ? '' : '?chat_id=' + encodeURIComponent(asked);
    applyState(await getJson<WebState>('/__web/api/state' + q), asked);
  } catch {
    // the next event or poll retries
  } finally {
    loading = false;
  }
  if (again) {
    again = false;
    await refresh();
  }
}

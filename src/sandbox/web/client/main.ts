/**
 * The sandbox web view's script (bundled by esbuild into `/__web/app.js`). It fills the page shell
 * (page.ts) from `/__web/api/*` and repaints on the sandbox's server-sent events.
 *
 * Addresses it understands: `/#chat-102` (a chat), and the message links the API and the CLI print,
 * `/chats/103#message-7` (that message, scrolled to and highlighted; a thread's chat opens its parent's).
 */
import { selectChat, refresh } from './chat.js';
import { setUpComposer } from './composer.js';
import { byId } from './dom.js';
import { refreshJobs, type JobsHooks } from './jobs.js';
import { S, type View } from './state.js';
import { refreshStats } from './stats.js';
import { onViewShown, showView } from './views.js';

let pending: ReturnType<typeof setTimeout> | null = null;

/** Many events in a burst (a digest split in parts) make one repaint. */
function soon(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    void refresh();
    void refreshStats();
  }, 60);
}

const jobsHooks: JobsHooks = {
  openMessage(chatId, messageId) {
    S.follow = false;
    selectChat(chatId, messageId);
  },
  changed: soon,
};

function connect(): void {
  const live = byId('live');
  const es = new EventSource('/__sandbox/events');
  es.onopen = () => {
    live.className = 'live on';
    live.textContent = 'онлайн';
    soon();
  };
  es.onerror = () => {
    live.className = 'live off';
    live.textContent = 'нет связи';
  };
  for (const name of ['message:created', 'message:updated', 'message:deleted', 'chat:created', 'thread:created', 'link_previews:added']) {
    es.addEventListener(name, soon);
  }
  es.addEventListener('reset', () => {
    S.known = null;
    S.unread.clear();
    S.counts = null;
    soon();
  });
}

/** Where the address points: a chat, and maybe a message in it. */
function target(): { chatId: number; messageId: number | null } | null {
  const chat = /^#chat-(\d+)$/.exec(location.hash);
  if (chat) return { chatId: Number(chat[1]), messageId: null };
  const path = /^\/chats\/(\d+)\/?$/.exec(location.pathname);
  const message = /^#message-(\d+)$/.exec(location.hash);
  if (path) return { chatId: Number(path[1]), messageId: message ? Number(message[1]) : null };
  return null;
}

function start(): void {
  S.jobsEnabled = document.body.dataset.jobs === '1';
  setUpComposer(soon);
  onViewShown('jobs', () => {
    if (S.jobsEnabled) void refreshJobs(jobsHooks);
  });
  document.querySelectorAll<HTMLElement>('.tab').forEach((t) => {
    t.addEventListener('click', () => {
      const v = t.dataset.view as View;
      showView(v);
      if (v === 'messages') void refresh();
    });
  });
  const at = target();
  if (at) {
    S.chatId = at.chatId;
    S.focus = at.messageId;
    S.linked = at.messageId;
    S.follow = false;
  }
  window.addEventListener('hashchange', () => {
    const t = target();
    if (t && (t.chatId !== S.chatId || t.messageId !== null)) {
      S.follow = false;
      selectChat(t.chatId, t.messageId);
    }
  });
  void refresh();
  void refreshStats();
  connect();
  // GETs and failed requests change no message, so the panel polls as well as listening.
  setInterval(() => {
    if (!document.hidden) void refreshStats();
  }, 1500);
  setInterval(() => {
    if (!document.hidden && S.view === 'jobs' && S.jobsEnabled) void refreshJobs(jobsHooks);
  }, 15000);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

/** Messages or Jobs: the tabs switch the main area and its header. */
import { byId } from './dom.js';
import { S, type View } from './state.js';

const shownHooks: Partial<Record<View, () => void>> = {};

/** What to do each time a view is shown (the Jobs view reloads its list). */
export function onViewShown(view: View, hook: () => void): void {
  shownHooks[view] = hook;
}

export function showView(v: View): void {
  S.view = v;
  document.querySelectorAll<HTMLElement>('.tab').forEach((t) => t.classList.toggle('active', t.dataset.view === v));
  byId('view-messages').hidden = v !== 'messages';
  byId('view-jobs').hidden = v !== 'jobs';
  if (v === 'jobs') {
    byId('chat-title').textContent = 'Задания';
    byId('chat-sub').textContent = 'из конфигурации; «Запустить сейчас» отправит дайджест в песочницу';
  }
  shownHooks[v]?.();
}

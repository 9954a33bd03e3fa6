/**
 * The chat's composer: a person of the company writes in the open chat. Links to the domains the
 * bot unfurls become `link_shared` events, so the page shows the preview cards the service adds.
 */
import { byId, postJson, toast } from './dom.js';
import { S } from './state.js';

export function setUpComposer(changed: () => void): void {
  const form = byId<HTMLFormElement>('composer');
  const input = byId<HTMLInputElement>('composer-text');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const content = input.value.trim();
    if (!content || S.chatId === null) return;
    input.disabled = true;
    postJson('/__sandbox/chats/' + S.chatId + '/messages', { content })
      .then(() => {
        input.value = '';
        changed();
      })
      .catch((err: unknown) => toast('Не отправлено: ' + (err instanceof Error ? err.message : String(err))))
      .finally(() => {
        input.disabled = false;
        input.focus();
      });
  });
}

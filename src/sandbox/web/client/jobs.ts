/** The Jobs view: the configured jobs, their next runs, and «Запустить сейчас». */
import type { WebJobInfo, WebJobRunResponse } from '../types.js';
import { byId, el, getJson } from './dom.js';
import { fullFmt, viewerZone, zoneFmt } from './format.js';

/** What the Jobs view needs from the rest of the page. */
export interface JobsHooks {
  /** Open a posted message in its chat. */
  openMessage(chatId: number, messageId: number): void;
  /** Something was posted: reload what shows it. */
  changed(): void;
}

function nameCell(j: WebJobInfo): HTMLTableCellElement {
  const c = el('td');
  c.appendChild(el('div', 'job-name', j.name));
  if (j.description) c.appendChild(el('div', 'job-desc', j.description));
  if (!j.enabled) c.appendChild(el('div', 'disabled-badge', 'выключено'));
  return c;
}

function scheduleCell(j: WebJobInfo): HTMLTableCellElement {
  const c = el('td');
  c.appendChild(el('div', null, j.scheduleText));
  const sub = el('div', 'job-sub');
  sub.appendChild(el('code', null, j.schedule));
  sub.appendChild(document.createTextNode(' · ' + j.timezone));
  c.appendChild(sub);
  return c;
}

function nextCell(j: WebJobInfo): HTMLTableCellElement {
  const c = el('td', 'job-next');
  const f = zoneFmt(j.timezone);
  if (!j.next.length) c.appendChild(el('div', 'muted', '—'));
  for (const iso of j.next.slice(0, 3)) {
    const line = el('div', 'next-run', f.format(new Date(iso)));
    line.dataset.iso = iso;
    line.title = fullFmt.format(new Date(iso)) + ' (' + viewerZone + ')';
    c.appendChild(line);
  }
  return c;
}

function runCell(j: WebJobInfo, hooks: JobsHooks): HTMLTableCellElement {
  const c = el('td');
  const btn = el('button', 'run-now', 'Запустить сейчас');
  btn.type = 'button';
  const result = el('div', 'job-result');
  btn.addEventListener('click', () => void runJob(j.name, btn, result, hooks));
  c.appendChild(btn);
  c.appendChild(result);
  return c;
}

function renderJobs(list: WebJobInfo[], hooks: JobsHooks): void {
  const box = byId('jobs');
  box.textContent = '';
  if (!list.length) {
    box.appendChild(el('div', 'empty', 'В конфигурации нет заданий.'));
    return;
  }
  const table = el('table');
  const head = el('tr');
  for (const h of ['Задание', 'Расписание', 'Ближайшие запуски', '']) head.appendChild(el('th', null, h));
  table.appendChild(el('thead')).appendChild(head);
  const tbody = el('tbody');
  for (const j of list) {
    const tr = el('tr', 'job');
    tr.dataset.job = j.name;
    tr.append(nameCell(j), scheduleCell(j), nextCell(j), runCell(j, hooks));
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  box.appendChild(table);
}

interface RunAnswer {
  data?: WebJobRunResponse;
  errors?: Array<{ message?: string }>;
}

function showResult(result: HTMLElement, ok: boolean, body: RunAnswer, hooks: JobsHooks): void {
  const d = body.data;
  result.textContent = '';
  if (!d) {
    result.className = 'job-result fail';
    result.textContent = body.errors?.[0]?.message || 'ошибка';
    return;
  }
  result.dataset.status = d.status;
  result.className = 'job-result ' + (d.error || !ok ? 'fail' : 'ok');
  result.appendChild(document.createTextNode(d.status + (d.error ? ': ' + d.error : '')));
  for (const m of d.messages ?? []) {
    const a = el('a', 'job-message', '#' + m.id);
    a.href = '#message-' + m.id;
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      if (m.chat_id !== null) hooks.openMessage(m.chat_id, m.id);
    });
    result.appendChild(a);
  }
}

async function runJob(name: string, btn: HTMLButtonElement, result: HTMLElement, hooks: JobsHooks): Promise<void> {
  btn.disabled = true;
  result.className = 'job-result';
  result.textContent = 'выполняется…';
  try {
    const r = await fetch('/__web/api/jobs/run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    showResult(result, r.ok, (await r.json()) as RunAnswer, hooks);
  } catch (e) {
    result.className = 'job-result fail';
    result.textContent = String(e);
  } finally {
    btn.disabled = false;
    hooks.changed();
  }
}

export async function refreshJobs(hooks: JobsHooks): Promise<void> {
  try {
    const b = await getJson<{ data?: WebJobInfo[] }>('/__web/api/jobs');
    renderJobs(b.data ?? [], hooks);
  } catch {
    byId('jobs').textContent = 'Не удалось загрузить задания.';
  }
}

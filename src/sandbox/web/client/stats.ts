/** The side panel: what the client did to the sandbox (requests by endpoint and status, 429s, faults). */
import type { WebStatsResponse } from '../types.js';
import { byId, el, getJson } from './dom.js';
import { timeFmt } from './format.js';

function statusClass(s: string): string {
  if (s === '429') return 's429';
  if (/^\d/.test(s)) return 's' + s[0];
  return 'sreset';
}

function tile(value: number, label: string, stat: string, alert = false): HTMLDivElement {
  const t = el('div', 'tile' + (alert ? ' alert' : ''));
  t.dataset.stat = stat;
  t.appendChild(el('div', 'tile-value', value));
  t.appendChild(el('div', 'tile-label', label));
  return t;
}

function chip(status: string, text: string): HTMLSpanElement {
  return el('span', 'chip ' + statusClass(status), text);
}

function endpointsEl(byEndpoint: WebStatsResponse['stats']['byEndpoint']): HTMLElement[] {
  const eps = Object.keys(byEndpoint).sort();
  if (!eps.length) return [el('div', 'muted', 'Запросов к API ещё не было.')];
  return eps.map((ep) => {
    const row = el('div', 'ep-row');
    row.dataset.endpoint = ep;
    row.appendChild(el('span', 'ep-name', ep));
    const chips = el('span', 'chips');
    const counts = byEndpoint[ep] ?? {};
    for (const s of Object.keys(counts).sort()) {
      const ch = chip(s, s + ' × ' + counts[s]);
      ch.dataset.status = s;
      chips.appendChild(ch);
    }
    row.appendChild(chips);
    return row;
  });
}

function requestEl(r: WebStatsResponse['requests'][number]): HTMLDivElement {
  const row = el('div', 'req');
  const at = new Date(r.time);
  row.appendChild(el('span', 'req-time', timeFmt.format(at) + ':' + String(at.getSeconds()).padStart(2, '0')));
  const p = el('span', 'req-path', r.method + ' ' + r.path.replace(/^\/api\/shared\/v1/, ''));
  p.title = r.path;
  row.appendChild(p);
  const s = r.status === null ? r.outcome : String(r.status);
  const right = el('span', 'chips');
  if (r.fault) right.appendChild(el('span', 'fault-tag', r.fault));
  right.appendChild(chip(s, s));
  row.appendChild(right);
  return row;
}

function renderStats(d: WebStatsResponse): void {
  const box = byId('stats');
  box.textContent = '';
  const st = d.stats;
  const tiles = el('div', 'tiles');
  tiles.appendChild(tile(st.requests, 'запросов', 'requests'));
  tiles.appendChild(tile(st.rateLimited, 'ответов 429', 'rate-limited', st.rateLimited > 0));
  tiles.appendChild(tile(st.faultsInjected, 'сбоев внедрено', 'faults', st.faultsInjected > 0));
  box.appendChild(tiles);

  box.appendChild(el('h3', null, 'По методам'));
  box.append(...endpointsEl(st.byEndpoint));

  const kinds = Object.keys(st.faultsByKind);
  if (kinds.length || d.faults.length) {
    box.appendChild(el('h3', null, 'Сбои'));
    for (const k of kinds) box.appendChild(el('div', 'ep-row fault-kind', k + ': ' + st.faultsByKind[k]));
    for (const f of d.faults) {
      box.appendChild(el('div', 'muted', 'активен #' + f.id + ' ' + f.kind + ', осталось ' + (f.remaining === null ? '∞' : f.remaining)));
    }
  }

  box.appendChild(el('h3', null, 'Последние запросы'));
  for (const r of d.requests) box.appendChild(requestEl(r));
}

let busy = false;

export async function refreshStats(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    renderStats(await getJson<WebStatsResponse>('/__web/api/stats'));
  } catch {
    // the next poll retries
  } finally {
    busy = false;
  }
}

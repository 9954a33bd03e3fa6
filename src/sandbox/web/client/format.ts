/** How times, names and counts read on the page (ru-RU, the viewer's own time zone). */
import { el } from './dom.js';

const HM: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
export const timeFmt = new Intl.DateTimeFormat('ru-RU', HM);
const dayFmt = new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'short' });
export const fullFmt = new Intl.DateTimeFormat('ru-RU', { dateStyle: 'long', timeStyle: 'medium' });
export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** A `<time>`: the hour today, the day and hour otherwise; the full date and zone on hover. */
export function timeEl(iso: string, cls = 'time'): HTMLTimeElement {
  const d = new Date(iso);
  const t = el('time', cls, (sameDay(d, new Date()) ? '' : dayFmt.format(d) + ', ') + timeFmt.format(d));
  t.dateTime = iso;
  t.title = fullFmt.format(d) + ' (' + viewerZone + ')';
  return t;
}

/** A formatter for times in a job's own zone; the viewer's when the zone is unknown to the browser. */
export function zoneFmt(zone: string): Intl.DateTimeFormat {
  const opts: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short', ...HM };
  try {
    return new Intl.DateTimeFormat('ru-RU', { ...opts, timeZone: zone });
  } catch {
    return new Intl.DateTimeFormat('ru-RU', opts);
  }
}

export function initials(name: string): string {
  const parts = String(name).trim().split(/\s+/).filter(Boolean);
  return ((parts[0] ?? '?')[0]! + (parts[1] ? parts[1][0] : '')).toUpperCase();
}

/** One of eight avatar colours, stable for a name. */
export function colorOf(key: string | number): string {
  let h = 0;
  const s = String(key);
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return 'c' + (h % 8);
}

/** Russian plural form: 1 ответ, 2 ответа, 5 ответов. */
export function plural(n: number, one: string, few: string, many: string): string {
  const m10 = n % 10;
  const m100 = n % 100;
  return m10 === 1 && m100 !== 11 ? one : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? few : many;
}

export function countOf(n: number, one: string, few: string, many: string): string {
  return n + ' ' + plural(n, one, few, many);
}

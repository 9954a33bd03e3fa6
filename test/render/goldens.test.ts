/**
 * Golden outputs of every helper in both shipped locales: one row per case, the ru-RU and en-US
 * text side by side, and a check that no helper is left without a row.
 */
import { describe, expect, it } from 'vitest';
import { createTemplateEngine, HELPER_NAMES } from '../../src/render/index.js';

const engine = createTemplateEngine({ templatesDir: '/nonexistent-templates-dir' });
const origin = { file: 'goldens.hbs', line: 1, column: 1, path: 'goldens' };
const NB = '\u00a0';

function render(src: string, ctx: Record<string, unknown>, locale: string): string {
  return engine.compileInline(src, origin).render(ctx, { locale, timezone: 'Europe/Moscow' });
}

interface Golden {
  helper: string;
  tpl: string;
  /** When en-US needs other arguments (plural word forms). */
  tplEn?: string;
  ctx?: Record<string, unknown>;
  ru: string;
  en: string;
}

const rows = [
  { name: 'Бета', v: 5, team: { id: 2 } },
  { name: 'Альфа', v: 12, team: { id: 1 } },
  { name: 'Гамма', v: null, team: { id: 3 } },
];
const msk = (iso: string) => new Date(`${iso}+03:00`);
const day = { start: msk('2026-11-24T00:00:00'), end: msk('2026-11-25T00:00:00') };
const week = { start: msk('2026-11-17T00:00:00'), end: msk('2026-11-24T00:00:00') };

const GOLDENS: Golden[] = [
  // numbers
  { helper: 'number', tpl: '{{number 1234567.5}}', ru: `1${NB}234${NB}567,5`, en: '1,234,567.5' },
  { helper: 'number', tpl: '{{number 2 2}}', ru: '2,00', en: '2.00' },
  { helper: 'number', tpl: '{{number x}}', ctx: { x: null }, ru: '—', en: '—' },
  { helper: 'compact', tpl: '{{compact 1234567}}', ru: `1,2${NB}млн`, en: '1.2M' },
  { helper: 'percent', tpl: '{{percent 0.125}}', ru: `12,5${NB}%`, en: '12.5%' },
  { helper: 'currency', tpl: '{{currency 1234.5}}', ru: `1${NB}234,50${NB}₽`, en: '₽1,234.50' },
  { helper: 'currency', tpl: '{{currency 99.9 "USD" 0}}', ru: `100${NB}$`, en: '$100' },
  { helper: 'delta', tpl: '{{delta 112.5 100}}', ru: '▲ +12,5%', en: '▲ +12.5%' },
  { helper: 'delta', tpl: '{{delta 97 100}} {{delta 5 0}} {{delta 5 null}}', ru: '▼ −3% ▲ новое —', en: '▼ −3% ▲ new —' },
  { helper: 'change', tpl: '{{change 1000 2500}}', ru: `▼ −1${NB}500 (−60%)`, en: '▼ −1,500 (−60%)' },
  { helper: 'change', tpl: '{{change 1200.5 1000}}', ru: '▲ +200,5 (+20,1%)', en: '▲ +200.5 (+20.1%)' },
  { helper: 'status', tpl: '{{status 1 5 10}}{{status 7 5 10}}{{status 12 5 10}}{{status 93 95 90 true}}{{status x 1 2}}', ctx: { x: null }, ru: '🟢🟡🔴🟡⚪', en: '🟢🟡🔴🟡⚪' },
  // dates
  { helper: 'date', tpl: '{{date d}}', ctx: { d: new Date('2026-11-24T10:30:00Z') }, ru: '24 ноября 2026, 13:30', en: '24 November 2026, 13:30' },
  { helper: 'date', tpl: '{{date d "cccc, d MMM"}}', ctx: { d: '2026-11-24T10:30:00Z' }, ru: 'вторник, 24 нояб.', en: 'Tuesday, 24 Nov' },
  { helper: 'period', tpl: '{{period}}', ctx: { period: day }, ru: 'за 24 ноября', en: 'for November 24' },
  { helper: 'period', tpl: '{{period p}}', ctx: { p: week }, ru: 'за неделю 17–23 ноября', en: 'for the week of November 17–23' },
  { helper: 'duration', tpl: '{{duration 7500000}} · {{duration 93784000 3}} · {{duration 850}}', ru: '2 ч 5 мин · 1 д 2 ч 3 мин · 850 мс', en: '2 h 5 min · 1 d 2 h 3 min · 850 ms' },
  // text
  {
    helper: 'plural',
    tpl: '{{plural 1 "задача" "задачи" "задач"}}, {{plural 3 "задача" "задачи" "задач"}}, {{plural 5 "задача" "задачи" "задач"}}, {{plural 1.5 "задача" "задачи" "задач"}}',
    tplEn: '{{plural 1 "task" "tasks"}}, {{plural 3 "task" "tasks"}}, {{plural 5 "task" "tasks"}}, {{plural 1.5 "task" "tasks"}}',
    ru: '1 задача, 3 задачи, 5 задач, 1,5 задачи',
    en: '1 task, 3 tasks, 5 tasks, 1.5 tasks',
  },
  {
    helper: 'plural',
    tpl: '{{plural 1000 "задача" "задачи" "задач"}} / {{plural 21 "задача" "задачи" "задач" with_number=false}}',
    tplEn: '{{plural 1000 "task" "tasks"}} / {{plural 21 "task" "tasks" with_number=false}}',
    ru: `1${NB}000 задач / задача`,
    en: '1,000 tasks / tasks',
  },
  { helper: 'truncate', tpl: '{{truncate s 20}}', ctx: { s: 'Очень длинное название задачи' }, ru: 'Очень длинное…', en: 'Очень длинное…' },
  { helper: 'default', tpl: '{{default x "—"}} {{default y "—"}}', ctx: { x: null, y: 0 }, ru: '— 0', en: '— 0' },
  { helper: 'join', tpl: '{{join a " · "}}', ctx: { a: ['Альфа', 'Бета'] }, ru: 'Альфа · Бета', en: 'Альфа · Бета' },
  // math and logic
  { helper: 'add', tpl: '{{number (add 1000 0.5)}}', ru: `1${NB}000,5`, en: '1,000.5' },
  { helper: 'sub', tpl: '{{number (sub 5 7.5)}}', ru: '-2,5', en: '-2.5' },
  { helper: 'mul', tpl: '{{number (mul 1.5 1000)}}', ru: `1${NB}500`, en: '1,500' },
  { helper: 'div', tpl: '{{number (div 1 3) 2}}', ru: '0,33', en: '0.33' },
  { helper: 'round', tpl: '{{number (round 2.567 1)}}', ru: '2,6', en: '2.6' },
  { helper: 'gt', tpl: '{{#if (gt 2 1)}}да{{/if}}{{#if (gt x 0)}}нет{{/if}}', ctx: { x: null }, ru: 'да', en: 'да' },
  { helper: 'gte', tpl: '{{#if (gte 1 1)}}да{{/if}}', ru: 'да', en: 'да' },
  { helper: 'lt', tpl: '{{#if (lt "4" 5)}}да{{/if}}', ru: 'да', en: 'да' },
  { helper: 'lte', tpl: '{{#if (lte 6 5)}}да{{else}}нет{{/if}}', ru: 'нет', en: 'нет' },
  { helper: 'eq', tpl: '{{#if (eq "5" 5)}}да{{/if}}', ru: 'да', en: 'да' },
  { helper: 'ne', tpl: '{{#if (ne a b)}}да{{/if}}', ctx: { a: 1, b: 2 }, ru: 'да', en: 'да' },
  { helper: 'and', tpl: '{{#if (and 1 a)}}да{{else}}нет{{/if}}', ctx: { a: [] }, ru: 'нет', en: 'нет' },
  { helper: 'or', tpl: '{{#if (or 0 a "x")}}да{{/if}}', ctx: { a: [] }, ru: 'да', en: 'да' },
  { helper: 'not', tpl: '{{#if (not a)}}пусто{{/if}}', ctx: { a: [] }, ru: 'пусто', en: 'пусто' },
  // arrays
  { helper: 'sum', tpl: '{{number (sum rows "v")}}', ctx: { rows }, ru: '17', en: '17' },
  { helper: 'avg', tpl: '{{number (avg rows "v")}} {{number (avg e)}}', ctx: { rows, e: [] }, ru: '8,5 —', en: '8.5 —' },
  { helper: 'min', tpl: '{{number (min a)}}', ctx: { a: [1500.5, 20.25] }, ru: '20,25', en: '20.25' },
  { helper: 'max', tpl: '{{number (max a)}}', ctx: { a: [1500.5, 20.25] }, ru: `1${NB}500,5`, en: '1,500.5' },
  { helper: 'count', tpl: '{{count rows}} {{count o}} {{count n}}', ctx: { rows, o: { a: 1 }, n: null }, ru: '3 1 0', en: '3 1 0' },
  { helper: 'sortBy', tpl: '{{join (pluck (sortBy rows "name") "name")}}; {{join (pluck (sortBy rows "v" "desc") "name")}}', ctx: { rows }, ru: 'Альфа, Бета, Гамма; Альфа, Бета, Гамма', en: 'Альфа, Бета, Гамма; Альфа, Бета, Гамма' },
  { helper: 'top', tpl: '{{#each (top rows 2 "v")}}{{name}} {{/each}}', ctx: { rows }, ru: 'Альфа Бета', en: 'Альфа Бета' },
  { helper: 'pluck', tpl: '{{join (pluck rows "team.id") "/"}}', ctx: { rows }, ru: '2/1/3', en: '2/1/3' },
  // Pachca
  { helper: 'mention', tpl: '{{mention id}}', ctx: { id: '42' }, ru: '<@42>', en: '<@42>' },
  { helper: 'attachments_note', tpl: '{{attachments_note}}', ctx: { attachments: [{ kind: 'chart', name: 'revenue.png', title: 'Выручка' }, { kind: 'table', name: 'регионы.md', title: null }] }, ru: '📎 Во вложении: график «Выручка», таблица регионы.md', en: '📎 Attached: chart "Выручка", table регионы.md' },
  { helper: 'link', tpl: '{{link "Дашборд *Q4*" "https://grafana.example.ru/d/a(b)"}}', ru: '[Дашборд \\*Q4\\*](https://grafana.example.ru/d/a%28b%29)', en: '[Дашборд \\*Q4\\*](https://grafana.example.ru/d/a%28b%29)' },
  { helper: 'sparkline', tpl: '{{sparkline s}}', ctx: { s: [[1700000000, '1'], [1700000060, '8'], [1700000120, 'NaN'], [1700000180, '4.5']] }, ru: '▁█ ▅', en: '▁█ ▅' },
  { helper: 'bar', tpl: '{{bar 7 10}} {{bar 1 4 4 fill="▓" empty="·"}}', ru: '███████░░░ ▓···', en: '███████░░░ ▓···' },
  {
    helper: 'table',
    tpl: '{{table rows "name:Команда,v:Value"}}',
    ctx: { rows: [{ name: 'Альфа', v: 1500 }, { name: 'Бета', v: 20.25 }, { name: 'Гамма', v: null }] },
    ru: ['```text', 'Команда  Value', '───────  ─────', `Альфа    1${NB}500`, 'Бета     20,25', 'Гамма        —', '```'].join('\n'),
    en: ['```text', 'Команда  Value', '───────  ─────', 'Альфа    1,500', 'Бета     20.25', 'Гамма        —', '```'].join('\n'),
  },
];

describe('helper goldens in ru-RU and en-US', () => {
  it('every helper has a golden', () => {
    const covered = new Set(GOLDENS.map((g) => g.helper));
    expect(HELPER_NAMES.filter((h) => !covered.has(h))).toEqual([]);
    for (const g of GOLDENS) expect(g.tpl, `${g.helper} golden must call its helper`).toMatch(new RegExp(`[({]#?${g.helper}[ })]`));
  });
  for (const locale of ['ru-RU', 'en-US'] as const) {
    const key = locale === 'ru-RU' ? 'ru' : 'en';
    it.each(GOLDENS.map((g) => [g.helper, (locale === 'en-US' && g.tplEn) || g.tpl, g] as const))(`${locale}: %s %s`, (_h, tpl, g) => {
      expect(render(tpl, g.ctx ?? {}, locale)).toBe(g[key]);
    });
  }
});

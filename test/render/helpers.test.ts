import { describe, expect, it } from 'vitest';
import { DigestError } from '../../src/errors.js';
import { createTemplateEngine } from '../../src/render/index.js';

const engine = createTemplateEngine({ templatesDir: '/nonexistent-templates-dir' });
const origin = { file: 'test.hbs', line: 1, column: 1, path: 'inline' };
const NB = '\u00a0';

function r(src: string, ctx: Record<string, unknown> = {}, locale = 'ru-RU', timezone = 'Europe/Moscow'): string {
  return engine.compileInline(src, origin).render(ctx, { locale, timezone });
}
const en = (src: string, ctx: Record<string, unknown> = {}) => r(src, ctx, 'en-US');

function err(src: string, ctx: Record<string, unknown> = {}): DigestError {
  try {
    r(src, ctx);
  } catch (e) {
    if (e instanceof DigestError) return e;
    throw e;
  }
  throw new Error(`expected ${src} to fail`);
}

/** Fails while compiling, before any data: what `validate` reports. */
function compileErr(src: string): DigestError {
  try {
    engine.compileInline(src, origin);
  } catch (e) {
    if (e instanceof DigestError) return e;
    throw e;
  }
  throw new Error(`expected ${src} to fail to compile`);
}

describe('numbers', () => {
  it('number', () => {
    expect(r('{{number 1234567.5}}')).toBe(`1${NB}234${NB}567,5`);
    expect(en('{{number 1234567.5}}')).toBe('1,234,567.5');
    expect(r('{{number 3.14159 2}}')).toBe('3,14');
    expect(r('{{number 2 2}}')).toBe('2,00');
    expect(r('{{number x}}', { x: '42.5' })).toBe('42,5');
    expect(r('{{number x}}', { x: null })).toBe('—');
    expect(r('{{number x}}', { x: -0 })).toBe('0');
  });
  it('a negative value that rounds to zero prints without a sign', () => {
    expect(r('{{number -0.004}}')).toBe('0');
    expect(en('{{number -0.004}}')).toBe('0');
    expect(r('{{number -0.004 2}}')).toBe('0,00');
    expect(r('{{number -0.006 2}}')).toBe('-0,01');
    expect(r('{{number x}}', { x: '-0.001' })).toBe('0');
    expect(r('{{compact -0.004}}')).toBe('0');
    expect(r('{{percent -0.00001}}')).toBe(`0${NB}%`);
    expect(en('{{percent -0.00001}}')).toBe('0%');
    expect(r('{{currency -0.001}}')).toBe(`0,00${NB}₽`);
    expect(en('{{currency -0.001}}')).toBe('₽0.00');
    expect(en('{{currency -5}}')).toBe('-₽5.00');
    expect(r('{{delta -0.0001 100}}')).toBe('▼ −100%');
    expect(r('{{delta 99.99 100}}')).toBe('— 0%');
    expect(r('{{change -0.001 0}}')).toBe('— 0');
    expect(r('{{change 99999 100000}}')).toBe('▼ −1 (0%)');
    expect(r('{{change 100001 100000}}')).toBe('▲ +1 (0%)');
    expect(r('{{table rows}}', { rows: [{ v: -0.001 }] })).toBe('```text\nv\n─\n0\n```');
  });
  it('number rejects non-numbers with file, line and helper', () => {
    const e = err('{{number x}}', { x: 'abc' });
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toBe('number: "x" is not a number: "abc" (template column 1)');
    expect(e.location).toEqual({ file: 'test.hbs', line: 1, column: 1, path: 'inline' });
    expect(err('{{number 1 2 3}}').message).toMatch(/^number: expected 1–2 argument\(s\), got 3/);
    expect(err('{{number 1 x}}', { x: 1.5 }).message).toMatch(/must be an integer from 0 to 20/);
  });
  it('compact', () => {
    expect(r('{{compact 1234}}')).toBe(`1,2${NB}тыс.`);
    expect(r('{{compact 1234567}}')).toBe(`1,2${NB}млн`);
    expect(en('{{compact 1234}}')).toBe('1.2K');
  });
  it('percent', () => {
    expect(r('{{percent 0.125}}')).toBe(`12,5${NB}%`);
    expect(r('{{percent 0.125 0}}')).toBe(`13${NB}%`);
    expect(en('{{percent 0.125}}')).toBe('12.5%');
  });
  it('currency', () => {
    expect(r('{{currency 1234.5}}')).toBe(`1${NB}234,50${NB}₽`);
    expect(r('{{currency 1234.5 "RUB" 0}}')).toBe(`1${NB}235${NB}₽`);
    expect(en('{{currency 1234.5 "usd"}}')).toBe('$1,234.50');
    // The ruble sign in every locale, not "RUB 5.00".
    expect(en('{{currency 5}}')).toBe('₽5.00');
    expect(en('{{currency 5 "RUB" 0}}')).toBe('₽5');
    expect(r('{{currency 5}}')).toBe(`5,00${NB}₽`);
    expect(r('{{currency 99.9 "USD" 0}}')).toBe(`100${NB}$`);
    expect(r('{{currency 10 "EUR"}}')).toBe(`10,00${NB}€`);
    expect(err('{{currency 1 "RUBLES"}}').message).toMatch(/three letters/);
  });
  it('delta', () => {
    expect(r('{{delta 112.5 100}}')).toBe('▲ +12,5%');
    expect(r('{{delta 97 100}}')).toBe('▼ −3%');
    expect(r('{{delta 100 100}}')).toBe('— 0%');
    expect(r('{{delta 100.01 100}}')).toBe('— 0%');
    expect(r('{{delta 5 p}}', { p: null })).toBe('—');
    expect(r('{{delta 5 0}}')).toBe('▲ новое');
    expect(r('{{delta 0 0}}')).toBe('— 0%');
    expect(r('{{delta -50 -100}}')).toBe('▲ +50%');
    expect(en('{{delta 5 0}}')).toBe('▲ new');
    expect(en('{{delta 112.5 100}}')).toBe('▲ +12.5%');
  });
  it('change', () => {
    expect(r('{{change 1200 1000}}')).toBe(`▲ +200 (+20%)`);
    expect(r('{{change 1000 2500}}')).toBe(`▼ −1${NB}500 (−60%)`);
    expect(r('{{change 5 5}}')).toBe('— 0');
    expect(r('{{change 5 0}}')).toBe('▲ +5');
    expect(r('{{change 5 p}}', { p: null })).toBe('—');
    expect(en('{{change 1200 1000}}')).toBe('▲ +200 (+20%)');
  });
  it('status', () => {
    expect(r('{{status 1 5 10}}')).toBe('🟢');
    expect(r('{{status 5 5 10}}')).toBe('🟡');
    expect(r('{{status 12 5 10}}')).toBe('🔴');
    expect(r('{{status 99 95 90 true}}')).toBe('🟢');
    expect(r('{{status 93 95 90 "inverse"}}')).toBe('🟡');
    expect(r('{{status 80 95 90 inverse=true}}')).toBe('🔴');
    expect(r('{{status x 1 2}}', { x: null })).toBe('⚪');
    expect(err('{{status 1 10 5}}').message).toMatch(/warn \(10\) must not exceed crit \(5\)/);
  });
});

describe('dates', () => {
  const d = new Date('2026-11-24T10:30:00Z');
  it('date in the job timezone and locale', () => {
    expect(r('{{date d "d MMMM yyyy, HH:mm"}}', { d })).toBe('24 ноября 2026, 13:30');
    expect(r('{{date d}}', { d })).toBe('24 ноября 2026, 13:30');
    expect(en('{{date d "LLLL d, yyyy HH:mm"}}', { d })).toBe('November 24, 2026 13:30');
    expect(r('{{date d "HH:mm"}}', { d: '2026-11-24T10:30:00Z' })).toBe('13:30');
    expect(r('{{date d "HH:mm"}}', { d: d.getTime() })).toBe('13:30');
    expect(r('{{date d "HH:mm"}}', { d }, 'ru-RU', 'Asia/Vladivostok')).toBe('20:30');
    expect(err('{{date d}}', { d: 'not a date' }).message).toMatch(/^date: "d" is not a valid date/);
  });
  const msk = (iso: string) => new Date(`${iso}+03:00`);
  const p = (s: string, e: string) => ({ period: { start: msk(s), end: msk(e) } });
  it('period', () => {
    expect(r('{{period}}', p('2026-11-24T00:00:00', '2026-11-25T00:00:00'))).toBe('за 24 ноября');
    expect(en('{{period}}', p('2026-11-24T00:00:00', '2026-11-25T00:00:00'))).toBe('for November 24');
    expect(r('{{period}}', p('2026-11-17T00:00:00', '2026-11-24T00:00:00'))).toBe('за неделю 17–23 ноября');
    expect(en('{{period}}', p('2026-11-17T00:00:00', '2026-11-24T00:00:00'))).toBe('for the week of November 17–23');
    expect(r('{{period}}', p('2026-10-27T00:00:00', '2026-11-03T00:00:00'))).toBe('за неделю 27 октября – 2 ноября');
    expect(r('{{period}}', p('2026-11-01T00:00:00', '2026-12-01T00:00:00'))).toBe('за ноябрь 2026');
    expect(en('{{period}}', p('2026-11-01T00:00:00', '2026-12-01T00:00:00'))).toBe('for November 2026');
    expect(r('{{period}}', p('2026-11-17T00:00:00', '2026-11-20T00:00:00'))).toBe('за 17–19 ноября');
    expect(r('{{period}}', p('2026-11-24T10:00:00', '2026-11-24T14:00:00'))).toBe('за 24 ноября 10:00–14:00');
    expect(r('{{period}}', p('2026-11-23T14:00:00', '2026-11-24T14:00:00'))).toBe('за 23 ноября 14:00 – 24 ноября 14:00');
    expect(en('{{period}}', p('2026-11-23T14:00:00', '2026-11-24T14:00:00'))).toBe('for November 23, 14:00 – November 24, 14:00');
    expect(r('{{period other}}', { other: { start: '2026-12-29T00:00:00+03:00', end: '2027-01-05T00:00:00+03:00' } })).toBe(
      'за неделю 29 декабря 2026 – 4 января 2027',
    );
    expect(err('{{period}}', {}).message).toMatch(/^period: expects a period/);
  });
  it('duration', () => {
    expect(r('{{duration 7500000}}')).toBe('2 ч 5 мин');
    expect(en('{{duration 7500000}}')).toBe('2 h 5 min');
    expect(r('{{duration 7205000}}')).toBe('2 ч');
    expect(r('{{duration 93784000 3}}')).toBe('1 д 2 ч 3 мин');
    expect(r('{{duration 45000}}')).toBe('45 с');
    expect(r('{{duration 850}}')).toBe('850 мс');
    expect(err('{{duration -1}}').message).toMatch(/must not be negative/);
  });
});

describe('text', () => {
  it('plural', () => {
    expect(r('{{plural 1 "задача" "задачи" "задач"}}')).toBe('1 задача');
    expect(r('{{plural 3 "задача" "задачи" "задач"}}')).toBe('3 задачи');
    expect(r('{{plural 5 "задача" "задачи" "задач"}}')).toBe('5 задач');
    expect(r('{{plural 21 "задача" "задачи" "задач"}}')).toBe('21 задача');
    expect(r('{{plural 11 "задача" "задачи" "задач"}}')).toBe('11 задач');
    expect(r('{{plural 1.5 "задача" "задачи" "задач"}}')).toBe('1,5 задачи');
    expect(r('{{plural 1000 "задача" "задачи" "задач"}}')).toBe(`1${NB}000 задач`);
    expect(r('{{plural 5 "задача" "задачи" "задач" with_number=false}}')).toBe('задач');
    expect(en('{{plural 1 "task" "tasks"}}')).toBe('1 task');
    expect(en('{{plural 2 "task" "tasks"}}')).toBe('2 tasks');
    expect(r('{{plural 1.5 "задача" "задачи" "задач" "задачи"}}')).toBe('1,5 задачи');
  });
  it('plural needs every word form of the locale', () => {
    const one = err('{{plural 3 "a"}}');
    expect(one.code).toBe('E_TEMPLATE');
    expect(one.message).toBe('plural: ru-RU needs 3 word forms (one, few, many), got 1: "a" (template column 1)');
    expect(one.hint).toBe('write {{plural n "задача" "задачи" "задач"}}');
    expect(one.location).toEqual({ file: 'test.hbs', line: 1, column: 1, path: 'inline' });
    expect(err('{{plural 3 "задача" "задачи"}}').message).toMatch(/^plural: ru-RU needs 3 word forms \(one, few, many\), got 2: "задача" "задачи"/);
    let e: unknown;
    try {
      en('{{plural 2 "task"}}');
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DigestError);
    expect((e as DigestError).message).toMatch(/^plural: en-US needs 2 word forms \(one, other\), got 1: "task"/);
    expect((e as DigestError).hint).toBe('write {{plural n "task" "tasks"}}');
    // A locale without a singular (Japanese) has one form.
    expect(r('{{plural 3 "件"}}', {}, 'ja-JP')).toBe('3 件');
  });
  it('truncate', () => {
    expect(r('{{truncate s 20}}', { s: 'Короткий' })).toBe('Короткий');
    expect(r('{{truncate s 20}}', { s: 'Очень длинное название задачи' })).toBe('Очень длинное…');
    expect(r('{{truncate s 5}}', { s: 'Абвгдеёжз' })).toBe('Абвг…');
    expect(r('{{truncate s 3}}', { s: '👍🏽👍🏽👍🏽👍🏽' })).toBe('👍🏽👍🏽…');
  });
  it('default and join', () => {
    expect(r('{{default x "—"}}', { x: null })).toBe('—');
    expect(r('{{default x "—"}}', { x: '' })).toBe('—');
    expect(r('{{default x "—"}}', { x: 0 })).toBe('0');
    expect(r('{{join a}}', { a: ['a', 'b'] })).toBe('a, b');
    expect(r('{{join a " / "}}', { a: [1, 2] })).toBe('1 / 2');
    expect(err('{{join a}}', { a: 'x' }).message).toMatch(/^join: "a" must be an array/);
  });
  it('a non-array argument is not blamed on shadowing', () => {
    const e = err('{{join metrics.x ", "}}', { metrics: { x: 'abc' } });
    expect(e.message).toBe('join: "metrics.x" must be an array, got "abc" (template column 1)');
    expect(e.hint).not.toMatch(/shadow/);
    expect(e.hint).toBe('pass a list, e.g. {{join metrics.rows …}}');
    const inEach = err('{{#each rows}}{{sum v}}{{/each}}', { rows: [{ v: 5 }] });
    expect(inEach.hint).not.toMatch(/shadow/);
    expect(err('{{sparkline s}}', { s: null }).hint).toBe('null means no data: guard it with {{#if …}}');
  });
});

describe('math and logic', () => {
  it('arithmetic', () => {
    expect(r('{{add 1 2}} {{sub 5 3}} {{mul 2 3}} {{div 7 2}} {{round 2.567 1}} {{round 2.5}}')).toBe('3 2 6 3.5 2.6 3');
    expect(r('{{number (div a b) 1}}', { a: 1, b: 3 })).toBe('0,3');
    const e = err('{{div a b}}', { a: 1, b: 0 });
    expect(e.message).toBe('div: division by zero ("b" is 0) (template column 1)');
  });
  it('comparisons and boolean logic for #if', () => {
    const t = '{{#if (gt a b)}}gt{{/if}}{{#if (gte a b)}}gte{{/if}}{{#if (lt a b)}}lt{{/if}}{{#if (lte a b)}}lte{{/if}}{{#if (eq a b)}}eq{{/if}}{{#if (ne a b)}}ne{{/if}}';
    expect(r(t, { a: 2, b: 1 })).toBe('gtgtene');
    expect(r(t, { a: 1, b: 1 })).toBe('gtelteeq');
    expect(r(t, { a: '5', b: 5 })).toBe('gtelteeq');
    expect(r(t, { a: null, b: 1 })).toBe('ne');
    expect(r('{{#if (and a b)}}y{{else}}n{{/if}} {{#if (or a b)}}y{{else}}n{{/if}} {{#if (not a)}}y{{else}}n{{/if}}', { a: 1, b: [] })).toBe('n y n');
  });
});

describe('arrays', () => {
  const rows = [
    { name: 'Бета', v: 5, team: { id: 2 } },
    { name: 'Альфа', v: 12, team: { id: 1 } },
    { name: 'Гамма', v: null, team: { id: 3 } },
    { name: 'Дельта', v: 7.5, team: { id: 4 } },
  ];
  it('aggregates', () => {
    expect(r('{{sum rows "v"}} {{avg rows "v"}} {{min rows "v"}} {{max rows "v"}} {{count rows}}', { rows })).toBe('24.5 8.166666666666666 5 12 4');
    expect(r('{{sum a}} {{number (avg a)}} {{count o}}', { a: [1, '2', 3], o: { x: 1, y: 2 } })).toBe('6 2 2');
    expect(r('{{number (avg a)}} {{number (max a)}}', { a: [] })).toBe('— —');
  });
  it('sortBy, top, pluck', () => {
    expect(r('{{join (pluck (sortBy rows "name") "name")}}', { rows })).toBe('Альфа, Бета, Гамма, Дельта');
    expect(r('{{join (pluck (sortBy rows "v" "desc") "name")}}', { rows })).toBe('Альфа, Дельта, Бета, Гамма');
    expect(r('{{join (pluck (sortBy rows "team.id") "name")}}', { rows })).toBe('Бета, Альфа, Гамма, Дельта'.split(', ').sort((a, b) => rows.find((x) => x.name === a)!.team.id - rows.find((x) => x.name === b)!.team.id).join(', '));
    expect(r('{{#each (top rows 2 "v")}}{{name}} {{/each}}', { rows })).toBe('Альфа Дельта');
    expect(r('{{join (top a 2)}}', { a: [3, 10, 7] })).toBe('10, 7');
    const e = err('{{sortBy rows "nmae"}}', { rows });
    expect(e.message).toBe('sortBy: item 1 has no field "nmae" (template column 1)');
    expect(err('{{sortBy rows "name" "up"}}', { rows }).message).toMatch(/"asc" or "desc"/);
  });
  it('a helper shadowing a field explains the fix, at load', () => {
    // Known before any data: a bare {{count}} calls the helper, whatever the rows hold.
    const e = compileErr('{{#each rows}}{{count}}{{/each}}');
    expect(e.message).toMatch(/^count: expected 1 argument\(s\), got 0/);
    expect(e.hint).toBe('usage: {{count array}}; a field named "count" is written {{this.count}}');
    expect(r('{{#each rows}}{{this.count}}{{/each}}', { rows: [{ count: 1 }] })).toBe('1');
    expect(compileErr('{{top rows}}').hint).toBe('usage: {{#each (top array n ["key"])}}');
  });
});

describe('pachca', () => {
  it('mention', () => {
    expect(r('{{mention 42}}')).toBe('<@42>');
    expect(r('{{mention id}}', { id: '42' })).toBe('<@42>');
    expect(err('{{mention id}}', { id: 'all' }).message).toMatch(/^mention: "id" must be a positive integer user id/);
    expect(err('{{mention -1}}').message).toMatch(/positive integer/);
  });
  it('link', () => {
    expect(r('{{link t u}}', { t: 'Отчёт *Q4*', u: 'https://example.com/r?a=1&b=(2)' })).toBe('[Отчёт \\*Q4\\*](https://example.com/r?a=1&b=%282%29)');
    expect(r('{{link t u}}', { t: '[x](http://evil) @all', u: 'http://a.ru' })).toBe('[\\[x\\](http:\u2060//evil) @\u2060all](http://a.ru/)');
    expect(err('{{link "x" "javascript:alert(1)"}}').message).toMatch(/^link: only http\(s\) links are allowed/);
    expect(err('{{link "x" "not a url"}}').message).toMatch(/^link: argument 2 is not a valid URL/);
  });
  it('sparkline', () => {
    expect(r('{{sparkline s}}', { s: [1, 2, 3, 4, 5, 6, 7, 8] })).toBe('▁▂▃▄▅▆▇█');
    expect(r('{{sparkline s}}', { s: [[1700000000, '1'], [1700000060, '3'], [1700000120, 'NaN'], [1700000180, '2']] })).toBe('▁█ ▅');
    expect(r('{{sparkline s}}', { s: [5, 5, 5] })).toBe('▄▄▄');
    expect(r('{{sparkline s}}', { s: [0, 0] })).toBe('▁▁');
    expect(r('[{{sparkline s}}]', { s: [] })).toBe('[]');
  });
  it('bar', () => {
    expect(r('{{bar 3 10}}')).toBe('███░░░░░░░');
    expect(r('{{bar 50 100 4}}')).toBe('██░░');
    expect(r('{{bar 150 100 4}}')).toBe('████');
    expect(r('{{bar 1 4 4 fill="▓"}}')).toBe('▓░░░');
    expect(err('{{bar 1 0}}').message).toMatch(/must be positive/);
  });
  it('table: aligned by display width, numbers right-aligned and localised', () => {
    const rows = [
      { team: 'Альфа', revenue: 1234567.5, note: 'ок' },
      { team: '🚀 Ракета', revenue: 42, note: null },
      { team: '日本', revenue: -5, note: '`x` @all' },
    ];
    expect(r('{{table rows "team:Команда,revenue:Выручка,note:Заметка"}}', { rows })).toBe(
      [
        '```text',
        `Команда${' '.repeat(8)}Выручка  Заметка`,
        `${'─'.repeat(9)}  ${'─'.repeat(11)}  ${'─'.repeat(8)}`,
        `Альфа${' '.repeat(6)}1${NB}234${NB}567,5  ок`,
        `🚀 Ракета${' '.repeat(11)}42  —`,
        `日本${' '.repeat(16)}-5  ˋxˋ @\u2060all`,
        '```',
      ].join('\n'),
    );
    expect(en('{{table rows}}', { rows: [{ a: 'x', b: 1000 }] })).toBe('```text\na      b\n─  ─────\nx  1,000\n```');
    expect(r('{{table rows cols}}', { rows: [{ a: 'x' }], cols: { a: 'Колонка' } })).toBe('```text\nКолонка\n───────\nx\n```');
    expect(err('{{table rows "nope:X"}}', { rows: [{ a: 1 }] }).message).toMatch(/^table: item 1 has no field "nope"/);
  });
});

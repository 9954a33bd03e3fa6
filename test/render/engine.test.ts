import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestError } from '../../src/errors.js';
import { createTemplateEngine } from '../../src/render/index.js';
import { findSyntaxProblem } from '../../src/render/syntax.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'templates');
const rel = (f: string) => path.relative(process.cwd(), path.join(dir, f)).split(path.sep).join('/');
const ru = { locale: 'ru-RU', timezone: 'Europe/Moscow' };
const engine = createTemplateEngine({ templatesDir: dir });

function catchError(fn: () => unknown): DigestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DigestError) return e;
    throw e;
  }
  throw new Error('expected a DigestError');
}

const ctx = {
  metrics: { revenue: { total: 1234567.5 }, teams: [{ name: 'Альфа', value: 1500 }, { name: 'Бета', value: 20.25 }] },
  job: { name: 'Ежедневный', description: '', timezone: 'Europe/Moscow', locale: 'ru-RU' },
  period: { start: new Date('2026-11-23T21:00:00Z'), end: new Date('2026-11-24T21:00:00Z') },
  now: new Date('2026-11-25T06:00:00Z'),
  slot: new Date('2026-11-25T06:00:00Z'),
  previous: null,
};

describe('compileFile', () => {
  it('renders a template with a layout and partials', () => {
    const t = engine.compileFile('daily.hbs');
    expect(t.file).toBe(rel('daily.hbs'));
    expect(t.render(ctx, ru)).toBe(
      '📊 **Ежедневный**\n**Выручка за 24 ноября**: 1\u00a0234\u00a0567,5\n• Альфа: 1\u00a0500\n• Бета: 20,25\n—— Ежедневный · 25 ноября, 09:00',
    );
  });

  it('registers partials by relative path', () => {
    expect(engine.partialNames()).toEqual(['footer', 'team/header']);
  });

  it('one compiled template renders in different locales and timezones', () => {
    const t = engine.compileFile('daily.hbs');
    const en = t.render(ctx, { locale: 'en-US', timezone: 'Europe/Moscow' });
    expect(en).toBe('📊 **Ежедневный**\n**Выручка for November 24**: 1,234,567.5\n• Альфа: 1,500\n• Бета: 20.25\n—— Ежедневный · 25 November, 09:00');
    // In UTC the same period is not whole days: an explicit range.
    expect(t.render(ctx, { locale: 'en-US', timezone: 'UTC' })).toContain('for November 23, 21:00 – November 24, 21:00**');
  });

  it('reports a missing output field with the full path, file and line', () => {
    const t = engine.compileFile('strict.hbs');
    const e = catchError(() => t.render({ metrics: { maybe: null, revenue: {} }, previous: null }, ru));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toBe('"metrics.revenue.total" is not defined');
    expect(e.location).toEqual({ file: rel('strict.hbs'), line: 6, column: 10 });
    expect(e.format()).toContain(`${rel('strict.hbs')}:6:10: "metrics.revenue.total" is not defined`);
  });

  it('names a missing parent object and suggests close keys', () => {
    const t = engine.compileFile('strict.hbs');
    const e = catchError(() => t.render({ metrics: { maybe: 1, revenu: { total: 1 } }, previous: null }, ru));
    expect(e.message).toBe('"metrics.revenue.total" is not defined');
    expect(e.hint).toContain('did you mean "metrics.revenu"?');
  });

  it('#if on an explicit null, null parents in params and (lookup) for optional fields work', () => {
    const t = engine.compileFile('strict.hbs');
    expect(t.render({ metrics: { maybe: null, revenue: { total: 5 } }, previous: null }, ru)).toBe('Отчёт\n\nнет\n\n—\nИтого: 5');
    expect(t.render({ metrics: { maybe: 1, optional: 'x', revenue: { total: 5 } }, previous: { x: 1 } }, ru)).toBe(
      'Отчёт\n\nесть\nprev\nx\nИтого: 5',
    );
  });

  it('a missing parent inside #if is an error, not a silent false', () => {
    const t = engine.compileFile('strict.hbs');
    const e = catchError(() => t.render({ revenue: 1 }, ru));
    expect(e.message).toBe('"metrics.maybe" is not defined');
    expect(e.location?.line).toBe(3);
  });

  it('syntax errors carry the file and line at load', () => {
    const e = catchError(() => engine.compileFile('broken.hbs'));
    expect(e.code).toBe('E_TEMPLATE');
    // A plain sentence, the line and a caret; not the parser's token list.
    expect(e.message).toBe('template syntax error: `{{` on line 4 is not closed with `}}` before the next `{{`\n    4 |   {{number metrics.x}\n      |   ^');
    expect(e.message).not.toMatch(/OPEN|CLOSE|INVALID|expecting/);
    expect(e.location?.file).toBe(rel('broken.hbs'));
    expect(e.location?.line).toBe(4);
    const m = catchError(() => engine.compileFile('mismatch.hbs'));
    expect(m.message.split('\n')[0]).toBe('template syntax error: `{{/each}}` on line 3 closes `{{#if}}` opened on line 2; close that one first with `{{/if}}`');
    expect(m.location).toEqual({ file: rel('mismatch.hbs'), line: 3, column: 1 });
  });

  it('an unclosed block is reported where it was opened, in words', () => {
    const source = 'Итоги\n\n{{#each metrics.rows}}\n  {{name}}\n';
    expect(findSyntaxProblem(source)).toMatchObject({ line: 3, column: 0, message: '`{{#each}}` opened on line 3 is never closed (add `{{/each}}`)' });
    const e = catchError(() => engine.compileInline(source, { file: 'jobs.config.yaml', line: 4, column: 11, path: 'jobs[0].template.inline' }));
    expect(e.message).toMatch(/^template syntax error: `\{\{#each\}\}` opened on line 3 is never closed/);
    expect(e.message).toContain('3 | {{#each metrics.rows}}');
  });

  it('a stray close and an unclosed tag are said plainly; balanced templates with comments and partial blocks pass the scan', () => {
    expect(findSyntaxProblem('a {{/if}}')?.message).toBe('`{{/if}}` on line 1 closes a block that was never opened');
    expect(findSyntaxProblem('a\nb {{name')).toMatchObject({ line: 2, column: 2, message: '`{{` on line 2 is never closed with `}}`' });
    expect(findSyntaxProblem('{{!-- {{#each}} --}}{{#> layout}}{{#*inline "x"}}y{{/inline}}{{/layout}}{{^if a}}b{{else}}c{{/if}}\\{{#raw}}')).toBeNull();
  });

  it('a helper error inside a partial names the partial file', () => {
    const t = engine.compileFile('helper-error.hbs');
    const e = catchError(() => t.render({ job: { name: 'abc' } }, ru));
    expect(e.message).toBe('number: "job.name" is not a number: "abc"');
    expect(e.location).toEqual({ file: rel('partials/team/header.hbs'), line: 1, column: 6 });
  });

  it('unknown partials and layouts fail at load', () => {
    const p = catchError(() => engine.compileFile('missing-partial.hbs'));
    expect(p.message).toBe('partial "team/heder" not found');
    expect(p.hint).toBe('did you mean "team/header"?');
    expect(p.location?.line).toBe(2);
    const l = catchError(() => engine.compileFile('no-layout.hbs'));
    expect(l.message).toBe(`layout "nope" not found: ${path.join(dir, 'layouts', 'nope.hbs')}`);
  });

  it('missing files and paths outside the directory are E_TEMPLATE', () => {
    const e = catchError(() => engine.compileFile('nope.hbs'));
    expect(e.message).toBe(`template not found: ${path.join(dir, 'nope.hbs')}`);
    const out = catchError(() => engine.compileFile('../engine.test.ts'));
    expect(out.message).toMatch(/outside the templates directory/);
  });

  it('normalises whitespace', () => {
    const t = engine.compileFile('spaces.hbs');
    expect(t.render({ items: ['a', 'b'] }, ru)).toBe('Заголовок\n\na\n\nb\n\nконец');
    expect(t.render({ items: [] }, ru)).toBe('Заголовок\n\nконец');
  });

  it('unknown helpers are reported with a suggestion', () => {
    // Called with an argument, it can only be a helper: reported at compile time, before any data.
    const e = catchError(() => engine.compileInline('{{numbr 5}}', { file: 'jobs.config.yaml', line: 4, column: 11, path: 'jobs[0].x' }));
    expect(e.message).toBe('unknown helper "numbr" (template column 1)');
    expect(e.hint).toBe('did you mean "number"?');
    // A bare name may be a field: it compiles, and only the render knows.
    const bare = engine.compileInline('{{numbr}}', { file: 'jobs.config.yaml', line: 4, column: 11, path: 'jobs[0].x' });
    expect(catchError(() => bare.render({}, ru)).message).toMatch(/"numbr" is not defined/);
  });
});

describe('layouts and partials in a temp dir', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'render-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const write = (f: string, s: string) => {
    fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
    fs.writeFileSync(path.join(tmp, f), s);
  };

  it('nests layouts and detects cycles', () => {
    write('layouts/outer.hbs', 'OUT {{job}}\n{{{body}}}\n/OUT');
    write('layouts/inner.hbs', '{{!< outer}}\nIN\n{{{body}}}');
    write('layouts/a.hbs', '{{!< b}}\n{{{body}}}');
    write('layouts/b.hbs', '{{!< a}}\n{{{body}}}');
    write('layouts/nobody.hbs', 'no body here');
    write('t.hbs', '{{!< inner}}\nBODY {{x}}');
    write('cyc.hbs', '{{!< a}}\nx');
    write('nb.hbs', '{{!< nobody}}\nx');
    const e = createTemplateEngine({ templatesDir: tmp });
    expect(e.compileFile('t.hbs').render({ job: 'J', x: '*x*' }, ru)).toBe('OUT J\nIN\nBODY \\*x\\*\n/OUT');
    expect(catchError(() => e.compileFile('cyc.hbs')).message).toMatch(/layouts form a cycle/);
    expect(catchError(() => e.compileFile('nb.hbs')).message).toBe('layout "nobody" never outputs {{{body}}}');
  });

  it('a syntax error in a partial fails engine creation with the partial file', () => {
    write('../render-bad/partials/x.hbs', 'ok\n{{#each}}');
    const bad = path.join(path.dirname(tmp), 'render-bad');
    try {
      const e = catchError(() => createTemplateEngine({ templatesDir: bad }));
      expect(e.location?.file).toBe(path.join(bad, 'partials', 'x.hbs'));
      expect(e.location?.line).toBe(2);
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });

  it('a helper error names the template file and line (plural with too few forms)', () => {
    write('plural.hbs', '**Задачи**\n\nОткрыто: {{plural metrics.open "задача"}}\n');
    const e = catchError(() => createTemplateEngine({ templatesDir: tmp }).compileFile('plural.hbs').render({ metrics: { open: 3 } }, ru));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toBe('plural: ru-RU needs 3 word forms (one, few, many), got 1: "задача"');
    // Outside the working directory the file is named by its absolute path.
    expect(e.location).toEqual({ file: path.join(tmp, 'plural.hbs'), line: 3, column: 10 });
    expect(e.format()).toContain('hint: write {{plural n "задача" "задачи" "задач"}}');
  });

  it('empty output renders as empty string', () => {
    write('empty.hbs', '{{#if items}}x{{/if}}\n   \n');
    const e = createTemplateEngine({ templatesDir: tmp });
    expect(e.compileFile('empty.hbs').render({ items: [] }, ru)).toBe('');
  });
});

describe('compileInline', () => {
  const origin = { file: 'jobs.config.yaml', line: 12, column: 9, path: 'jobs[0].targets[0].id' };

  it('raw templates are not escaped', () => {
    const t = engine.compileInline('{{item.chat_id}}', origin, { raw: true });
    expect(t.render({ item: { chat_id: 42 } }, ru)).toBe('42');
    const u = engine.compileInline('https://x.ru/?q={{item.q}}', origin, { raw: true });
    expect(u.render({ item: { q: 'a_b*c' } }, ru)).toBe('https://x.ru/?q=a_b*c');
  });

  it('errors point at the config position', () => {
    const t = engine.compileInline('{{item.chat_id}}', origin, { raw: true });
    const e = catchError(() => t.render({ item: {} }, ru));
    expect(e.location).toEqual({ file: 'jobs.config.yaml', line: 12, column: 9, path: 'jobs[0].targets[0].id' });
    expect(e.message).toBe('"item.chat_id" is not defined (template column 3)');
    const s = catchError(() => engine.compileInline('{{item.chat_id', origin));
    expect(s.location).toEqual({ file: 'jobs.config.yaml', line: 12, column: 9, path: 'jobs[0].targets[0].id' });
    expect(s.message).toMatch(/^template syntax error/);
  });

  it('rejects invalid locale and timezone', () => {
    const t = engine.compileInline('x', origin);
    expect(catchError(() => t.render({}, { locale: 'ru-RU', timezone: 'Mars/Base' })).message).toBe('unknown timezone "Mars/Base"');
    expect(catchError(() => t.render({}, { locale: '!!', timezone: 'UTC' })).message).toBe('invalid locale "!!"');
  });
});

describe('previous: the first run has no previous metrics', () => {
  const origin = { file: 'daily.hbs', line: 1, column: 1, path: 'p' };
  const tpl = (src: string) => engine.compileInline(src, origin);
  const readme = tpl('Выручка: {{delta metrics.revenue previous.revenue}}');
  const guard = tpl('{{#if previous}}было {{number previous.revenue}}{{else}}первый запуск{{/if}}');
  const first = { metrics: { revenue: 112.5 }, previous: null };
  const second = { metrics: { revenue: 112.5 }, previous: { revenue: 100 } };

  it('{{delta metrics.revenue previous.revenue}} prints — when previous is null, the change otherwise', () => {
    expect(readme.render(first, ru)).toBe('Выручка: —');
    expect(readme.render(second, ru)).toBe('Выручка: ▲ +12,5%');
    expect(readme.render(second, { locale: 'en-US', timezone: 'UTC' })).toBe('Выручка: ▲ +12.5%');
  });

  it('{{#if previous}} tells the first run from the others', () => {
    expect(guard.render(first, ru)).toBe('первый запуск');
    expect(guard.render(second, ru)).toBe('было 100');
  });

  it('every helper argument under a null parent is null (no data), however deep', () => {
    const t = tpl('{{change metrics.revenue previous.revenue}}|{{number previous.revenue}}|{{currency previous.sales.total}}|{{default previous.revenue "нет"}}|{{#if previous.revenue}}x{{else}}y{{/if}}|{{status previous.errors 1 2}}');
    expect(t.render(first, ru)).toBe('—|—|—|нет|y|⚪');
    expect(t.render({ ...first, previous: { revenue: 100, sales: null, errors: 0 } }, ru)).toBe('▲ +12,5 (+12,5%)|100|—|100|x|🟢');
  });

  it('a typo still fails loudly: a missing key on an existing object, a missing parent', () => {
    const key = catchError(() => tpl('{{delta metrics.revenue previous.revenu}}').render(second, ru));
    expect(key.code).toBe('E_TEMPLATE');
    expect(key.message).toBe('delta: "previous.revenu" is undefined (template column 1)');
    const parent = catchError(() => tpl('{{delta metrics.revenue previus.revenue}}').render(second, ru));
    expect(parent.message).toBe('"previus.revenue" is not defined (template column 25)');
    expect(parent.hint).toContain('did you mean "previous"?');
    // Only an explicit null is "no data": a missing intermediate key is still a typo.
    const mid = catchError(() => tpl('{{number previous.sales.total}}').render(second, ru));
    expect(mid.message).toBe('"previous.sales.total" is not defined (template column 10)');
  });

  it('printing a field of a null previous directly is still an error (use a helper or #if)', () => {
    const e = catchError(() => tpl('{{previous.revenue}}').render(first, ru));
    expect(e.message).toBe('"previous.revenue" is not defined ("previous" is null) (template column 3)');
  });
});

describe('lookups', () => {
  const origin = { file: 'x.hbs', line: 1, column: 1, path: 'p' };
  it('data variables, parent scopes and block params work in strict mode', () => {
    const t = engine.compileInline(
      '{{#each rows}}{{@index}}:{{name}}/{{../title}}/{{@root.title}}{{#if @last}}.{{else}}, {{/if}}{{/each}} {{#each rows as |r|}}{{r.name}}{{/each}} {{#each obj}}{{@key}}={{this}}{{/each}}',
      origin,
    );
    expect(t.render({ title: 'T', rows: [{ name: 'a' }, { name: 'b' }], obj: { k: 1 } }, ru)).toBe('0:a/T/T, 1:b/T/T. ab k=1');
  });
  it('a field missing in one #each item names the path relative to the item', () => {
    const t = engine.compileInline('{{#each rows}}{{name}}{{/each}}', origin);
    const e = catchError(() => t.render({ rows: [{ name: 'a' }, { nam: 'b' }] }, ru));
    expect(e.message).toBe('"name" is not defined (template column 17)');
    expect(e.hint).toBe('did you mean "nam"?');
  });
  it('an explicit null in output renders empty, a null parent is an error', () => {
    const t = engine.compileInline('[{{a}}]', origin);
    expect(t.render({ a: null }, ru)).toBe('[]');
    const u = engine.compileInline('{{a.b}}', origin);
    expect(catchError(() => u.render({ a: null }, ru)).message).toBe('"a.b" is not defined ("a" is null) (template column 3)');
  });
  it('prototype properties are not reachable', () => {
    const t = engine.compileInline('{{a.constructor.name}}', origin);
    expect(() => t.render({ a: {} }, ru)).toThrow(DigestError);
  });
});

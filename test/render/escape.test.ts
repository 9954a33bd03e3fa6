import { describe, expect, it } from 'vitest';
import { createTemplateEngine, displayWidth, escapeMarkdown, finalizeMarkdown, normalizeOutput } from '../../src/render/index.js';

const engine = createTemplateEngine({ templatesDir: '/nonexistent-templates-dir' });
const origin = { file: 'test.hbs', line: 1, column: 1, path: 'inline' };
const WJ = '\u2060';
const render = (src: string, value: unknown) =>
  engine.compileInline(src, origin).render({ v: value }, { locale: 'ru-RU', timezone: 'UTC' });
const esc = (value: unknown) => render('{{v}}', value);

/** Hostile value → exactly what the message contains. */
const CORPUS: Array<[string, string]> = [
  ['@all', `@${WJ}all`],
  ['привет @here и @иван', `привет @${WJ}here и @${WJ}иван`],
  ['<@123>', `\\<@${WJ}123>`],
  ['**жирный**', '\\*\\*жирный\\*\\*'],
  ['*курсив*', '\\*курсив\\*'],
  ['_курсив_', '\\_курсив\\_'],
  ['snake_case_name', 'snake_case_name'],
  ['~~зачёркнуто~~', '\\~\\~зачёркнуто\\~\\~'],
  ['`код`', '\\`код\\`'],
  ['```', '\\`\\`\\`'],
  ['[click](http://evil)', `\\[click\\](http:${WJ}//evil)`],
  ['https://evil.example/path', `https:${WJ}//evil.example/path`],
  ['www.evil.example', `www${WJ}.evil.example`],
  ['<https://evil>', `\\<https:${WJ}//evil>`],
  ['a\\*b', 'a\\\\\\*b'],
  ['строка 1\nстрока 2\r\n# заголовок', 'строка 1 строка 2 # заголовок'],
  ['таб\tтаб', 'таб таб'],
  ['🚀 emoji 👍🏽', '🚀 emoji 👍🏽'],
  ['&amp; <b>html</b> "quotes" \'apos\'', '&amp; \\<b>html\\</b> "quotes" \'apos\''],
  ['\u202Eevil\u202C text', 'evil text'],
  ['bell\u0007 \uE000* sentinel', 'bell \\* sentinel'],
  ['email@example.com', `email@${WJ}example.com`],
];

describe('escaping {{value}} for Pachca markdown', () => {
  it.each(CORPUS)('%j', (input, expected) => {
    expect(esc(input)).toBe(expected);
  });

  it('never HTML-escapes', () => {
    expect(esc('a & b < c > "d"')).toBe('a & b \\< c > "d"');
  });

  it('triple-stash stays raw', () => {
    expect(render('{{{v}}}', '**bold** @all [x](https://x.ru)')).toBe('**bold** @all [x](https://x.ru)');
  });

  it('non-string values', () => {
    expect(esc(42)).toBe('42');
    expect(esc(null)).toBe('');
    expect(esc(true)).toBe('true');
    expect(esc(['a*', 'b'])).toBe('a\\*, b');
    expect(esc(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000Z');
  });

  it('inside an inline code span: no backslashes, data backticks cannot close the span', () => {
    expect(render('Код: `{{v}}`', '*x* `y` @all')).toBe(`Код: \`*x* ˋyˋ @${WJ}all\``);
    expect(render('`a` {{v}} `b`', '*x*')).toBe('`a` \\*x\\* `b`');
    // An unmatched template backtick is literal text, so escaping still applies after it.
    expect(render('` {{v}}', '*x*')).toBe('` \\*x\\*');
  });

  it('inside a fenced block: literal text', () => {
    expect(render('```text\n{{v}}\n```\n{{v}}', '*x* ```')).toBe('```text\n*x* ˋˋˋ\n```\n\\*x\\* \\`\\`\\`');
  });

  it('a value cannot start a new line or open a fence', () => {
    const out = render('**{{v}}**', 'a\n```\nb');
    expect(out.split('\n')).toHaveLength(1);
    expect(out).toBe('**a \\`\\`\\` b**');
  });

  it('helpers returning text are escaped too; safe helpers are not', () => {
    expect(render('{{default v "x"}}', '_a_')).toBe('\\_a\\_');
    expect(render('{{join v}}', ['*', '@b'])).toBe(`\\*, @${WJ}b`);
    expect(render('{{mention 5}}', null)).toBe('<@5>');
  });

  it('escapeMarkdown + finalizeMarkdown are usable directly', () => {
    expect(finalizeMarkdown(escapeMarkdown('*a*'))).toBe('\\*a\\*');
    expect(finalizeMarkdown('`' + escapeMarkdown('*a*') + '`')).toBe('`*a*`');
  });
});

describe('normalizeOutput', () => {
  it('trims trailing spaces, collapses blank lines, trims ends', () => {
    expect(normalizeOutput('\n\n  \na  \n\n\n\nb\t\n \n')).toBe('a\n\nb');
    expect(normalizeOutput('   \n\t\n')).toBe('');
    expect(normalizeOutput('a\r\nb')).toBe('a\nb');
    expect(normalizeOutput('  indented')).toBe('  indented');
  });
});

describe('displayWidth', () => {
  it('counts columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('Привет')).toBe(6);
    expect(displayWidth('🚀')).toBe(2);
    expect(displayWidth('👍🏽')).toBe(2);
    expect(displayWidth('🇷🇺')).toBe(2);
    expect(displayWidth('日本語')).toBe(6);
    expect(displayWidth(`@${WJ}a`)).toBe(2);
    expect(displayWidth('é')).toBe(1);
    expect(displayWidth('❤️')).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { splitChars, splitContent, utf8Bytes } from '../../src/pachca/index.js';

const fits = (parts: string[], max: number) => parts.every((p) => utf8Bytes(p) <= max);

describe('utf8Bytes', () => {
  it('counts bytes, not characters', () => {
    expect(utf8Bytes('abc')).toBe(3);
    expect(utf8Bytes('Привет')).toBe(12);
    expect(utf8Bytes('😀')).toBe(4);
  });
});

describe('splitContent', () => {
  it('returns short content unchanged', () => {
    expect(splitContent('Привет, мир', 100)).toEqual(['Привет, мир']);
  });

  it('measures Cyrillic in bytes: 60 characters do not fit in 100 bytes', () => {
    const text = 'я'.repeat(30) + '\n\n' + 'ю'.repeat(30);
    expect(text.length).toBeLessThan(100);
    const parts = splitContent(text, 100);
    expect(parts).toEqual(['я'.repeat(30), 'ю'.repeat(30)]);
  });

  it('cuts at paragraph boundaries first and keeps paragraphs together when they fit', () => {
    const p = (n: number) => `Абзац ${n}: ` + 'слово '.repeat(5).trim();
    const text = [p(1), p(2), p(3), p(4)].join('\n\n');
    const max = utf8Bytes(p(1) + '\n\n' + p(2)) + 2;
    const parts = splitContent(text, max);
    expect(parts).toEqual([`${p(1)}\n\n${p(2)}`, `${p(3)}\n\n${p(4)}`]);
  });

  it('falls back to line boundaries inside a long paragraph', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `• строка номер ${i}`);
    const max = utf8Bytes(lines.slice(0, 3).join('\n')) + 1;
    const parts = splitContent(lines.join('\n'), max);
    expect(fits(parts, max)).toBe(true);
    expect(parts.join('\n')).toBe(lines.join('\n'));
    expect(parts[0]).toBe(lines.slice(0, 3).join('\n'));
  });

  it('cuts a single huge line between characters without breaking UTF-8 or surrogate pairs', () => {
    const line = 'ж😀'.repeat(50); // 2 + 4 bytes, the emoji is a surrogate pair
    const parts = splitContent(line, 33);
    expect(fits(parts, 33)).toBe(true);
    expect(parts.join('')).toBe(line);
    for (const p of parts) {
      expect(p).not.toMatch(/[\uD800-\uDBFF]$/); // no lone high surrogate at the end
      expect(p).not.toMatch(/^[\uDC00-\uDFFF]/);
      expect(Buffer.from(p, 'utf8').toString('utf8')).toBe(p);
    }
  });

  it('never cuts inside a code block that fits in one part', () => {
    const code = '```text\nстрока 1\n\nстрока 2\n```';
    const text = 'Вступление '.repeat(6) + '\n\n' + code + '\n\nКонец';
    const max = utf8Bytes(code) + 5;
    const parts = splitContent(text, max);
    expect(parts).toContain(code);
    expect(fits(parts, max)).toBe(true);
  });

  it('closes and reopens a too-long code block with the same info string', () => {
    const body = Array.from({ length: 40 }, (_, i) => `row ${i} | значение ${i}`);
    const text = 'Таблица:\n```text\n' + body.join('\n') + '\n```\nПосле таблицы';
    const parts = splitContent(text, 200);
    expect(parts.length).toBeGreaterThan(2);
    expect(fits(parts, 200)).toBe(true);
    const codeParts = parts.filter((p) => p.includes('row '));
    for (const p of codeParts) {
      expect(p).toMatch(/```text\n/);
      if (p !== parts.at(-1)) expect(p.trimEnd().endsWith('```')).toBe(true);
      // Every fence opened in a part is closed in it.
      expect((p.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    const recovered = codeParts.flatMap((p) => p.split('\n').filter((l) => l.startsWith('row ')));
    expect(recovered).toEqual(body);
    expect(parts.at(-1)).toContain('После таблицы');
  });

  it('keeps every piece of the text (nothing silently dropped)', () => {
    const words = Array.from({ length: 400 }, (_, i) => `слово${i}`);
    const text = words.join(' ');
    const parts = splitContent(text, 120);
    expect(fits(parts, 120)).toBe(true);
    expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
  });

  it('rejects an absurd limit', () => {
    expect(() => splitContent('x'.repeat(100), 3)).toThrow(RangeError);
  });
});

describe('splitChars', () => {
  it('keeps 4-byte characters whole', () => {
    expect(splitChars('😀😀😀', 5)).toEqual(['😀', '😀', '😀']);
  });
});

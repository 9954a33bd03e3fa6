import { describe, expect, it } from 'vitest';
import { parseCsv, sniffDelimiter } from '../../src/sources/csv.js';
import { SourceError } from '../../src/sources/errors.js';

describe('parseCsv', () => {
  it('reads a header and typed rows', () => {
    const { header, rows } = parseCsv('date,region,orders,revenue\n2026-11-20,Москва,12,150000.5\n2026-11-21,Казань,3,-20\n');
    expect(header).toEqual(['date', 'region', 'orders', 'revenue']);
    expect(rows).toEqual([
      { date: '2026-11-20', region: 'Москва', orders: 12, revenue: 150000.5 },
      { date: '2026-11-21', region: 'Казань', orders: 3, revenue: -20 },
    ]);
  });

  it('handles quotes, doubled quotes, embedded delimiters and newlines, CRLF and a BOM', () => {
    const text = '\ufeffname,note\r\n"Иванов, И.","сказал ""привет""\r\nи ушёл"\r\nПетров,\r\n';
    const { rows } = parseCsv(text);
    expect(rows).toEqual([
      { name: 'Иванов, И.', note: 'сказал "привет"\r\nи ушёл' },
      { name: 'Петров', note: null },
    ]);
  });

  it('keeps ids with leading zeros and non-numbers as strings', () => {
    const { rows } = parseCsv('id,code,phone,x\n007,1e3,+79001234567,12abc\n');
    expect(rows[0]).toEqual({ id: '007', code: 1000, phone: 79001234567, x: '12abc' });
  });

  it('sniffs ; and reads a decimal comma with it', () => {
    expect(sniffDelimiter('a;b;c\n1;2;3')).toBe(';');
    expect(sniffDelimiter('a\tb\n')).toBe('\t');
    const { rows } = parseCsv('менеджер;выручка\nСидоров;1234,50\n');
    expect(rows).toEqual([{ менеджер: 'Сидоров', выручка: 1234.5 }]);
  });

  it('skips blank lines', () => {
    expect(parseCsv('a,b\n\n1,2\n\n\n3,4').rows).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ]);
  });

  it('names the file and line of a row with the wrong number of fields', () => {
    const text = 'a,b\n1,2\n"multi\nline",3\n4,5,6\n';
    try {
      parseCsv(text, { file: '/data/sales.csv' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).message).toBe('/data/sales.csv:5: expected 2 fields (as in the header), got 3');
      expect((err as SourceError).location).toEqual({ file: '/data/sales.csv', line: 5 });
    }
  });

  it('reports an unterminated quote at the line where it opened', () => {
    expect(() => parseCsv('a,b\n1,2\n3,"oops\n4,5\n', { file: 'x.csv' })).toThrow(/^x\.csv:3: unterminated quoted field/);
  });

  it('rejects text after a closing quote and duplicate headers', () => {
    expect(() => parseCsv('a,b\n"x"y,2\n', { file: 'x.csv' })).toThrow(/x\.csv:2: unexpected "y" after a closing quote/);
    expect(() => parseCsv('a,a\n1,2\n', { file: 'x.csv' })).toThrow(/x\.csv:1: duplicate column name "a"/);
  });
});

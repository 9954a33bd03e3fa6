/**
 * A small RFC 4180 CSV reader: quoted fields with `""` escapes and embedded newlines, CRLF/LF/CR,
 * a BOM, and a delimiter sniffed from the header when not given. Spreadsheet exports in Russia often
 * use `;` with a decimal comma, so with a non-comma delimiter `1234,5` reads as a number.
 *
 * Values: empty → null; numbers (`42`, `-1.5`, `1e3`) → number, except integers with a leading zero
 * (`007`, ids, phone numbers) which stay strings; everything else stays a string.
 */
import { SourceError } from './errors.js';

export interface CsvOptions {
  delimiter?: string;
  /** For error messages and locations only. */
  file?: string;
}

export interface CsvResult {
  header: string[];
  rows: Record<string, string | number | null>[];
}

const CANDIDATES = [',', ';', '\t', '|'];

export function sniffDelimiter(text: string): string {
  const firstLine = text.slice(0, Math.min(text.length, 4096)).split(/\r\n|\n|\r/, 1)[0] ?? '';
  let best = ',';
  let bestCount = 0;
  for (const d of CANDIDATES) {
    let count = 0;
    let inQuotes = false;
    for (const ch of firstLine) {
      if (ch === '"') inQuotes = !inQuotes;
      else if (ch === d && !inQuotes) count++;
    }
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

interface RawRecord {
  line: number;
  fields: string[];
  quoted: boolean[];
}

function fail(message: string, file: string | undefined, line: number): never {
  throw new SourceError(`${file ?? 'CSV'}:${line}: ${message}`, {
    location: file ? { file, line } : undefined,
    hint: 'Fields with the delimiter, quotes or line breaks must be in double quotes, quotes inside doubled ("").',
  });
}

function* records(text: string, delimiter: string, file: string | undefined): Generator<RawRecord> {
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let quoted: boolean[] = [];
  let field = '';
  let fieldQuoted = false;
  let i = 0;
  const n = text.length;

  const endField = () => {
    fields.push(field);
    quoted.push(fieldQuoted);
    field = '';
    fieldQuoted = false;
  };

  while (i < n) {
    const ch = text[i]!;
    if (ch === '"' && field === '' && !fieldQuoted) {
      // A quoted field: read up to the closing quote, which must be followed by a delimiter or EOL.
      const startLine = line;
      fieldQuoted = true;
      i++;
      let closed = false;
      while (i < n) {
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        if (c === '\r' || c === '\n') {
          if (c === '\r' && text[i + 1] === '\n') {
            field += '\r';
            i++;
          }
          line++;
        }
        field += text[i]!;
        i++;
      }
      if (!closed) fail('unterminated quoted field (a " is never closed)', file, startLine);
      const next = text[i];
      if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') {
        fail(`unexpected ${JSON.stringify(next)} after a closing quote`, file, line);
      }
      continue;
    }
    if (ch === delimiter) {
      endField();
      i++;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      endField();
      yield { line: recordLine, fields, quoted };
      fields = [];
      quoted = [];
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    field += ch;
    i++;
  }
  if (field !== '' || fieldQuoted || fields.length > 0) {
    endField();
    yield { line: recordLine, fields, quoted };
  }
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const LEADING_ZERO = /^[+-]?0\d/;
const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;

export function convertValue(raw: string, quoted: boolean, delimiter: string): string | number | null {
  const t = raw.trim();
  if (t === '') return quoted ? '' : null;
  if (NUMBER.test(t) && !(LEADING_ZERO.test(t) && !t.includes('.'))) {
    const v = Number(t);
    if (Number.isFinite(v)) return v;
  }
  if (delimiter !== ',' && DECIMAL_COMMA.test(t) && !LEADING_ZERO.test(t.split(',')[0]!)) {
    return Number(t.replace(',', '.'));
  }
  return quoted ? raw : t;
}

export function parseCsv(input: string, options: CsvOptions = {}): CsvResult {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const delimiter = options.delimiter ?? sniffDelimiter(text);
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new SourceError(`CSV delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
  const { file } = options;
  let header: string[] | undefined;
  const rows: Record<string, string | number | null>[] = [];
  for (const rec of records(text, delimiter, file)) {
    // Blank lines (one empty unquoted field) are skipped anywhere, as spreadsheets leave them at the end.
    if (rec.fields.length === 1 && rec.fields[0]!.trim() === '' && !rec.quoted[0]) continue;
    if (!header) {
      header = rec.fields.map((h) => h.trim());
      const seen = new Set<string>();
      header.forEach((h, idx) => {
        if (h === '') fail(`column ${idx + 1} of the header has no name`, file, rec.line);
        if (seen.has(h)) fail(`duplicate column name ${JSON.stringify(h)} in the header`, file, rec.line);
        seen.add(h);
      });
      continue;
    }
    if (rec.fields.length !== header.length) {
      fail(
        `expected ${header.length} fields (as in the header), got ${rec.fields.length}` +
          (delimiter === ',' ? '' : ` (delimiter ${JSON.stringify(delimiter)})`),
        file,
        rec.line,
      );
    }
    const row: Record<string, string | number | null> = {};
    header.forEach((h, idx) => {
      row[h] = convertValue(rec.fields[idx]!, rec.quoted[idx]!, delimiter);
    });
    rows.push(row);
  }
  return { header: header ?? [], rows };
}

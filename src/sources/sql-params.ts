/**
 * `:name` parameters in SQL → driver placeholders, skipping string literals, quoted identifiers,
 * comments, PostgreSQL `::casts` and `$tag$…$tag$` bodies. Values are always bound, never spliced.
 */
export interface NamedQuery {
  /** The SQL with `:name` replaced (`$1…` for pg; kept as `:name` for SQLite, bound by name). */
  text: string;
  /** Parameter names in order of first use. */
  names: string[];
}

export function translateNamedParams(sql: string, style: 'pg' | 'sqlite'): NamedQuery {
  const names: string[] = [];
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    // Literals and comments are copied verbatim.
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '$' && style === 'pg') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        const stop = end === -1 ? n : end + tag[0].length;
        out += sql.slice(i, stop);
        i = stop;
        continue;
      }
    }
    if (ch === ':' && next === ':') {
      out += '::';
      i += 2;
      continue;
    }
    if (ch === ':' && next !== undefined && /[A-Za-z_]/.test(next) && !/[\w]/.test(sql[i - 1] ?? '')) {
      const m = /^[A-Za-z_]\w*/.exec(sql.slice(i + 1))!;
      const name = m[0];
      let idx = names.indexOf(name);
      if (idx === -1) idx = names.push(name) - 1;
      out += style === 'pg' ? `$${idx + 1}` : `:${name}`;
      i += 1 + name.length;
      continue;
    }
    out += ch;
    i++;
  }
  return { text: out, names };
}

function closingQuote(sql: string, start: number, q: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === q) {
      if (sql[i + 1] === q) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

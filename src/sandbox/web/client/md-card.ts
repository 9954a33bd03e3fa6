/**
 * A `.md` attachment as Pachca shows it: a card where tables, headings, lists and checklists render
 * (unlike message text). Built with DOM nodes and textContent only: the file is untrusted input.
 */
import { el } from './dom.js';

type Align = 'left' | 'right' | 'center';

function inlineInto(parent: HTMLElement, text: string): void {
  // **bold**, *italic*/_italic_, `code`; everything else is text.
  const re = /(\*\*[^*]+\*\*|`[^`]+`|\*[^*\s][^*]*\*|_[^_\s][^_]*_)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index! > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    const t = m[0];
    if (t.startsWith('**')) parent.appendChild(el('strong', null, t.slice(2, -2)));
    else if (t.startsWith('`')) parent.appendChild(el('code', null, t.slice(1, -1)));
    else parent.appendChild(el('em', null, t.slice(1, -1)));
    last = m.index! + t.length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

function cells(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && i + 1 < body.length) {
      cur += body[++i];
      continue;
    }
    if (body[i] === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += body[i];
  }
  out.push(cur.trim());
  return out;
}

const isSeparator = (line: string) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

function table(header: string, sep: string, rows: string[]): HTMLElement {
  const aligns: Align[] = cells(sep).map((c) => (c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : 'left'));
  const t = el('table', 'md-table');
  const head = el('tr');
  cells(header).forEach((c, i) => {
    const th = el('th');
    th.style.textAlign = aligns[i] ?? 'left';
    inlineInto(th, c);
    head.appendChild(th);
  });
  t.appendChild(el('thead')).appendChild(head);
  const body = t.appendChild(el('tbody'));
  for (const r of rows) {
    const tr = el('tr');
    cells(r).forEach((c, i) => {
      const td = el('td');
      td.style.textAlign = aligns[i] ?? 'left';
      // <br> in a cell is a line break (the only HTML a table cell may carry).
      c.split(/<br\s*\/?>/i).forEach((part, k) => {
        if (k > 0) td.appendChild(el('br'));
        inlineInto(td, part);
      });
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
  return t;
}

export function renderMarkdownCard(text: string): HTMLElement {
  const card = el('div', 'md-card');
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let list: HTMLElement | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) {
      const code: string[] = [];
      while (++i < lines.length && !/^\s*```/.test(lines[i]!)) code.push(lines[i]!);
      if (/^\s*```\s*mermaid\b/i.test(line)) {
        // Pachca draws Mermaid in .md cards; the sandbox ships no diagram engine, so it says so and shows the source.
        const fig = el('figure', 'md-mermaid');
        fig.appendChild(el('figcaption', null, 'Диаграмма Mermaid: в Пачке она будет нарисована, здесь — её текст'));
        fig.appendChild(el('pre', 'md-code', code.join('\n')));
        card.appendChild(fig);
      } else {
        card.appendChild(el('pre', 'md-code', code.join('\n')));
      }
      list = null;
      continue;
    }
    if (/^\s*\|/.test(line) && i + 1 < lines.length && isSeparator(lines[i + 1]!)) {
      const rows: string[] = [];
      let j = i + 2;
      while (j < lines.length && /^\s*\|/.test(lines[j]!)) rows.push(lines[j++]!);
      card.appendChild(table(line, lines[i + 1]!, rows));
      i = j - 1;
      list = null;
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      const node = el(`h${Math.min(4, h[1]!.length + 1)}` as 'h2');
      inlineInto(node, h[2]!);
      card.appendChild(node);
      list = null;
      continue;
    }
    const item = /^\s*(?:[-*]|\d+[.)])\s+(\[([ xX])\]\s+)?(.*)$/.exec(line);
    if (item) {
      list ??= card.appendChild(el(/^\s*\d/.test(line) ? 'ol' : 'ul'));
      const li = el('li');
      if (item[1]) {
        const box = el('input');
        box.type = 'checkbox';
        box.disabled = true;
        box.checked = item[2] !== ' ';
        li.appendChild(box);
      }
      inlineInto(li, item[3]!);
      list.appendChild(li);
      continue;
    }
    list = null;
    if (line.trim() === '') continue;
    const p = el('p');
    inlineInto(p, line);
    card.appendChild(p);
  }
  return card;
}

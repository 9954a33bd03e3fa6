/**
 * Message text the way Pachca renders it (see shared/reference/pachca-api-notes.md): bold, italic,
 * strikethrough, links, mentions, inline code and fenced code blocks are rendered; headings, lists,
 * quotes and tables stay raw text, exactly as a reader would see them.
 */
import { anchor, el, safeHref } from './dom.js';

const BT = '`';
const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_{|}~' + BT;

/** Who a mention names; the markup knows users only through this. */
export interface MentionLookup {
  byId(id: number): { nickname: string; name: string } | undefined;
  byNick(lowerNick: string): { name: string } | undefined;
}

export function renderContent(text: string, users: MentionLookup): HTMLDivElement {
  const root = el('div', 'content');
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let buf: string[] = [];
  const flush = () => {
    if (!buf.length) return;
    const seg = el('span', 'seg');
    inline(seg, buf.join('\n'), false, users);
    root.appendChild(seg);
    buf = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const open = /^\s*(`{3,})\s*([^`\s]*)\s*$/.exec(line);
    if (open) {
      let end = -1;
      for (let j = i + 1; j < lines.length; j++) {
        const close = /^\s*(`{3,})\s*$/.exec(lines[j]!);
        if (close && close[1]!.length >= open[1]!.length) {
          end = j;
          break;
        }
      }
      // An unclosed fence is shown raw: the author should see it is broken.
      if (end !== -1) {
        flush();
        root.appendChild(codeBlock(open[2]!, lines.slice(i + 1, end).join('\n')));
        i = end;
        continue;
      }
    }
    buf.push(line);
  }
  flush();
  return root;
}

function codeBlock(lang: string, code: string): HTMLPreElement {
  const pre = el('pre', 'code-block');
  if (lang) pre.appendChild(el('span', 'code-lang', lang));
  else if (/[\u0400-\u04FF]/.test(code)) {
    const w = el('span', 'code-lang warn', '1C?');
    w.title = 'Без языка Пачка может принять кириллицу за 1C: напишите ' + BT + BT + BT + 'text';
    pre.appendChild(w);
  }
  pre.appendChild(el('code', null, code));
  return pre;
}

function runLength(s: string, i: number, ch: string): number {
  let n = 0;
  while (s[i + n] === ch) n++;
  return n;
}
const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c);
const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** Index of the closing delimiter at or after `from`, skipping escapes and code spans; -1 when none. */
function findClose(s: string, from: number, delim: string, single: boolean): number {
  for (let k = from; k < s.length; k++) {
    if (s[k] === '\\') {
      k++;
      continue;
    }
    if (s[k] === BT) {
      const n = runLength(s, k, BT);
      const c = s.indexOf(BT.repeat(n), k + n);
      if (c !== -1) {
        k = c + n - 1;
        continue;
      }
    }
    if (s.startsWith(delim, k)) {
      if (single && (s[k + 1] === delim || s[k - 1] === delim)) {
        k += runLength(s, k, delim) - 1;
        continue;
      }
      return k;
    }
  }
  return -1;
}

function parseLink(s: string, i: number): { text: string; url: string; end: number } | null {
  let close = -1;
  for (let k = i + 1; k < s.length; k++) {
    if (s[k] === '\\') {
      k++;
      continue;
    }
    if (s[k] === '\n') return null;
    if (s[k] === ']') {
      close = k;
      break;
    }
  }
  if (close === -1 || s[close + 1] !== '(') return null;
  let depth = 0;
  for (let m = close + 2; m < s.length; m++) {
    const c = s[m];
    if (c === '\n') return null;
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return { text: s.slice(i + 1, close), url: s.slice(close + 2, m), end: m + 1 };
      depth--;
    }
  }
  return null;
}

/** A bare URL's extent: trailing punctuation ends the sentence, not the URL; ")" stays when it closes a "(". */
function trimBareUrl(raw: string): string {
  let trimmed = raw;
  while (/[.,;:!?'"\])*_~]$/.test(trimmed)) {
    if (trimmed.endsWith(')') && (trimmed.match(/\(/g) ?? []).length >= (trimmed.match(/\)/g) ?? []).length) break;
    trimmed = trimmed.slice(0, -1);
  }
  return trimmed;
}

/** Appends the inline markup of `s` to `parent`; `noLinks` inside a link's own text. */
function inline(parent: HTMLElement, s: string, noLinks: boolean, users: MentionLookup): void {
  let buf = '';
  let i = 0;
  const text = () => {
    if (buf) {
      parent.appendChild(document.createTextNode(buf));
      buf = '';
    }
  };
  const wrap = (tag: 'strong' | 's' | 'em', inner: string) => {
    const e = el(tag);
    inline(e, inner, noLinks, users);
    parent.appendChild(e);
  };
  const link = (href: string, label: string) => {
    const a = anchor(href, 'link');
    a.textContent = label;
    parent.appendChild(a);
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length && PUNCT.includes(s[i + 1]!)) {
      buf += s[i + 1];
      i += 2;
      continue;
    }
    if (c === BT) {
      const n = runLength(s, i, BT);
      let closeAt = s.indexOf(BT.repeat(n), i + n);
      while (closeAt !== -1 && s[closeAt + n] === BT) closeAt = s.indexOf(BT.repeat(n), closeAt + runLength(s, closeAt, BT));
      if (closeAt !== -1 && closeAt > i + n) {
        text();
        parent.appendChild(el('code', 'inline-code', s.slice(i + n, closeAt)));
        i = closeAt + n;
        continue;
      }
      buf += s.slice(i, i + n);
      i += n;
      continue;
    }
    if (c === '[' && !noLinks) {
      const lk = parseLink(s, i);
      if (lk) {
        const href = safeHref(lk.url);
        if (href) {
          text();
          const a = anchor(href, 'link');
          inline(a, lk.text, true, users);
          parent.appendChild(a);
        } else {
          buf += s.slice(i, lk.end); // javascript:, data:, relative… stay visible as typed
        }
        i = lk.end;
        continue;
      }
    }
    if (c === '<') {
      const rest = s.slice(i, i + 300);
      const mid = /^<@(\d+)>/.exec(rest);
      if (mid) {
        const u = users.byId(Number(mid[1]));
        if (u) {
          text();
          const sp = el('span', 'mention', '@' + u.nickname);
          sp.title = u.name;
          parent.appendChild(sp);
        } else buf += mid[0];
        i += mid[0].length;
        continue;
      }
      const al = noLinks ? null : /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(rest);
      const alHref = al ? safeHref(al[1]!) : null;
      if (al && alHref) {
        text();
        link(alHref, al[1]!);
        i += al[0].length;
        continue;
      }
    }
    if (c === '@' && !isWord(s[i - 1]) && s[i - 1] !== '.') {
      const nm = /^@([A-Za-z0-9_][A-Za-z0-9_.-]*)/.exec(s.slice(i, i + 100));
      if (nm) {
        const nick = nm[1]!.replace(/[.-]+$/, '');
        const known = users.byNick(nick.toLowerCase());
        if (known || nick === 'all' || nick === 'here') {
          text();
          const ms = el('span', 'mention', '@' + nick);
          if (known) ms.title = known.name;
          parent.appendChild(ms);
          i += 1 + nick.length;
          continue;
        }
      }
    }
    if (!noLinks && /[hHwW]/.test(c) && !isWord(s[i - 1])) {
      const bare = /^(?:https?:\/\/|www\.)[^\s<>]+/i.exec(s.slice(i, i + 2000));
      if (bare) {
        const trimmed = trimBareUrl(bare[0]);
        const target = safeHref(/^www\./i.test(trimmed) ? 'http://' + trimmed : trimmed);
        if (target && trimmed.length > 4) {
          text();
          link(target, trimmed);
          i += trimmed.length;
          continue;
        }
      }
    }
    if ((c === '*' || c === '~') && s[i + 1] === c && !isSpace(s[i + 2])) {
      const e2 = findClose(s, i + 2, c + c, false);
      if (e2 > i + 2 && !isSpace(s[e2 - 1])) {
        text();
        wrap(c === '*' ? 'strong' : 's', s.slice(i + 2, e2));
        i = e2 + 2;
        continue;
      }
    }
    if (c === '*' && s[i + 1] !== '*' && !isSpace(s[i + 1])) {
      const e1 = findClose(s, i + 1, '*', true);
      if (e1 > i + 1 && !isSpace(s[e1 - 1])) {
        text();
        wrap('em', s.slice(i + 1, e1));
        i = e1 + 1;
        continue;
      }
    }
    // snake_case stays as is: an underscore only opens/closes at a word edge.
    if (c === '_' && !isWord(s[i - 1]) && s[i + 1] !== '_' && !isSpace(s[i + 1])) {
      let eu = -1;
      for (let k = i + 1; k < s.length; k++) {
        if (s[k] === '\\') {
          k++;
          continue;
        }
        if (s[k] === '_' && !isSpace(s[k - 1]) && !isWord(s[k + 1]) && s[k + 1] !== '_') {
          eu = k;
          break;
        }
      }
      if (eu > i + 1) {
        text();
        wrap('em', s.slice(i + 1, eu));
        i = eu + 1;
        continue;
      }
    }
    buf += c;
    i++;
  }
  text();
}

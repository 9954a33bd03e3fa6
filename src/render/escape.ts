/**
 * Escaping for Pachca markdown (not HTML).
 *
 * A value is escaped in two steps because whether a backslash is right depends on where the value
 * lands: outside code `*` must become `\*`, but inside a code span or fenced block backslashes are
 * shown literally. So `escapeMarkdown` only *marks* risky characters with a private-use sentinel,
 * and `finalizeMarkdown` — run once on the whole rendered message — turns each mark into a
 * backslash escape outside code, or drops it inside code. The template's own backticks are never
 * marked, so they alone decide where code starts and ends.
 *
 * What cannot be expressed with backslashes is neutralised with an invisible U+2060 WORD JOINER:
 * after every `@` (no `@all`, `@nick` or `<@123>` mention can form) and between a URL scheme and
 * `//` (no bare auto-link). Line breaks inside a value become spaces: one value is one line, so it
 * cannot open a code fence or break the bold/italic around it.
 */

/** Private-use sentinel: "the next character needs a backslash outside code". */
export const MARK = '\uE000';
export const WORD_JOINER = '\u2060';
/** Shown instead of a backtick that came from data and lands inside code (it would end the span). */
export const BACKTICK_STANDIN = '\u02CB';

// Characters that start or end Pachca markup: emphasis, strike, code, links, autolinks (`<`), escapes.
// `>` is left alone: quotes are not rendered and an autolink cannot open without `<`.
const ALWAYS_MARKED = new Set(['\\', '*', '~', '`', '[', ']', '<']);
const WORDISH = /[\p{L}\p{N}]/u;
// Bidi overrides/isolates can visually reorder the surrounding message (trojan-source style).
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
// C0/C1 controls except tab/newline (handled separately) and our own sentinel.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uE000]/g;
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029\u0085]/g;
const SCHEME = /\b([a-z][a-z0-9+.-]{1,15}):(?=\/\/)/gi;
const WWW = /\b(www)\./gi;

/**
 * Makes a data value safe to place into a markdown message: shown literally, notifying no one.
 * The result contains sentinels; the message must go through `finalizeMarkdown`.
 */
export function escapeMarkdown(value: string): string {
  const flat = value
    .replace(LINE_BREAKS, ' ')
    .replace(/\t/g, ' ')
    .replace(CONTROLS, '')
    .replace(BIDI_CONTROLS, '')
    .replace(SCHEME, `$1:${WORD_JOINER}`)
    .replace(WWW, `$1${WORD_JOINER}.`);
  const chars = Array.from(flat);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ALWAYS_MARKED.has(ch)) {
      out += MARK + ch;
    } else if (ch === '_') {
      // `snake_case` never becomes italic (intraword `_` is inert), so only mark `_` at a word edge:
      // this keeps identifiers readable while `_x_` still cannot italicise.
      const prev = chars[i - 1];
      const next = chars[i + 1];
      const inner = prev !== undefined && next !== undefined && WORDISH.test(prev) && WORDISH.test(next);
      out += inner ? ch : MARK + ch;
    } else if (ch === '@') {
      out += '@' + WORD_JOINER;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Plain text for places that are always code (table cells inside a fenced block): no markup is
 * parsed there, but a backtick could still close the block and `@` could still notify.
 */
export function sanitizeForCode(value: string): string {
  return value
    .replace(LINE_BREAKS, ' ')
    .replace(/\t/g, ' ')
    .replace(CONTROLS, '')
    .replace(BIDI_CONTROLS, '')
    .replace(/`/g, BACKTICK_STANDIN)
    .replace(/@/g, '@' + WORD_JOINER);
}

const FENCE = /^\s{0,3}```/;

/** Resolves the sentinels left by `escapeMarkdown`, knowing which parts of each line are code. */
export function finalizeMarkdown(text: string): string {
  if (!text.includes(MARK)) return text;
  let inFence = false;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (FENCE.test(line)) {
      inFence = !inFence;
      lines[n] = unmarkCode(line);
      continue;
    }
    lines[n] = inFence ? unmarkCode(line) : finalizeLine(line);
  }
  return lines.join('\n');
}

function unmarkCode(s: string): string {
  return s.replace(/\uE000([\s\S]?)/g, (_m, ch: string) => (ch === '`' ? BACKTICK_STANDIN : ch));
}

/** One line outside fences: find inline code spans made of the template's (unmarked) backticks. */
function finalizeLine(line: string): string {
  // Backtick runs that are not marked (a marked one came from data).
  const runs: Array<{ start: number; len: number }> = [];
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '`' || (i > 0 && line[i - 1] === MARK)) continue;
    let j = i;
    while (j < line.length && line[j] === '`') j++;
    runs.push({ start: i, len: j - i });
    i = j - 1;
  }
  const codeRanges: Array<[number, number]> = [];
  for (let a = 0; a < runs.length; a++) {
    const open = runs[a]!;
    const closeIndex = runs.findIndex((r, b) => b > a && r.len === open.len);
    if (closeIndex === -1) continue;
    codeRanges.push([open.start + open.len, runs[closeIndex]!.start]);
    a = closeIndex;
  }
  let out = '';
  let range = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    while (range < codeRanges.length && codeRanges[range]![1] <= i) range++;
    const r = codeRanges[range];
    const inCode = r !== undefined && i >= r[0] && i < r[1];
    if (ch !== MARK) {
      out += ch;
      continue;
    }
    const next = line[i + 1];
    if (next === undefined) continue;
    if (inCode) out += next === '`' ? BACKTICK_STANDIN : next;
    else out += '\\' + next;
    i++;
  }
  return out;
}

/**
 * Message hygiene: no trailing spaces, at most one blank line in a row, no leading/trailing blank
 * lines. Whitespace-only output becomes '' (the pipeline then skips the run).
 */
export function normalizeOutput(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((l) => l.replace(/[ \t]+$/, ''));
  const out: string[] = [];
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

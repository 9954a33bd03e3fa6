/**
 * Splitting long Markdown into messages that each fit Pachca's size limit (UTF-8 bytes).
 * Pure: no I/O, no clock. Cuts prefer paragraph boundaries, then line boundaries, then (last
 * resort) characters; a fenced code block is never cut in the middle of the Markdown: a block
 * too long for one message is closed at the end of each part and reopened (same info string)
 * at the start of the next, so every part renders on its own.
 */

const encoder = new TextEncoder();

/** Size of `s` as Pachca counts it: UTF-8 bytes (Cyrillic is 2 bytes a character). */
export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Below this a part could not even hold a code fence pair plus a character. */
export const MIN_SPLIT_BYTES = 32;

type Unit =
  | { kind: 'text'; lines: string[]; sep: string }
  | { kind: 'code'; open: string; close: string; closed: boolean; body: string[]; sep: string };

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/** Splits `content` into the fewest practical parts of at most `maxBytes` UTF-8 bytes each. */
export function splitContent(content: string, maxBytes: number): string[] {
  if (!Number.isFinite(maxBytes) || maxBytes < MIN_SPLIT_BYTES) {
    throw new RangeError(`splitContent: maxBytes must be at least ${MIN_SPLIT_BYTES}, got ${maxBytes}`);
  }
  if (utf8Bytes(content) <= maxBytes) return [content];

  const parts: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur.trim() !== '') parts.push(cur);
    cur = '';
  };
  const add = (piece: string, sep: string) => {
    if (cur === '') {
      cur = piece;
    } else if (utf8Bytes(cur) + utf8Bytes(sep) + utf8Bytes(piece) <= maxBytes) {
      cur += sep + piece;
    } else {
      flush();
      cur = piece;
    }
  };

  for (const unit of parseUnits(content)) {
    const whole = renderUnit(unit);
    if (utf8Bytes(whole) <= maxBytes) {
      add(whole, unit.sep);
      continue;
    }
    // Too long on its own: its pieces each fit, and the last one stays open for what follows.
    const pieces = unit.kind === 'text' ? splitLines(unit.lines, maxBytes) : splitCode(unit, maxBytes);
    pieces.forEach((p, i) => add(p, i === 0 ? unit.sep : '\n'));
  }
  flush();
  return parts;
}

function renderUnit(u: Unit): string {
  if (u.kind === 'text') return u.lines.join('\n');
  return [u.open, ...u.body, ...(u.closed ? [u.close] : [])].join('\n');
}

/**
 * Paragraphs (runs of non-blank lines) and fenced code blocks, each with the separator that
 * preceded it in the source, so parts that are not cut keep the original text exactly.
 */
function parseUnits(content: string): Unit[] {
  const lines = content.split('\n');
  const units: Unit[] = [];
  let blank = 0; // blank lines seen since the previous unit
  let text: Extract<Unit, { kind: 'text' }> | null = null;
  const sepNow = () => (units.length === 0 && text === null ? '' : '\n'.repeat(blank + 1));

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE_OPEN.exec(line);
    if (fence && !(fence[1]!.startsWith('`') && fence[2]!.includes('`'))) {
      const sep = sepNow();
      text = null;
      const marker = fence[1]!;
      const closeRe = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
      const body: string[] = [];
      let close = marker;
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (closeRe.test(lines[i]!)) {
          close = lines[i]!;
          closed = true;
          break;
        }
        body.push(lines[i]!);
      }
      units.push({ kind: 'code', open: line, close, closed, body, sep });
      blank = 0;
      continue;
    }
    if (line.trim() === '') {
      if (text !== null) text = null;
      blank++;
      continue;
    }
    if (text === null) {
      text = { kind: 'text', lines: [], sep: sepNow() };
      units.push(text);
      blank = 0;
    }
    text.lines.push(line);
  }
  return units;
}

/** Lines packed greedily; a line too long on its own is cut between characters. */
function splitLines(lines: string[], maxBytes: number): string[] {
  const out: string[] = [];
  let cur: string | null = null;
  for (const line of lines) {
    const chunks = utf8Bytes(line) <= maxBytes ? [line] : splitChars(line, maxBytes);
    for (const c of chunks) {
      if (cur !== null && utf8Bytes(cur) + 1 + utf8Bytes(c) <= maxBytes) cur += '\n' + c;
      else {
        if (cur !== null) out.push(cur);
        cur = c;
      }
    }
  }
  if (cur !== null) out.push(cur);
  return out;
}

/** The body of a code block spread over parts that are each a complete fenced block. */
function splitCode(u: Extract<Unit, { kind: 'code' }>, maxBytes: number): string[] {
  // Only the marker is reused for closing: the original closing line may be longer or indented.
  const marker = FENCE_OPEN.exec(u.open)![1]!;
  const overhead = utf8Bytes(u.open) + 1 + 1 + utf8Bytes(marker);
  const budget = maxBytes - overhead;
  if (budget < 4) {
    // An absurdly long info string: the fence cannot be kept, cut the raw text instead.
    return splitLines(renderUnit(u).split('\n'), maxBytes);
  }
  const bodies = splitLines(u.body.length ? u.body : [''], budget);
  return bodies.map((b) => `${u.open}\n${b}\n${marker}`);
}

/**
 * Cuts between code points (never inside a UTF-8 sequence or a surrogate pair), each chunk at
 * most `maxBytes` bytes.
 */
export function splitChars(s: string, maxBytes: number): string[] {
  const out: string[] = [];
  let cur = '';
  let curBytes = 0;
  for (const ch of s) {
    const b = encoder.encode(ch).length;
    if (curBytes + b > maxBytes && cur !== '') {
      out.push(cur);
      cur = '';
      curBytes = 0;
    }
    cur += ch;
    curBytes += b;
  }
  if (cur !== '') out.push(cur);
  return out;
}

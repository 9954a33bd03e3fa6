/**
 * Display width in a monospace font, wcwidth-style: enough to align table columns in a code block.
 * Cyrillic/Latin = 1 column, emoji and East Asian wide/fullwidth = 2, combining marks and
 * zero-width characters = 0. Works on grapheme clusters so 👍🏽 or 🇷🇺 count once.
 */
// Built on first use: constructing a Segmenter loads ICU break data (tens of ms at start-up), and
// most texts (Latin, Cyrillic, digits) never need it.
let segmenter: Intl.Segmenter | undefined;
/** Every code point here is one grapheme of width 1 on its own (no combining marks, no emoji). */
const SIMPLE = /^[\u0020-\u007e\u00a0-\u00ac\u00ae-\u02ff\u0370-\u03ff\u0400-\u0482\u048a-\u052f\u2010-\u2027\u2030-\u205e\u20a0-\u20bf\u2190-\u21ff\u2500-\u25fc\u25ff]*$/;

const ZERO_WIDTH = /^(?:\p{M}|\p{Cc}|\p{Cf}|[\u200B-\u200F\u2060-\u2064\uFEFF])+$/u;
const EMOJI = /\p{Emoji_Presentation}|\uFE0F|\p{Regional_Indicator}/u;

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

export function graphemes(text: string): string[] {
  if (SIMPLE.test(text)) return Array.from(text);
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

export function graphemeWidth(g: string): number {
  if (ZERO_WIDTH.test(g)) return 0;
  if (EMOJI.test(g)) return 2;
  return isWide(g.codePointAt(0)!) ? 2 : 1;
}

export function displayWidth(text: string): number {
  if (SIMPLE.test(text)) return text.length;
  let w = 0;
  for (const g of graphemes(text)) w += graphemeWidth(g);
  return w;
}

export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

export function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}

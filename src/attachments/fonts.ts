/**
 * The fonts charts are drawn with: shipped in assets/fonts (Noto Sans, OFL-1.1, subset to Latin,
 * Cyrillic, ₽ and typographic punctuation) and loaded explicitly, never from the system, so a chart
 * looks the same on a laptop, in CI and in a distroless container, and Cyrillic never becomes boxes.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DigestError } from '../errors.js';

export const CHART_FONT_FAMILY = 'Noto Sans';

/** src/attachments, dist/attachments and the bundled dist/bin all sit two levels under the package root. */
const FONT_DIR = new URL('../../assets/fonts/', import.meta.url);
export const FONT_FILES = ['NotoSans-Regular.ttf', 'NotoSans-SemiBold.ttf'].map((f) => fileURLToPath(new URL(f, FONT_DIR)));

let checked = false;
export function chartFontFiles(): string[] {
  if (!checked) {
    const missing = FONT_FILES.filter((f) => !existsSync(f));
    if (missing.length > 0) {
      throw new DigestError('E_INTERNAL', `chart font missing: ${missing.join(', ')}`, {
        hint: 'the package is incomplete: reinstall pachca-digest (assets/fonts ships with it)',
      });
    }
    checked = true;
  }
  return FONT_FILES;
}

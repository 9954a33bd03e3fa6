import type { LintWarning } from './types.js';

/**
 * Markup Pachca shows as raw characters (headings, lists, quotes, tables), found outside fenced
 * code blocks. Used by the CLI on rendered output (`render`) and on template source (`validate`);
 * Handlebars tags such as `{{#each}}` start with `{{` and never match.
 */
const RULES: Array<{ test: RegExp; message: string; hint: string }> = [
  {
    test: /^\s{0,3}#{1,6}(\s|$)/,
    message: 'headings (#) are not rendered by Pachca',
    hint: 'use **bold** for headings',
  },
  {
    test: /^\s*[-*+]\s+\S/,
    message: 'bulleted lists (-, *, +) are not rendered by Pachca',
    hint: 'use • or an emoji for list items',
  },
  {
    test: /^\s*\d{1,9}[.)]\s+\S/,
    message: 'numbered lists (1.) are not rendered by Pachca',
    hint: 'number items with an emoji (1️⃣) or write "1 —"',
  },
  {
    test: /^\s*>/,
    message: 'quotes (>) are not rendered by Pachca',
    hint: 'use *italic* or an emoji such as 💬 to set a line apart',
  },
  {
    test: /^\s*\|.*\|\s*$/,
    message: 'markdown tables are not rendered by Pachca',
    hint: 'use the {{table rows}} helper (an aligned monospace block)',
  },
];

const FENCE = /^\s{0,3}```/;

export function lintMessage(text: string): LintWarning[] {
  const warnings: LintWarning[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let fenceLine = 0;
  lines.forEach((line, i) => {
    if (FENCE.test(line)) {
      fenceLine = fenceLine === 0 ? i + 1 : 0;
      return;
    }
    if (fenceLine !== 0) return;
    for (const rule of RULES) {
      if (rule.test.test(line)) {
        warnings.push({ line: i + 1, message: rule.message, hint: rule.hint });
        break;
      }
    }
  });
  if (fenceLine !== 0) {
    warnings.push({
      line: fenceLine,
      message: 'code block opened with ``` is never closed',
      hint: 'close it with ``` on its own line, or the rest of the message becomes code',
    });
  }
  return warnings;
}

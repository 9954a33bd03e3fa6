import { describe, expect, it } from 'vitest';
import { lintMessage } from '../../src/render/index.js';

describe('lintMessage', () => {
  it('flags markup Pachca does not render, with hints', () => {
    const text = ['# Заголовок', '- пункт', '* пункт', '1. первый', '> цитата', '| a | b |', '**жирный**', '*курсив*', '• пункт', '{{#each x}}'].join('\n');
    expect(lintMessage(text)).toEqual([
      { line: 1, message: 'headings (#) are not rendered by Pachca', hint: 'use **bold** for headings' },
      { line: 2, message: 'bulleted lists (-, *, +) are not rendered by Pachca', hint: 'use • or an emoji for list items' },
      { line: 3, message: 'bulleted lists (-, *, +) are not rendered by Pachca', hint: 'use • or an emoji for list items' },
      { line: 4, message: 'numbered lists (1.) are not rendered by Pachca', hint: 'number items with an emoji (1️⃣) or write "1 —"' },
      { line: 5, message: 'quotes (>) are not rendered by Pachca', hint: 'use *italic* or an emoji such as 💬 to set a line apart' },
      { line: 6, message: 'markdown tables are not rendered by Pachca', hint: 'use the {{table rows}} helper (an aligned monospace block)' },
    ]);
  });

  it('ignores fenced code blocks and reports an unclosed one', () => {
    expect(lintMessage('```text\n# not a heading\n| a | b |\n```\nok')).toEqual([]);
    expect(lintMessage('ok\n```\n# x')).toEqual([
      { line: 2, message: 'code block opened with ``` is never closed', hint: 'close it with ``` on its own line, or the rest of the message becomes code' },
    ]);
  });

  it('does not flag #hashtags without a space, or negative numbers', () => {
    expect(lintMessage('#release прошёл\n-5 задач\n**1.** итог')).toEqual([]);
  });
});

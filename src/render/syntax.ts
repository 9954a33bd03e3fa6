/**
 * Template syntax errors in words: the Handlebars parser reports a token list ("expecting
 * 'OPEN_INVERSE_CHAIN', 'INVERSE'…"); an author needs the line, a caret and what is wrong
 * ("`{{#each}}` opened on line 3 is never closed"). This scans the source for the mistakes people
 * make (an unclosed block, a block closed by another name, a `{{` never closed); anything else keeps
 * the parser's position with a plain message.
 */

export interface SyntaxProblem {
  line: number;
  /** 0-based, as Handlebars counts. */
  column: number;
  message: string;
  hint: string;
}

interface Pos {
  line: number;
  column: number;
}

function posAt(source: string, index: number): Pos {
  let line = 1;
  let start = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < index; i = source.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: index - start };
}

/** The first structural mistake in `source`, or null when its blocks and tags are balanced. */
export function findSyntaxProblem(source: string): SyntaxProblem | null {
  const open: Array<{ name: string; at: Pos }> = [];
  const tag = /\{\{(~?)(!--[\s\S]*?--~?\}\}|![\s\S]*?\}\}|[\s\S]*?\}\})/g;
  let i = 0;
  for (;;) {
    const start = source.indexOf('{{', i);
    if (start === -1) break;
    // An escaped mustache (\{{) is text.
    if (start > 0 && source[start - 1] === '\\') {
      i = start + 2;
      continue;
    }
    tag.lastIndex = start;
    const m = tag.exec(source);
    if (!m || m.index !== start) {
      const at = posAt(source, start);
      return { ...at, message: `\`{{\` on line ${at.line} is never closed with \`}}\``, hint: 'close the tag with }}' };
    }
    const inner = m[2]!.replace(/~?\}\}$/, '').trim();
    const at = posAt(source, start);
    // `{{name}` then a later tag: the first `}}` found belongs to the next tag.
    if (!inner.startsWith('!') && inner.includes('{{')) {
      return { ...at, message: `\`{{\` on line ${at.line} is not closed with \`}}\` before the next \`{{\``, hint: 'a tag ends with two braces: }}' };
    }
    // {{#each}}, {{#> layout}}, {{#*inline "x"}}, {{^section}} open a block; a bare {{^}} is an else.
    const block = /^[#^]\*?\s*(?:>\s*)?([^\s}()~]+)/.exec(inner);
    const close = /^\/\s*([^\s}~]+)/.exec(inner);
    if (block) open.push({ name: block[1]!, at });
    else if (close) {
      const top = open.pop();
      if (!top) return { ...at, message: `\`{{/${close[1]}}}\` on line ${at.line} closes a block that was never opened`, hint: `remove it, or open the block with {{#${close[1]} …}} above` };
      if (top.name !== close[1]) {
        return {
          ...at,
          message: `\`{{/${close[1]}}}\` on line ${at.line} closes \`{{#${top.name}}}\` opened on line ${top.at.line}; close that one first with \`{{/${top.name}}}\``,
          hint: 'blocks close in the reverse order they were opened',
        };
      }
    }
    i = m.index + m[0].length;
  }
  const unclosed = open.pop();
  if (unclosed) {
    return {
      ...unclosed.at,
      message: `\`{{#${unclosed.name}}}\` opened on line ${unclosed.at.line} is never closed (add \`{{/${unclosed.name}}}\`)`,
      hint: `end the block with {{/${unclosed.name}}} where its part of the message ends`,
    };
  }
  return null;
}

/** The line and a caret under the column, as an editor would show them (indented, after a newline). */
export function excerpt(source: string, line: number, column: number): string {
  const text = source.replace(/\r\n?/g, '\n').split('\n')[line - 1];
  if (text === undefined) return '';
  const num = String(line);
  const shown = text.length > 120 ? text.slice(Math.max(0, column - 60), column + 60) : text;
  const caretAt = text.length > 120 ? Math.min(column, 60) : column;
  return `\n    ${num} | ${shown}\n    ${' '.repeat(num.length)} | ${' '.repeat(Math.max(0, caretAt))}^`;
}

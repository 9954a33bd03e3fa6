/**
 * The YAML side of loading: parse with positions, interpolate `${VAR}` in place (so node ranges
 * keep pointing at the source), and map a value path back to a line and column.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Pair,
  type Scalar,
} from 'yaml';
import { sizeProblem, structureProblems } from './yaml-limits.js';

export type PathSegment = string | number;

export interface Located {
  line: number;
  column: number;
}

export interface YamlProblem extends Located {
  message: string;
  hint?: string;
  path?: PathSegment[];
}

export interface ParsedYaml {
  doc: Document.Parsed;
  lineCounter: LineCounter;
  text: string;
  /** Syntax errors (including duplicate keys): when present, nothing else is checked. */
  problems: YamlProblem[];
}

const YAML_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'remove or rename one of the two keys',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'align the keys of one mapping at the same indentation',
  MISSING_CHAR: 'close the quote or bracket that was opened',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line: check indentation and a missing ":" above',
  BLOCK_AS_IMPLICIT_KEY: 'check indentation and a missing ":" above',
  RESOURCE_EXHAUSTION: 'a config nests a few levels (jobs → job → source → options); check for runaway brackets or indentation',
  UNEXPECTED_TOKEN: 'quote values that contain ": ", "#", "{", "[" or start with "*", "&", "@", "`"',
};

/** `depthOffset`: how deep the text's top sits in the file it was cut from (a job item: 1). */
export function parseYaml(text: string, opts: { depthOffset?: number } = {}): ParsedYaml {
  const lineCounter = new LineCounter();
  const tooLarge = sizeProblem(text);
  if (tooLarge) return { doc: parseDocument('', { lineCounter }), lineCounter, text, problems: [tooLarge] };
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, merge: true, prettyErrors: true, keepSourceTokens: false });
  const problems: YamlProblem[] = doc.errors.map((e) => {
    let pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    // yaml reports an unclosed quote at the end of the file; the opening quote is what to fix.
    const quote = e.code === 'MISSING_CHAR' ? /closing (["'])/.exec(e.message)?.[1] : undefined;
    if (quote) pos = openingQuote(text, quote, pos.line) ?? pos;
    // prettyErrors appends " at line N, column M:" and a source excerpt; the location is printed separately.
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const base =
      e.code === 'DUPLICATE_KEY'
        ? 'duplicate key: map keys must be unique'
        : e.code === 'RESOURCE_EXHAUSTION'
          ? `the YAML nests too deep to parse (${message})`
          : `YAML syntax error: ${message}`;
    return { line: pos.line, column: pos.col, message: base, hint: YAML_HINTS[e.code] ?? 'fix the YAML syntax at this position' };
  });
  const parsed: ParsedYaml = { doc, lineCounter, text, problems };
  if (problems.length === 0) problems.push(...structureProblems(parsed, opts.depthOffset ?? 0));
  return parsed;
}

function openingQuote(text: string, quote: string, beforeLine: number): { line: number; col: number } | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < Math.min(lines.length, beforeLine); i++) {
    const line = lines[i]!.replace(quote === '"' ? /\\./g : /''/g, '');
    const hash = line.search(/(^|\s)#/);
    const code = hash >= 0 && !line.slice(0, hash).includes(quote) ? line.slice(0, hash) : line;
    if ((code.split(quote).length - 1) % 2 === 1) return { line: i + 1, col: code.indexOf(quote) + 1 };
  }
  return undefined;
}

// --- Interpolation ---------------------------------------------------------------------------

export interface InterpolationResult {
  problems: YamlProblem[];
  /** Values of secret-looking variables that went into the document: never printed. */
  secrets: Set<string>;
  /** Scalars that received a secret value. */
  secretNodes: WeakSet<Node>;
}

const SECRET_NAME = /TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL|PRIVATE|AUTH/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

const VAR = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

/**
 * Replace `${VAR}` / `${VAR:-default}` in every string scalar (not keys); `$${` is a literal `${`.
 * `:-` uses the default when the variable is unset or empty, as in POSIX shells. A plain
 * (unquoted) scalar that becomes a number or boolean is retyped, so `chat_id: ${CHAT_ID}` works.
 */
export function interpolate(parsed: ParsedYaml, env: Record<string, string | undefined>): InterpolationResult {
  const result: InterpolationResult = { problems: [], secrets: new Set(), secretNodes: new WeakSet() };
  const { doc, lineCounter, text } = parsed;
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const path = pathOf(ancestors, node);
      const original = node.value;
      const rawSource = node.range ? text.slice(node.range[0], node.range[1]) : '';
      let secret = false;
      let failed = false;
      const where = (token: string): Located => {
        const idx = rawSource.indexOf(token);
        const offset = (node.range?.[0] ?? 0) + (idx >= 0 ? idx : 0);
        const p = lineCounter.linePos(offset);
        return { line: p.line, column: p.col };
      };
      const replaced = original.replace(VAR, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        if (name === undefined) {
          failed = true;
          result.problems.push({
            path,
            ...where('${'),
            message: `unterminated or invalid variable reference in ${JSON.stringify(original)}`,
            hint: 'write ${NAME} or ${NAME:-default} (NAME: letters, digits, "_"), or $${ for a literal "${"',
          });
          return match;
        }
        const value = env[name];
        if (value !== undefined && (value !== '' || fallback === undefined)) {
          if (looksSecret(name) && value !== '') {
            secret = true;
            result.secrets.add(value);
          }
          return value;
        }
        if (fallback !== undefined) return fallback;
        failed = true;
        result.problems.push({
          path,
          ...where(match),
          message: `environment variable ${name} is not set (used as ${match})`,
          hint: `set ${name} in the environment or .env, or write \${${name}:-default}`,
        });
        return match;
      });
      if (failed || replaced === original) return;
      node.value = retype(node, replaced);
      if (secret) result.secretNodes.add(node);
    },
  });
  return result;
}

/** The value path of a node from yaml's visitor ancestors (Document, maps, pairs, sequences). */
function pathOf(ancestors: readonly unknown[], node: unknown): PathSegment[] {
  const out: PathSegment[] = [];
  ancestors.forEach((a, i) => {
    if (isPair(a) && isScalar(a.key)) out.push(String(a.key.value));
    else if (isSeq(a)) {
      const child = ancestors[i + 1] ?? node;
      const idx = a.items.indexOf(child as never);
      if (idx >= 0) out.push(idx);
    }
  });
  return out;
}

function retype(node: Scalar, value: string): unknown {
  if (node.type !== 'PLAIN') return value;
  if (/^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

// --- Positions -------------------------------------------------------------------------------

export interface NodeLookup {
  /** The node at the path, or the nearest existing ancestor. */
  node: Node | null;
  /** The pair whose value is `node` (when the last found step was a map key). */
  pair: Pair | null;
  /** True when the whole path exists. */
  exact: boolean;
}

export function lookup(doc: Document.Parsed, path: readonly PathSegment[]): NodeLookup {
  let node: Node | null = (doc.contents as Node | null) ?? null;
  let pair: Pair | null = null;
  for (const seg of path) {
    if (node && isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? node;
    if (node && isMap(node)) {
      const found = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!found) return { node, pair, exact: false };
      pair = found as Pair;
      node = (found.value as Node | null) ?? null;
      if (node === null) return { node: null, pair, exact: true };
    } else if (node && isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return { node, pair, exact: false };
      node = item;
      pair = null;
    } else {
      return { node, pair, exact: false };
    }
  }
  return { node, pair, exact: true };
}

/** Line/column of a path's value (or, with `key`, of its key); nearest ancestor when missing. */
export function positionOf(parsed: ParsedYaml, path: readonly PathSegment[], opts: { key?: boolean } = {}): Located {
  const { node, pair } = lookup(parsed.doc, path);
  let offset: number | undefined;
  if (opts.key && pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
  else if (node?.range) offset = node.range[0];
  else if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
  if (offset === undefined) return { line: 1, column: 1 };
  const p = parsed.lineCounter.linePos(offset);
  return { line: p.line, column: p.col };
}

/** Position of key `key` inside the map at `path` (for unknown-key errors). */
export function keyPosition(parsed: ParsedYaml, path: readonly PathSegment[], key: string): Located {
  return positionOf(parsed, [...path, key], { key: true });
}

export function formatPath(path: readonly PathSegment[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) s += s ? `.${seg}` : seg;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

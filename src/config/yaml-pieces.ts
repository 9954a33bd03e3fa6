/**
 * A config's YAML as the loader reads it: one document, or, for a plain `jobs:` list, the rest of
 * the file plus one small document per job, parsed when the loader reaches that job.
 *
 * Why pieces: yaml builds the whole file's syntax tree before any value exists, and for a config
 * of a thousand jobs that tree lives long enough to be promoted to V8's old space, where it stays
 * until a full collection, long after loading. A daemon's peak memory was mostly that garbage.
 * One job's tree dies young. The pieces must read exactly like the whole file, so they are only
 * used when nothing can differ: any problem (syntax, structure, `${VAR}`, alias) abandons them and
 * the loader starts again on the whole document, which then reports it as it always did.
 */
import { isAlias, isPair, isScalar, isSeq, visit, type Node } from 'yaml';
import { interpolate, lookup, parseYaml, positionOf, type Located, type NodeLookup, type ParsedYaml, type PathSegment, type YamlProblem } from './yaml.js';
import { firstAlias, YAML_LIMITS } from './yaml-limits.js';

/** What the loader needs of its YAML, whichever way it was read. */
export interface ConfigYaml {
  /** Syntax and structure problems: when there are any, nothing else is checked. */
  readonly problems: YamlProblem[];
  /** Values of secret-looking variables that went into the config (grows as jobs are read). */
  readonly secrets: Set<string>;
  /** Resolve `${VAR}` (once, before values()); returns what could not be resolved. */
  interpolate(env: Record<string, string | undefined>): YamlProblem[];
  /** The config as plain values; may throw yaml's ReferenceError for an alias guard. */
  values(): unknown;
  /** Job `i` as plain values. */
  job(data: unknown, i: number): unknown;
  positionOf(path: readonly PathSegment[], opts?: { key?: boolean }): Located;
  lookup(path: readonly PathSegment[]): NodeLookup;
  /** Whether the scalar at the path received a secret variable's value. */
  isSecretNode(path: readonly PathSegment[]): boolean;
  firstAlias(): Located;
}

const TO_JS = { maxAliasCount: 1000 } as const;

export class WholeYaml implements ConfigYaml {
  readonly parsed: ParsedYaml;
  readonly secrets = new Set<string>();
  #secretNodes = new WeakSet<Node>();

  constructor(text: string) {
    this.parsed = parseYaml(text);
  }

  get problems(): YamlProblem[] {
    return this.parsed.problems;
  }

  interpolate(env: Record<string, string | undefined>): YamlProblem[] {
    const r = interpolate(this.parsed, env);
    for (const s of r.secrets) this.secrets.add(s);
    this.#secretNodes = r.secretNodes;
    return r.problems;
  }

  values(): unknown {
    return this.parsed.doc.toJS(TO_JS);
  }

  job(data: unknown, i: number): unknown {
    return (data as { jobs: unknown[] }).jobs[i];
  }

  positionOf(path: readonly PathSegment[], opts: { key?: boolean } = {}): Located {
    return positionOf(this.parsed, path, opts);
  }

  lookup(path: readonly PathSegment[]): NodeLookup {
    return lookup(this.parsed.doc, path);
  }

  isSecretNode(path: readonly PathSegment[]): boolean {
    const { node, exact } = this.lookup(path);
    return exact && node !== null && this.#secretNodes.has(node);
  }

  firstAlias(): Located {
    return firstAlias(this.parsed);
  }
}

/** Thrown when the pieces cannot stand for the whole file: the loader starts again on the whole. */
export class PiecesAbandoned extends Error {}

export interface JobPieces {
  /** The file with the job items' lines emptied (so every other line keeps its number). */
  header: string;
  /** Columns every item line was moved left by. */
  indent: number;
  /** Each item as a document of its own: `- name: ...`, starting at 0-based line `line`. */
  items: Array<{ line: number; text: string }>;
}

const JOBS_KEY = /^jobs[ \t]*:[ \t]*(#.*)?$/;

/**
 * Cut a plain block `jobs:` list into items, or null when the file has any shape the cut could
 * change the meaning of: tabs, CR line ends, several documents or directives, a `jobs:` that is
 * not a block list at the top level, or a line inside the list indented less than its items.
 */
export function splitJobs(text: string): JobPieces | null {
  if (text.includes('\t') || text.includes('\r') || Buffer.byteLength(text, 'utf8') > YAML_LIMITS.maxBytes) return null;
  const lines = text.split('\n');
  let key = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('---') || l.startsWith('...') || l.startsWith('%')) return null;
    if (JOBS_KEY.test(l)) {
      if (key >= 0) return null;
      key = i;
    }
  }
  if (key < 0) return null;
  let first = key + 1;
  while (first < lines.length && isBlankOrComment(lines[first]!)) first++;
  const m = first < lines.length ? /^( *)-( |$)/.exec(lines[first]!) : null;
  if (!m) return null;
  const indent = m[1]!.length;
  const items: JobPieces['items'] = [];
  let end = first;
  let start = first;
  for (; end < lines.length; end++) {
    const l = lines[end]!;
    const lead = l.length - l.trimStart().length;
    if (l.trim() === '') continue;
    const comment = l.trimStart().startsWith('#');
    if (lead < indent) {
      // A comment left of the items closes the list only if what follows it does.
      if (comment && continuesList(lines, end + 1, indent)) return null;
      break;
    }
    if (lead === indent && !comment) {
      if (!/^-( |$)/.test(l.slice(indent))) {
        if (indent > 0) return null;
        break;
      }
      if (end > start) items.push(piece(lines, start, end, indent));
      start = end;
    }
  }
  items.push(piece(lines, start, end, indent));
  const header = lines.map((l, i) => (i > key && i < end ? '' : l)).join('\n');
  return { header, indent, items };
}

function continuesList(lines: string[], from: number, indent: number): boolean {
  for (let i = from; i < lines.length; i++) {
    const l = lines[i]!;
    if (isBlankOrComment(l)) continue;
    return l.length - l.trimStart().length >= indent;
  }
  return false;
}

function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

function piece(lines: string[], start: number, end: number, indent: number): { line: number; text: string } {
  const out: string[] = [];
  for (let i = start; i < end; i++) {
    const l = lines[i]!;
    // Blank lines keep whatever spaces lie beyond the indent: a block scalar may count them.
    out.push(l.slice(Math.min(indent, l.length - l.trimStart().length)));
  }
  return { line: start, text: out.join('\n') + '\n' };
}

interface ReadItem {
  index: number;
  parsed: ParsedYaml;
  secretNodes: WeakSet<Node>;
}

export class PiecewiseYaml implements ConfigYaml {
  readonly #header: WholeYaml;
  readonly #pieces: JobPieces;
  #env: Record<string, string | undefined> = {};
  /** The job last read: the loader asks about one job at a time, in order. */
  #current: ReadItem | undefined;
  /** Values counted so far, for the same limit the whole document is held to. */
  #nodes = 0;
  readonly #counted: Uint8Array;

  constructor(pieces: JobPieces) {
    this.#pieces = pieces;
    this.#header = new WholeYaml(pieces.header);
    this.#nodes = countNodes(this.#header.parsed);
    this.#counted = new Uint8Array(pieces.items.length);
  }

  get problems(): YamlProblem[] {
    return this.#header.problems;
  }

  get secrets(): Set<string> {
    return this.#header.secrets;
  }

  interpolate(env: Record<string, string | undefined>): YamlProblem[] {
    this.#env = env;
    return this.#header.interpolate(env);
  }

  values(): unknown {
    const data = this.#header.values() as Record<string, unknown> | null;
    if (!data || typeof data !== 'object' || data.jobs !== null) throw new PiecesAbandoned('the rest of the file is not a mapping with an empty `jobs:`');
    // Checked job by job through job(); the top level only counts them.
    return { ...data, jobs: new Array<unknown>(this.#pieces.items.length).fill(undefined) };
  }

  job(_data: unknown, i: number): unknown {
    const item = this.#read(i);
    const seq = item.parsed.doc.toJS(TO_JS) as unknown[];
    return seq[0];
  }

  positionOf(path: readonly PathSegment[], opts: { key?: boolean } = {}): Located {
    const i = this.#jobIndex(path);
    if (i === undefined) {
      if (path.length === 1 && path[0] === 'jobs' && !opts.key) return { line: this.#pieces.items[0]!.line + 1, column: this.#pieces.indent + 1 };
      return this.#header.positionOf(path, opts);
    }
    const item = this.#read(i);
    const p = positionOf(item.parsed, [0, ...path.slice(2)], opts);
    return { line: p.line + this.#pieces.items[i]!.line, column: p.column + this.#pieces.indent };
  }

  lookup(path: readonly PathSegment[]): NodeLookup {
    const i = this.#jobIndex(path);
    if (i === undefined) {
      if (path.length === 1 && path[0] === 'jobs') return { node: null, pair: null, exact: true };
      return this.#header.lookup(path);
    }
    return lookup(this.#read(i).parsed.doc, [0, ...path.slice(2)]);
  }

  isSecretNode(path: readonly PathSegment[]): boolean {
    const i = this.#jobIndex(path);
    if (i === undefined) return this.#header.isSecretNode(path);
    const item = this.#read(i);
    const { node, exact } = lookup(item.parsed.doc, [0, ...path.slice(2)]);
    return exact && node !== null && item.secretNodes.has(node);
  }

  firstAlias(): Located {
    return this.#header.firstAlias();
  }

  #jobIndex(path: readonly PathSegment[]): number | undefined {
    const i = path[1];
    return path[0] === 'jobs' && typeof i === 'number' && i >= 0 && i < this.#pieces.items.length ? i : undefined;
  }

  #read(i: number): ReadItem {
    if (this.#current?.index === i) return this.#current;
    this.#current = undefined;
    const parsed = parseYaml(this.#pieces.items[i]!.text, { depthOffset: 1 });
    if (parsed.problems.length > 0) throw new PiecesAbandoned(`job ${i} has a YAML problem`);
    const seq = parsed.doc.contents;
    if (!isSeq(seq) || seq.items.length !== 1 || usesAnchors(parsed)) throw new PiecesAbandoned(`job ${i} is not one plain item`);
    // A job read again (a late question about its position) adds no values.
    if (!this.#counted[i]) {
      this.#counted[i] = 1;
      this.#nodes += countNodes(parsed);
      // The whole document counts a little differently (one list, not one per job): stay well clear.
      if (this.#nodes > YAML_LIMITS.maxExpandedNodes - NODE_MARGIN) throw new PiecesAbandoned('near the limit on values');
    }
    const r = interpolate(parsed, this.#env);
    if (r.problems.length > 0) throw new PiecesAbandoned(`job ${i} has a \${VAR} problem`);
    for (const s of r.secrets) this.secrets.add(s);
    this.#current = { index: i, parsed, secretNodes: r.secretNodes };
    return this.#current;
  }
}

const NODE_MARGIN = 1000;

/** Anchors, aliases and merge keys tie a job to text outside it (or change what a key lookup means). */
function usesAnchors(parsed: ParsedYaml): boolean {
  let found = false;
  visit(parsed.doc, {
    Node(_key, node) {
      if (isAlias(node) || (node as { anchor?: string }).anchor) {
        found = true;
        return visit.BREAK;
      }
      return undefined;
    },
    Pair(_key, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === '<<') {
        found = true;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function countNodes(parsed: ParsedYaml): number {
  let n = 0;
  visit(parsed.doc, {
    Node() {
      n++;
    },
  });
  return n;
}

/**
 * `when:` and `change_key:` — JSONata expressions over the render context (the language the `http`
 * source's `select` uses, compiled by the same function, so users learn one).
 *
 * Syntax is checked at load. Names are checked against the data at render time, because the data
 * only exists then: a misspelt `metrics.eror_rate` would otherwise evaluate to "nothing" and the
 * monitor would stay silent forever — the same reason `skip_if` fails on a missing path.
 */
import { DigestError, type ErrorLocation } from '../errors.js';
import { compileJsonata } from '../sources/index.js';

export interface Expression {
  /** The text as written in the config. */
  source: string;
  /** Where it was written, for errors raised when it runs. */
  location: ErrorLocation;
  evaluate(context: unknown): Promise<unknown>;
  /** Name paths the expression reads from the root of the context (`metrics.queue`). */
  readonly paths: string[][];
}

interface JsonataExpr {
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
  ast(): unknown;
}

/** Compile at load; a syntax error becomes E_CONFIG at the field. */
export async function compileExpression(source: string, location: ErrorLocation, field: string): Promise<Expression> {
  let expr: JsonataExpr;
  try {
    expr = (await compileJsonata(source)) as unknown as JsonataExpr;
  } catch (err) {
    throw new DigestError('E_CONFIG', `${field}: ${(err as Error).message.replace(/^invalid select expression: /, 'invalid expression: ')}`, {
      location,
      hint: `${field} is a JSONata expression over the render context, e.g. "metrics.error_rate > 0.05 or metrics.queue > 100" (https://docs.jsonata.org)`,
    });
  }
  const paths = rootPaths(expr.ast());
  return {
    source,
    location,
    paths,
    evaluate: (context) => expr.evaluate(context),
  };
}

/** Evaluate `when:`: a boolean, or an error that says what came out instead. */
export async function evaluateCondition(expr: Expression, context: unknown, job: string): Promise<boolean> {
  const value = await evaluateChecked(expr, context, job, 'when');
  if (value === undefined) return false; // e.g. a filter over an empty list: nothing matches
  if (typeof value !== 'boolean') {
    throw new DigestError('E_SOURCE', `when: "${expr.source}" gave ${describe(value)}, not true or false`, {
      location: expr.location,
      hint: 'Compare the value, e.g. "metrics.queue > 100", or wrap it in $boolean(…).',
    });
  }
  return value;
}

/** Evaluate `change_key:`: any JSON value, compared by its canonical JSON text. */
export async function evaluateKey(expr: Expression, context: unknown, job: string): Promise<string> {
  return canonicalJson(await evaluateChecked(expr, context, job, 'change_key'));
}

async function evaluateChecked(expr: Expression, context: unknown, job: string, field: string): Promise<unknown> {
  checkNames(expr, context, job, field);
  try {
    return await expr.evaluate(context);
  } catch (err) {
    throw new DigestError('E_SOURCE', `${field}: "${expr.source}" failed: ${(err as Error).message}`, {
      location: expr.location,
      hint: `Try it on the data: \`pachca-digest render ${job} --json\` prints the context.`,
    });
  }
}

/**
 * A name the data does not have is a config mistake. A path through null (an optional source that
 * failed) or through a list (JSONata maps over it) is not checked further.
 */
export function checkNames(expr: Expression, context: unknown, job: string, field: string): void {
  for (const path of expr.paths) {
    let cur: unknown = context;
    for (let i = 0; i < path.length; i++) {
      if (cur === null || cur === undefined || Array.isArray(cur) || typeof cur !== 'object') break;
      const key = path[i]!;
      if (!(key in (cur as object))) {
        const seen = path.slice(0, i).join('.') || 'the context';
        const keys = Object.keys(cur as object).slice(0, 12);
        throw new DigestError('E_SOURCE', `${field}: "${path.join('.')}" is not in the data (${seen} has no "${key}")`, {
          location: expr.location,
          hint: `${seen} has: ${keys.join(', ') || 'nothing'}. Fix the name; \`pachca-digest render ${job} --json\` shows the data.`,
        });
      }
      cur = (cur as Record<string, unknown>)[key];
    }
  }
}

type Node = { type?: string; value?: unknown; steps?: Node[]; stages?: unknown; predicate?: unknown; group?: unknown; [k: string]: unknown };

/**
 * Paths of plain names that start at the root of the input. Names inside predicates, lambdas and
 * group-by are relative to something else and are left alone.
 */
function rootPaths(ast: unknown): string[][] {
  const out: string[][] = [];
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (!n || typeof n !== 'object') return;
    const node = n as Node;
    if (node.type === 'lambda') return;
    if (node.type === 'name' && typeof node.value === 'string') {
      out.push([node.value]);
      return;
    }
    if (node.type === 'path' && Array.isArray(node.steps)) {
      const names: string[] = [];
      for (const step of node.steps) {
        if (step.type !== 'name' || typeof step.value !== 'string') break;
        names.push(step.value);
        if (step.stages || step.predicate || step.group) break;
      }
      if (names.length > 0) out.push(names);
      // Arguments of function calls inside later steps still start at the root only when the
      // path itself is a function call; those are visited as their own nodes.
      for (const step of node.steps) if (step.type === 'function') visit(step);
      return;
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'stages' || k === 'predicate' || k === 'group' || k === 'position' || k === 'value') continue;
      visit(v);
    }
  };
  visit(ast);
  return out;
}

export function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

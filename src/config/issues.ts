/**
 * Turning zod issues into readable config problems: the bad value in the message, a hint that
 * says the fix, did-you-mean for unknown keys and enum values.
 */
import { z } from 'zod';
import type { PathSegment } from './yaml.js';

export interface Problem {
  path: PathSegment[];
  message: string;
  hint?: string;
  /** Point at the key rather than the value (unknown keys). */
  atKey?: boolean;
}

// --- did you mean ------------------------------------------------------------------------------

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate when it is close enough to be a typo (case-insensitive). */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const hay = c.toLowerCase();
    let score = editDistance(needle, hay);
    // "Moscow" for "Europe/Moscow": compare with the last path segment too.
    const tail = hay.slice(hay.lastIndexOf('/') + 1);
    if (tail !== hay) score = Math.min(score, editDistance(needle, tail) + 0.5);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(needle.length / 3));
  return bestScore <= limit ? best : undefined;
}

// --- schema navigation -------------------------------------------------------------------------

type AnySchema = z.core.$ZodType;

function def(s: AnySchema): any {
  return (s as any)._zod.def;
}

/** Unwrap optional/default/prefault/pipe wrappers, collecting the first description seen. */
function unwrap(s: AnySchema): { schema: AnySchema; description?: string } {
  let description: string | undefined;
  let cur: AnySchema = s;
  for (let i = 0; i < 20; i++) {
    description ??= z.globalRegistry.get(cur)?.description;
    const d = def(cur);
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) cur = d.innerType;
    else if (d.type === 'pipe') cur = d.in;
    else break;
  }
  return { schema: cur, description };
}

/** The schema at a data path, or undefined when the path leaves the schema. */
export function schemaAt(root: AnySchema, path: readonly PathSegment[]): { schema: AnySchema; description?: string } | undefined {
  let cur = unwrap(root);
  for (const seg of path) {
    const d = def(cur.schema);
    let next: AnySchema | undefined;
    if (d.type === 'object') next = d.shape[seg as string];
    else if (d.type === 'array' && typeof seg === 'number') next = d.element;
    else if (d.type === 'record') next = d.valueType;
    else if (d.type === 'union') {
      for (const opt of d.options as AnySchema[]) {
        const found = schemaAt(opt, [seg]);
        if (found) {
          next = found.schema;
          break;
        }
      }
    }
    if (!next) return undefined;
    cur = unwrap(next);
  }
  return cur;
}

/** Known keys of the object schema at a path (all object branches of a union). */
export function keysAt(root: AnySchema, path: readonly PathSegment[]): string[] {
  const at = schemaAt(root, path);
  if (!at) return [];
  const keys = new Set<string>();
  const collect = (s: AnySchema) => {
    const d = def(unwrap(s).schema);
    if (d.type === 'object') Object.keys(d.shape).forEach((k) => keys.add(k));
    else if (d.type === 'union') (d.options as AnySchema[]).forEach(collect);
    else if (d.type === 'array') collect(d.element);
  };
  collect(at.schema);
  return [...keys];
}

// --- issue → problem ---------------------------------------------------------------------------

export function describeValue(v: unknown, redact = false): string {
  if (redact) return '<redacted>';
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (an empty value)';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    number: 'a number',
    int: 'an integer',
    string: 'a string',
    boolean: 'true or false',
    object: 'a mapping (key: value)',
    array: 'a list',
    record: 'a mapping (key: value)',
  };
  return names[expected] ?? expected;
}

function getAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

export interface IssueContext {
  /** The schema that produced the issues (for known keys and field descriptions). */
  schema: AnySchema;
  /** The data that was validated. */
  data: unknown;
  /** Prepended to every problem path (e.g. `['jobs', 2]`). */
  prefix: PathSegment[];
  /** Whether the value at a path must not be printed. */
  isSecret: (path: PathSegment[]) => boolean;
  /** Extra keys allowed at the data root (shown in did-you-mean). */
  extraKeys?: string[];
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) out.push(...issueToProblems(issue, ctx));
  return out;
}

function issueToProblems(issue: z.core.$ZodIssue, ctx: IssueContext): Problem[] {
  const local = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
  const path = [...ctx.prefix, ...local];
  const value = getAt(ctx.data, local);
  const shown = describeValue(value, ctx.isSecret(path));
  const field = schemaAt(ctx.schema, local);
  const key = local.length ? String(local[local.length - 1]) : '';
  const fieldHint = field?.description ? `${key ? `${key}: ` : ''}${field.description}` : undefined;

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = [...keysAt(ctx.schema, local), ...(local.length === 0 ? (ctx.extraKeys ?? []) : [])];
      return issue.keys.map((k) => {
        const guess = didYouMean(k, known);
        return {
          path: [...path, k],
          atKey: true,
          message: `unknown key "${k}"`,
          hint: guess
            ? `did you mean "${guess}"?`
            : `remove it; known keys here: ${known.join(', ')}`,
        };
      });
    }
    case 'invalid_type': {
      if (value === undefined) {
        return [{ path, message: `missing required key "${key}"`, hint: fieldHint ? `add it — ${fieldHint}` : `add "${key}"` }];
      }
      const expected = issue.expected === 'number' && /int/i.test(issue.message) ? 'int' : issue.expected;
      return [{ path, message: `expected ${typeName(expected)}, got ${shown}`, hint: fieldHint }];
    }
    case 'invalid_value': {
      if (value === undefined) {
        return [{ path, message: `missing required key "${key}"`, hint: fieldHint ? `add it — ${fieldHint}` : `add "${key}"` }];
      }
      const allowed = issue.values.map((v) => String(v));
      const guess = typeof value === 'string' ? didYouMean(value, allowed) : undefined;
      return [
        {
          path,
          message: `${shown} is not allowed; expected ${allowed.length === 1 ? allowed[0] : `one of: ${allowed.join(', ')}`}`,
          hint: guess ? `did you mean "${guess}"?` : fieldHint,
        },
      ];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const incl = (issue as any).inclusive !== false;
      let what: string;
      if (issue.origin === 'array') what = `${small ? 'at least' : 'at most'} ${limit} item(s), got ${Array.isArray(value) ? value.length : 0}`;
      else if (issue.origin === 'string') what = `${small ? 'at least' : 'at most'} ${limit} characters, got ${typeof value === 'string' ? value.length : 0}`;
      else what = `a value ${small ? (incl ? '≥' : '>') : incl ? '≤' : '<'} ${limit}, got ${shown}`;
      const custom = /^(Too|Number|String|Array)/.test(issue.message) ? undefined : issue.message;
      return [{ path, message: custom ? `${custom} (${what})` : `expected ${what}`, hint: fieldHint }];
    }
    case 'invalid_format':
      return [{ path, message: `${shown}: ${customOr(issue.message, `expected ${issue.format}`)}`, hint: fieldHint }];
    case 'not_multiple_of':
      return [{ path, message: `${shown} is not a multiple of ${String(issue.divisor)}`, hint: fieldHint }];
    case 'invalid_union':
      return [{ path, message: `${shown}: ${customOr(issue.message, 'does not match any allowed form')}`, hint: fieldHint }];
    case 'invalid_key':
      return [{ path, message: `key ${describeValue(getAt(ctx.data, local))}: ${issue.issues[0]?.message ?? issue.message}`, hint: fieldHint }];
    case 'invalid_element':
      return [{ path, message: issue.message, hint: fieldHint }];
    case 'custom': {
      const hint = (issue.params as { hint?: string } | undefined)?.hint;
      return [{ path, message: issue.message, hint: hint ?? fieldHint }];
    }
    default:
      return [{ path, message: (issue as { message: string }).message, hint: fieldHint }];
  }
}

function customOr(message: string, fallback: string): string {
  return /^Invalid/.test(message) ? fallback : message;
}

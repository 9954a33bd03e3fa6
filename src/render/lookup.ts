/**
 * The runtime side of the compiler hooks (compile.ts): generated code calls these through
 * `container.helpers`, so every output is markdown-escaped here and every path lookup is checked
 * here, where an error can name the missing path, what exists instead and the template's file:line.
 */
import type { DigestError } from '../errors.js';
import { produced, step } from './budget.js';
import { escapeMarkdown } from './escape.js';
import { HELPER_NAMES } from './helpers.js';
import { closest } from './suggest.js';
import { templateError, type HbsLoc, type TemplateSite } from './location.js';

/** The helper names generated code calls (registered by the engine, emitted by the compiler). */
export const LOOKUP = '__digest_lookup';
export const ESCAPE = '__digest_escape';
export const RAW = '__digest_raw';

export interface LookupMeta {
  parts: string[];
  full: string;
  /** `{{a.b}}` output: every segment must exist. Helper params only need the parents to exist. */
  output: boolean;
  /** The path is in a helper's name position (`{{numbr x}}`): say "unknown helper". */
  helper: boolean;
  site: TemplateSite;
  loc?: HbsLoc;
}

function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Array.isArray(value)) return value.map(toText).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function isSafe(value: unknown): value is { toHTML(): string } {
  return value !== null && typeof value === 'object' && typeof (value as { toHTML?: unknown }).toHTML === 'function';
}

export function escapeValue(value: unknown): string {
  const out = isSafe(value) ? value.toHTML() : escapeMarkdown(toText(value));
  produced(out.length);
  return out;
}

export function rawValue(value: unknown): string {
  const out = isSafe(value) ? value.toHTML() : toText(value);
  produced(out.length);
  return out;
}

function missing(meta: LookupMeta, index: number, holder: unknown): DigestError {
  const prefix = meta.parts.slice(0, index).join('.');
  const part = meta.parts[index]!;
  if (meta.helper) {
    const guess = closest(part, HELPER_NAMES);
    return templateError(
      meta.site,
      meta.loc,
      `unknown helper or field "${meta.full}"`,
      guess ? `did you mean the helper "${guess}"?` : 'see docs/templates.md for the list of helpers',
    );
  }
  if (holder === null || holder === undefined) {
    return templateError(
      meta.site,
      meta.loc,
      `"${meta.full}" is not defined (${prefix ? `"${prefix}"` : 'the current value'} is ${holder})`,
      'guard it with {{#if …}} or use (default value "—")',
    );
  }
  const keys = typeof holder === 'object' ? Object.keys(holder as object) : [];
  const guess = closest(part, keys);
  const where = prefix ? `"${prefix}"` : 'this level';
  let hint = guess
    ? `did you mean "${[...meta.parts.slice(0, index), guess].join('.')}"?`
    : keys.length > 0
      ? `${where} has: ${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''}`
      : `${where} has no fields`;
  if (!meta.output) hint += '; to test an optional field use (lookup obj "key")';
  return templateError(meta.site, meta.loc, `"${meta.full}" is not defined`, hint);
}

export function checkedLookup(container: { lookupProperty(o: unknown, k: string): unknown }, base: unknown, meta: LookupMeta): unknown {
  step(meta.site, meta.loc);
  let cur = base;
  const last = meta.parts.length - 1;
  for (let i = 0; i <= last; i++) {
    const part = meta.parts[i]!;
    if (cur === null || cur === undefined) {
      // A null parent inside a helper argument reads as "no data" and stays null all the way down,
      // so `{{delta metrics.revenue previous.revenue}}` prints "—" on a job's first run (previous
      // is null) instead of failing on undefined. Only an explicit null counts: a missing parent
      // is a typo and still fails below.
      if (i > 0 && cur === null && !meta.output && !meta.helper) return null;
      throw missing(meta, i, cur);
    }
    if (!(part in Object(cur))) {
      if (i === last && !meta.output && !meta.helper) return undefined;
      throw missing(meta, i, cur);
    }
    cur = container.lookupProperty(cur, part);
  }
  return cur;
}

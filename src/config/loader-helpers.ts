/**
 * The loader's module-level pieces: the zod schemas it builds once per process, and small helpers
 * shared by its stages (load.ts and the loader-*.ts layers).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { DigestError, isDigestError } from '../errors.js';
import { configSchema, defaultsSchema, jobSchema, looseSourceSchema, type RawDefaults } from './schema.js';

// One parse per process: zod's JIT fast path costs more to generate than it saves here.
z.config({ jitless: true });

/**
 * Built once per process (zod schemas are costly to construct), and only when a config is loaded.
 * `full` (the top level with jobs spelled out) only describes a broken top level, so a config that
 * loads never builds it: that is a tenth of a one-shot run's start-up.
 */
let cachedTop: z.ZodType | undefined;
let cachedJob: z.ZodType | undefined;
let cachedFull: z.ZodType | undefined;
export const schemas = {
  top: () => (cachedTop ??= configSchema(z.unknown())),
  job: () => (cachedJob ??= jobSchema(looseSourceSchema())),
  full: () => (cachedFull ??= configSchema(schemas.job())),
};

// --- helpers -------------------------------------------------------------------------------------

export function fallbackDefaults(data: unknown): RawDefaults {
  const raw = isRecord(data) ? data.defaults : undefined;
  const r = defaultsSchema().safeParse(raw);
  return r.success ? r.data : defaultsSchema().parse(undefined);
}

export function asProblem(err: unknown, code: 'E_TEMPLATE' | 'E_CONFIG', location: DigestError['location']): DigestError {
  if (isDigestError(err)) {
    return err.location?.file ? err : new DigestError(err.code, err.message, { location: { ...location, ...err.location }, hint: err.hint, cause: err });
  }
  return new DigestError(code, (err as Error)?.message ?? String(err), { location, cause: err });
}

export function listTemplates(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 3 || out.length > 200) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, entry.name);
      if (entry.isDirectory()) walk(abs, depth + 1);
      else if (entry.isFile()) out.push(relative(dir, abs).split(sep).join('/'));
    }
  };
  try {
    walk(dir, 0);
  } catch {
    // An unreadable directory only loses the suggestion.
  }
  return out.sort();
}

export function readDotenv(file: string): Record<string, string> {
  try {
    return parseDotenv(readFileSync(file));
  } catch {
    return {};
  }
}

export function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Relative to cwd when inside it (short, clickable), absolute otherwise. */
export function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * `type:` of a source → its definition: a built-in name, a plugin file (`./plugins/x.js`, relative
 * to the config directory) or an npm package installed next to the config.
 *
 * A plugin module's default export (or named `source` export) is either a defineSource() result /
 * a plain `{ name, options, collect }` object, or a factory `({ z, defineSource, SourceError }) =>
 * source`. The factory form needs no imports at all, so the same file works inside this repo, next
 * to a global install and in a container — see examples/plugins/weather.js.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { DigestError } from '../errors.js';
import { defineSource, type SourceDefinition } from './define.js';
import { SourceError } from './errors.js';
import { BUILTIN_SOURCES } from './builtin/index.js';

export interface PluginApi {
  z: typeof z;
  defineSource: typeof defineSource;
  SourceError: typeof SourceError;
}

const PLUGIN_API: PluginApi = Object.freeze({ z, defineSource, SourceError });
const PLUGIN_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
const PACKAGE_NAME = /^(?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*(?:\/[\w.~/-]+)?$/i;

export function builtinSources(): SourceDefinition[] {
  return [...BUILTIN_SOURCES];
}

export function getBuiltinSource(name: string): SourceDefinition | undefined {
  return BUILTIN_SOURCES.find((s) => s.name === name);
}

export async function resolveSource(type: string, configDir: string): Promise<SourceDefinition> {
  const builtin = getBuiltinSource(type);
  if (builtin) return builtin;
  if (isPathLike(type)) {
    const file = type.startsWith('file:') ? new URL(type).pathname : isAbsolute(type) ? type : resolvePath(configDir, type);
    const ext = extname(file).toLowerCase();
    if (!PLUGIN_EXTENSIONS.has(ext)) {
      throw pluginError(type, file, `a plugin must be a JavaScript module (.js or .mjs), not "${ext || 'no extension'}"`,
        'Compile TypeScript plugins to .js first, or write the plugin in plain JavaScript.');
    }
    if (!existsSync(file)) {
      throw pluginError(type, file, 'file not found', 'Plugin paths are relative to the directory of the config file.');
    }
    return loadPlugin(type, file);
  }
  if (PACKAGE_NAME.test(type) && (type.includes('/') || type.includes('-') || !closestBuiltin(type))) {
    const file = resolvePackage(type, configDir);
    if (file) return loadPlugin(type, file);
  }
  const suggestion = closestBuiltin(type);
  const names = BUILTIN_SOURCES.map((s) => s.name).join(', ');
  throw new DigestError('E_CONFIG', `unknown source type "${type}"`, {
    hint:
      (suggestion ? `Did you mean "${suggestion}"? ` : '') +
      `Built-in types: ${names}. A plugin is "./path/to/plugin.js" (relative to the config) or an installed npm package name.`,
  });
}

function isPathLike(type: string): boolean {
  return type.startsWith('./') || type.startsWith('../') || type.startsWith('/') || type.startsWith('file:') || /^\.\.?$/.test(type);
}

function pluginError(type: string, file: string, problem: string, hint?: string, cause?: unknown): DigestError {
  return new DigestError('E_CONFIG', `source plugin "${type}" (${file}): ${problem}`, {
    hint: hint ?? 'A plugin exports default defineSource({ name, options, collect }) — see examples/plugins/weather.js.',
    location: { file },
    cause,
  });
}

async function loadPlugin(type: string, file: string): Promise<SourceDefinition> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error & { code?: string };
    const problem = e.code === 'ERR_MODULE_NOT_FOUND' ? `cannot load: ${e.message}` : `failed to load: ${e.name}: ${e.message}`;
    throw pluginError(type, file, problem, undefined, err);
  }
  let candidate: unknown = mod.default ?? mod.source;
  // CommonJS: `module.exports = { source }` arrives as default.
  if (!isSourceDefinition(candidate) && isObject(candidate) && 'source' in candidate) candidate = candidate.source;
  if (typeof candidate === 'function') {
    try {
      candidate = await (candidate as (api: PluginApi) => unknown)(PLUGIN_API);
    } catch (err) {
      throw pluginError(type, file, `the plugin factory threw: ${(err as Error).message}`, undefined, err);
    }
  }
  if (candidate === undefined) {
    throw pluginError(type, file, 'the module has no default export and no export named "source"');
  }
  const problem = whyNotSource(candidate);
  if (problem) throw pluginError(type, file, `the export is not a source: ${problem}`);
  return candidate as SourceDefinition;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function whyNotSource(v: unknown): string | undefined {
  if (!isObject(v)) return `expected an object, got ${v === null ? 'null' : typeof v}`;
  if (typeof v.name !== 'string' || v.name === '') return 'it has no "name" string';
  if (typeof v.collect !== 'function') return 'it has no collect(ctx) function';
  const options = v.options as { safeParse?: unknown } | undefined;
  if (!isObject(options) || typeof options.safeParse !== 'function') return '"options" must be a zod schema (z.object({...}).strict())';
  return undefined;
}

export function isSourceDefinition(v: unknown): v is SourceDefinition {
  return whyNotSource(v) === undefined;
}

/** Resolves an installed package from the config directory, ESM-only packages included. */
function resolvePackage(name: string, configDir: string): string | undefined {
  const require = createRequire(join(configDir, '__pachca_digest_resolve__.js'));
  try {
    return require.resolve(name);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED' && code !== 'MODULE_NOT_FOUND') throw err;
  }
  // `require.resolve` ignores the "import" condition, so read exports ourselves.
  const parts = name.split('/');
  const pkgName = name.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = `.${name.slice(pkgName.length)}`;
  for (let dir = resolvePath(configDir); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', pkgName);
    const pkgJson = join(pkgDir, 'package.json');
    if (existsSync(pkgJson)) {
      let pkg: Record<string, any>;
      try {
        pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
      } catch {
        return undefined;
      }
      const target = exportsTarget(pkg.exports, subpath) ?? (subpath === '.' ? (pkg.module ?? pkg.main ?? 'index.js') : subpath);
      const file = resolvePath(pkgDir, target);
      return existsSync(file) ? file : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function exportsTarget(exports: unknown, subpath: string): string | undefined {
  if (exports === undefined || exports === null) return undefined;
  if (typeof exports === 'string') return subpath === '.' ? exports : undefined;
  if (Array.isArray(exports)) {
    for (const e of exports) {
      const t = exportsTarget(e, subpath);
      if (t) return t;
    }
    return undefined;
  }
  if (!isObject(exports)) return undefined;
  const keys = Object.keys(exports);
  if (keys.some((k) => k.startsWith('.'))) {
    return conditionTarget(exports[subpath]);
  }
  return subpath === '.' ? conditionTarget(exports) : undefined;
}

function conditionTarget(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    for (const e of v) {
      const t = conditionTarget(e);
      if (t) return t;
    }
    return undefined;
  }
  if (!isObject(v)) return undefined;
  for (const cond of ['import', 'node', 'default']) {
    if (cond in v) {
      const t = conditionTarget(v[cond]);
      if (t) return t;
    }
  }
  return undefined;
}

function closestBuiltin(type: string): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const lower = type.toLowerCase();
  for (const { name } of BUILTIN_SOURCES) {
    const d = lower === name ? 0 : lower.startsWith(name) || name.startsWith(lower) ? 1 : levenshtein(lower, name);
    if (d < bestDist) {
      best = name;
      bestDist = d;
    }
  }
  return best !== undefined && bestDist <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * The `pachca-digest` binary's loader (bundled by scripts/bundle.mjs as dist/bin/pachca-digest.js,
 * CommonJS). A one-shot `run-job` spends most of its start compiling JavaScript; Node 20 has no
 * compile cache for modules, so this loader compiles the bundle's chunks itself with V8 code cache
 * that the build recorded from a training run (`pachca-digest.v8cache`). The cache holds bytecode
 * only: the same source runs, with the same output. A cache V8 refuses (another Node version,
 * other V8 flags) or one from another build (the build id the bundler writes into both, and each
 * chunk's size) is ignored, and the chunk compiles as usual. (Hashing the chunks at every start
 * would cost more than a tenth of what the cache saves.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { join, sep } from 'node:path';
import { Script } from 'node:vm';

interface CacheFile {
  build: string;
  /** chunk file name → [its source's length, offset, length] in the blob after the header. */
  chunks: Record<string, [number, number, number]>;
}

/** Set by scripts/bundle.mjs, different for every build. */
declare const __PD_BUILD_ID__: string;
const BUILD_ID = typeof __PD_BUILD_ID__ === 'string' ? __PD_BUILD_ID__ : 'dev';

type Extension = (module: NodeModule, filename: string) => void;
interface ModuleInternals {
  _extensions: Record<string, Extension>;
  wrap(source: string): string;
}

const CACHE_NAME = 'pachca-digest.v8cache';

/**
 * scripts/bundle.mjs writes each chunk inside this function already, so compiling one takes its
 * source as read: wrapping it here would concatenate a second copy of every chunk (megabytes of
 * large-object space, garbage only a full GC frees), which is what made a dry run end in one.
 * The same wrapper Node puts around a CommonJS file, so line numbers in stack traces are the same.
 */
export const CHUNK_WRAPPER = ['(function (exports, require, module, __filename, __dirname) { ', '\n});'] as const;

function readCache(dir: string): { index: CacheFile['chunks']; blob: Buffer } | undefined {
  try {
    const raw = readFileSync(join(dir, CACHE_NAME));
    const headerLength = raw.readUInt32LE(0);
    const header = JSON.parse(raw.subarray(4, 4 + headerLength).toString('utf8')) as CacheFile;
    if (header.build !== BUILD_ID) return undefined;
    return { index: header.chunks, blob: raw.subarray(4 + headerLength) };
  } catch {
    return undefined;
  }
}

/**
 * Compile this directory's chunks through V8 code cache. With `record`, keep the compiled scripts
 * and return a function that writes their cache (taken at that moment, so it includes every
 * function the run compiled lazily).
 */
export function installCodeCache(dir: string, record = false): (() => void) | undefined {
  const M = Module as unknown as ModuleInternals;
  const base = M._extensions['.js']!;
  const cache = record ? undefined : readCache(dir);
  const recorded: Array<{ name: string; size: number; script: Script }> = [];
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  M._extensions['.js'] = (module, filename) => {
    if (!filename.startsWith(prefix) || filename.includes(sep, prefix.length)) return base(module, filename);
    const name = filename.slice(prefix.length);
    const source = readFileSync(filename, 'utf8').replace(/^#!.*/, '');
    const entry = cache?.index[name];
    const cachedData = entry && entry[0] === source.length ? cache!.blob.subarray(entry[1], entry[1] + entry[2]) : undefined;
    const script = new Script(source.startsWith(CHUNK_WRAPPER[0]) ? source : M.wrap(source), { filename, cachedData });
    if (record) recorded.push({ name, size: source.length, script });
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    const require = Module.createRequire(filename);
    wrapper.call(module.exports, module.exports, require, module, filename, dir);
  };
  if (!record) return undefined;
  return () => {
    const chunks: CacheFile['chunks'] = {};
    const parts: Buffer[] = [];
    let offset = 0;
    for (const { name, size, script } of recorded) {
      const data = script.createCachedData();
      chunks[name] = [size, offset, data.length];
      parts.push(data);
      offset += data.length;
    }
    const header = Buffer.from(JSON.stringify({ build: BUILD_ID, chunks } satisfies CacheFile), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length, 0);
    writeFileSync(join(dir, CACHE_NAME), Buffer.concat([length, header, ...parts]));
  };
}

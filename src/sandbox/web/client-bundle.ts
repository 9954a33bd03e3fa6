/**
 * The page's script, `/__web/app.js`: the typed module in client/ bundled by esbuild.
 *
 * Where it comes from depends on how this code runs: the CLI bundle has it inlined at build time
 * (scripts/bundle.mjs defines __PD_SANDBOX_CLIENT_JS__); the tsc build (dist/, the library) reads
 * dist/sandbox/web/app.js written next to this file by the same script; running from src/ (vitest)
 * bundles client/ on first use, so tests always exercise the current source.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

declare const __PD_SANDBOX_CLIENT_JS__: string | undefined;

/** esbuild options for the page's script; scripts/bundle.mjs uses the same ones. */
export const CLIENT_BUILD_OPTIONS = {
  bundle: true,
  format: 'iife',
  // What the page's CSS and APIs need anyway (grid, EventSource, Intl); no polyfills.
  target: ['chrome110', 'firefox110', 'safari16'],
  charset: 'utf8',
  legalComments: 'none',
  logLevel: 'warning',
} as const;

/** The built file's name next to this module in dist/. */
export const CLIENT_ASSET = 'app.js';

let cached: Promise<string> | undefined;

export function clientJs(): Promise<string> {
  cached ??= load();
  // A failed load (say, a syntax error while editing client/) is retried on the next request.
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

async function load(): Promise<string> {
  if (typeof __PD_SANDBOX_CLIENT_JS__ === 'string') return __PD_SANDBOX_CLIENT_JS__;
  const built = new URL(`./${CLIENT_ASSET}`, import.meta.url);
  if (existsSync(built)) return readFile(built, 'utf8');
  const entry = fileURLToPath(new URL('./client/main.ts', import.meta.url));
  if (!existsSync(entry)) throw new Error(`the sandbox web client is not built (${fileURLToPath(built)}): run npm run build`);
  // esbuild is a devDependency: only a source checkout gets here.
  const { build } = await import('esbuild');
  const out = await build({ ...CLIENT_BUILD_OPTIONS, target: [...CLIENT_BUILD_OPTIONS.target], entryPoints: [entry], write: false });
  return out.outputFiles[0]!.text;
}

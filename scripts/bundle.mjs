// Bundles the CLI into dist/bin/ so `run-job` (once per Kubernetes pod) does not pay for resolving
// and loading hundreds of dependency files. Dynamic imports stay separate chunks, so a command
// still loads only what it uses. Native and optional drivers stay external.
import { build } from 'esbuild';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
// tsc has run (npm run build): the client's build options come from the one place that defines them.
import { CLIENT_ASSET, CLIENT_BUILD_OPTIONS } from '../dist/sandbox/web/client-bundle.js';

// The sandbox web page's script: a typed module in src/sandbox/web/client/, one file for the browser.
const client = await build({
  ...CLIENT_BUILD_OPTIONS,
  target: [...CLIENT_BUILD_OPTIONS.target],
  entryPoints: ['src/sandbox/web/client/main.ts'],
  write: false,
});
const clientJs = client.outputFiles[0].text;
// For dist/ as a library (startSandbox from dist/index.js, scripts/screenshot.mjs).
writeFileSync(`dist/sandbox/web/${CLIENT_ASSET}`, clientJs);

rmSync('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: { 'pachca-digest': 'src/cli/bin.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Loaded from node_modules at run time: native addons, optional drivers, the browser driver,
  // and undici (only HTTP sources need the shared agent; the client imports it lazily too).
  // esbuild: only a source checkout bundles the web client at run time; here it is inlined (define).
  external: ['better-sqlite3', 'pg', 'pg-native', 'playwright-core', 'undici', 'esbuild'],
  define: { __PD_SANDBOX_CLIENT_JS__: JSON.stringify(clientJs) },
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __pdCreateRequire } from 'node:module';\nconst require = __pdCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync('dist/bin/pachca-digest.js', 0o755);

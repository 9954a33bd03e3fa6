// Bundles the CLI into dist/bin/ so `run-job` (once per Kubernetes pod) does not pay for resolving
// and loading hundreds of dependency files. Dynamic imports stay separate chunks, so a command
// still loads only what it uses. Native and optional drivers stay external.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

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
  external: ['better-sqlite3', 'pg', 'pg-native', 'playwright-core', 'undici'],
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __pdCreateRequire } from 'node:module';\nconst require = __pdCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync('dist/bin/pachca-digest.js', 0o755);

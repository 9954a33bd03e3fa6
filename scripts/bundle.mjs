// Bundles the CLI into dist/bin/ so `run-job` (once per Kubernetes pod) does not pay for resolving
// and loading hundreds of dependency files. Dynamic imports stay separate chunks, so a command
// still loads only what it uses. Native and optional drivers stay external.
//
// The chunks are CommonJS (esbuild splits ESM; each chunk is then converted), because Node 20 can
// feed V8 code cache only to scripts it compiles through `vm.Script`: dist/bin/pachca-digest.js
// (src/cli/code-cache.ts) does that with the cache a training run records here, which takes
// most of the compile time off every start. Same code, same output; without the cache it is slower.
// Each chunk is written inside its CommonJS wrapper already (CHUNK_WRAPPER), so it runs only through
// that loader: a plain require() of a chunk would define the function and not call it.
import { build, transform } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
// tsc has run (npm run build): the web client's build options come from the one place that defines them.
import { CLIENT_ASSET, CLIENT_BUILD_OPTIONS } from '../dist/sandbox/web/client-bundle.js';
import { CHUNK_WRAPPER } from '../dist/cli/code-cache.js';

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

const out = resolve('dist/bin');
// esbuild: only a source checkout bundles the web client at run time; the CLI has it inlined (define).
const external = ['better-sqlite3', 'pg', 'pg-native', 'playwright-core', 'undici', 'esbuild', '@resvg/resvg-js'];
// Dependency imports that only cost start-up here: handlebars takes source-map when it can (for
// source maps of compiled templates, which we never ask for; without it, its own string builder
// makes the same code); commander loads child_process (with net, dgram, streams) for executable
// subcommands, which this CLI has none of, and dotenv loads crypto (with streams) for encrypted
// .env.vault files: those get their builtin on first use instead.
const ON_FIRST_USE = { commander: 'child_process', dotenv: 'crypto' };
// zod's index re-exports every locale's error messages (`z.locales`, 40-odd languages, half of
// zod's code): nothing here selects one, and zod's default is English (classic/schemas.js imports
// en.js itself), so the namespace keeps English only.
const ZOD_LOCALES = /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/;
const trimDependencies = {
  name: 'trim-dependencies',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (ZOD_LOCALES.test(args.importer) ? { path: resolve(args.resolveDir, '../locales/en.js'), namespace: 'pd-zod-locales' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'pd-zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, loader: 'js', resolveDir: dirname(args.path) }));
    b.onResolve({ filter: /^source-map$/ }, (args) => (/[\\/]node_modules[\\/]handlebars[\\/]/.test(args.importer) ? { path: 'source-map', namespace: 'pd-absent' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'pd-absent' }, () => ({ contents: "throw new Error('source-map is left out of the bundle');", loader: 'js' }));
    b.onResolve({ filter: /^(node:)?(child_process|crypto)$/ }, (args) => {
      const pkg = /[\\/]node_modules[\\/]([^\\/]+)[\\/]/.exec(args.importer)?.[1];
      const builtin = args.path.replace(/^node:/, '');
      return pkg && ON_FIRST_USE[pkg] === builtin ? { path: builtin, namespace: 'pd-on-first-use' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'pd-on-first-use' }, (args) => ({
      contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require('node:${args.path}'))[key] });`,
      loader: 'js',
    }));
  },
};
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const split = await build({
  entryPoints: { cli: 'src/cli/bin.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  define: { __PD_SANDBOX_CLIENT_JS__: JSON.stringify(clientJs) },
  plugins: [trimDependencies],
  write: false,
  logLevel: 'warning',
});
for (const file of split.outputFiles) {
  if (!file.path.endsWith('.js')) continue;
  const cjs = await transform(file.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // import() of a chunk becomes require(): the loader below sees every chunk.
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__pdImportMetaUrl' },
    banner: "const __pdImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  });
  // Written inside the CommonJS wrapper the loader would otherwise add (src/cli/code-cache.ts says why).
  writeFileSync(file.path, CHUNK_WRAPPER[0] + cjs.code.replace(/^#!.*/, '') + CHUNK_WRAPPER[1]);
}
// dist/bin is CommonJS inside a "type": "module" package.
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');

await build({
  stdin: {
    contents: [
      "import { installCodeCache } from './code-cache.ts';",
      'export { installCodeCache };',
      'if (require.main === module) {',
      '  installCodeCache(__dirname);',
      "  require('./cli.js');",
      '}',
    ].join('\n'),
    resolveDir: resolve('src/cli'),
    loader: 'ts',
  },
  outfile: join(out, 'pachca-digest.js'),
  external: ['./cli.js'],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  define: { __PD_BUILD_ID__: JSON.stringify(randomUUID()) },
  logLevel: 'warning',
});
chmodSync(join(out, 'pachca-digest.js'), 0o755);

// Record the code cache from a dry run of a small job: config, sources, templates, rendering.
const train = mkdtempSync(join(tmpdir(), 'pachca-digest-train-'));
try {
  cpSync('templates', join(train, 'templates'), { recursive: true });
  writeFileSync(join(train, 'data.csv'), 'region,manager,manager_id,orders,revenue,revenue_prev,plan\nМосква,Анна Смирнова,101,184,2456300.50,2210400.00,2400000\nКазань,Игорь Петров,102,47,531200.00,518900.00,500000\n');
  writeFileSync(
    join(train, 'jobs.config.yaml'),
    [
      'version: 1',
      'jobs:',
      '  - name: train',
      '    schedule: "0 9 * * 1-5"',
      '    period: previous_day',
      '    source: { type: file, path: data.csv }',
      existsSync('templates/daily-sales.hbs') ? '    template: daily-sales.hbs' : '    template: { inline: "{{job.name}}" }',
      '    target: { chat_id: 1 }',
      '',
    ].join('\n'),
  );
  const script = [
    `const { installCodeCache } = require(${JSON.stringify(join(out, 'pachca-digest.js'))});`,
    `const write = installCodeCache(${JSON.stringify(out)}, true);`,
    "process.argv = [process.execPath, 'pachca-digest', 'run-job', 'train', '--dry-run'];",
    `require(${JSON.stringify(join(out, 'cli.js'))});`,
    "process.on('exit', write);",
  ].join('\n');
  const env = { ...process.env };
  for (const name of ['PACHCA_TOKEN', 'PACHCA_API_URL', 'PACHCA_DIGEST_CONFIG', 'PACHCA_DIGEST_STATE', 'NODE_OPTIONS']) delete env[name];
  const run = spawnSync(process.execPath, ['-e', script], { cwd: train, env, encoding: 'utf8' });
  if (run.status !== 0) console.warn(`bundle: no code cache (training run exited ${run.status}): ${run.stderr}`);
} finally {
  rmSync(train, { recursive: true, force: true });
}

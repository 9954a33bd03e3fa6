import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestError } from '../../src/errors.js';
import { builtinSources, defineSource, describeSourceOptions, resolveSource, sourceOptionsJsonSchema } from '../../src/sources/index.js';
import { lazySchema } from '../../src/sources/define.js';
import { z } from 'zod';
import { tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('pachca-digest-resolve-');
afterAll(cleanup);
// The ESM build of the repo's zod, as a plugin next to a global install would import its own.
const zodUrl = pathToFileURL(fileURLToPath(new URL('../../node_modules/zod/index.js', import.meta.url))).href;

async function configError(type: string, configDir = dir): Promise<DigestError> {
  try {
    await resolveSource(type, configDir);
  } catch (err) {
    expect(err).toBeInstanceOf(DigestError);
    expect((err as DigestError).code).toBe('E_CONFIG');
    return err as DigestError;
  }
  throw new Error(`resolveSource(${type}) did not fail`);
}

describe('resolveSource', () => {
  it('returns built-ins by name', async () => {
    for (const def of builtinSources()) expect(await resolveSource(def.name, dir)).toBe(def);
    expect(builtinSources().map((d) => d.name)).toEqual(['static', 'file', 'http', 'prometheus', 'sql', 'command', 'pachca']);
  });

  it('suggests the closest built-in for a typo', async () => {
    expect((await configError('promethus')).hint).toMatch(/^Did you mean "prometheus"\?/);
    expect((await configError('HTTP')).hint).toMatch(/^Did you mean "http"\?/);
    const far = await configError('kafka');
    expect(far.message).toBe('unknown source type "kafka"');
    expect(far.hint).not.toMatch(/Did you mean/);
    expect(far.hint).toContain('static, file, http, prometheus, sql, command, pachca');
  });

  it('loads a plugin file relative to the config dir: default export, named export, factory', async () => {
    mkdirSync(join(dir, 'plugins'), { recursive: true });
    writeFileSync(
      join(dir, 'plugins', 'plain.mjs'),
      `import { z } from '${zodUrl}';\nexport default { name: 'plain', options: z.object({ n: z.number() }).strict(), collect: (ctx) => ({ twice: ctx.options.n * 2 }) };\n`,
    );
    writeFileSync(
      join(dir, 'plugins', 'named.js'),
      `import { z } from '${zodUrl}';\nexport const source = { name: 'named', options: z.object({}).strict(), collect: () => 1 };\n`,
    );
    writeFileSync(
      join(dir, 'plugins', 'factory.js'),
      `export default ({ z, defineSource }) => defineSource({ name: 'factory', options: z.object({ city: z.string().describe('Город') }).strict(), collect: () => 2 });\n`,
    );
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
    const plain = await resolveSource('./plugins/plain.mjs', dir);
    expect(plain.name).toBe('plain');
    expect(await plain.collect({ options: { n: 21 } } as never)).toEqual({ twice: 42 });
    expect((await resolveSource('./plugins/named.js', dir)).name).toBe('named');
    const factory = await resolveSource(join(dir, 'plugins', 'factory.js'), '/');
    expect(factory.name).toBe('factory');
    expect(describeSourceOptions(factory)).toEqual([{ name: 'city', type: 'string', required: true, description: 'Город' }]);
  });

  it('explains a plugin that is missing, not JavaScript, broken or not a source', async () => {
    const missing = await configError('./plugins/nope.js');
    expect(missing.message).toBe(`source plugin "./plugins/nope.js" (${join(dir, 'plugins', 'nope.js')}): file not found`);

    expect((await configError('./plugins/x.ts')).message).toMatch(/must be a JavaScript module/);

    writeFileSync(join(dir, 'plugins', 'broken.js'), 'export default {{;\n');
    expect((await configError('./plugins/broken.js')).message).toMatch(/broken\.js\): failed to load: .*syntax/i);

    writeFileSync(join(dir, 'plugins', 'noopts.js'), 'export default { name: "x", options: { n: 1 }, collect() {} };\n');
    expect((await configError('./plugins/noopts.js')).message).toMatch(/noopts\.js\): the export is not a source: "options" must be a zod schema/);

    writeFileSync(join(dir, 'plugins', 'empty.js'), 'export const x = 1;\n');
    expect((await configError('./plugins/empty.js')).message).toMatch(/no default export and no export named "source"/);
  });

  it('loads an installed npm package, ESM-only exports included', async () => {
    const pkg = join(dir, 'node_modules', 'pachca-digest-source-demo');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'pachca-digest-source-demo', type: 'module', exports: { '.': { import: './dist/index.js' } } }),
    );
    writeFileSync(
      join(pkg, 'dist', 'index.js'),
      'export default ({ z }) => ({ name: "demo", options: z.object({}).strict(), collect: () => ({ ok: true }) });\n',
    );
    const scoped = join(dir, 'node_modules', '@acme', 'digest-crm');
    mkdirSync(scoped, { recursive: true });
    writeFileSync(join(scoped, 'package.json'), JSON.stringify({ name: '@acme/digest-crm', main: 'main.cjs' }));
    writeFileSync(
      join(scoped, 'main.cjs'),
      'module.exports = { source: { name: "crm", options: { safeParse() { return { success: true, data: {} }; } }, collect: () => 3 } };\n',
    );
    const sub = join(dir, 'jobs');
    mkdirSync(sub, { recursive: true });
    expect((await resolveSource('pachca-digest-source-demo', sub)).name).toBe('demo');
    expect((await resolveSource('@acme/digest-crm', dir)).name).toBe('crm');
    expect((await configError('@acme/not-installed')).message).toBe('unknown source type "@acme/not-installed"');
  });
});

describe('option listings', () => {
  it('every built-in schema is strict and documents every option', () => {
    for (const def of builtinSources()) {
      expect(def.options.safeParse({ __unknown__: 1 }).success, def.name).toBe(false);
      const opts = describeSourceOptions(def);
      expect(opts.length, def.name).toBeGreaterThan(0);
      for (const o of opts) expect(o.description, `${def.name}.${o.name}`).toBeTruthy();
      expect(sourceOptionsJsonSchema(def)?.additionalProperties, def.name).toBe(false);
    }
  });

  it('derives types, required flags and defaults from the schema', () => {
    const http = builtinSources().find((d) => d.name === 'http')!;
    const byName = Object.fromEntries(describeSourceOptions(http).map((o) => [o.name, o]));
    expect(byName.url).toMatchObject({ type: 'string', required: true });
    expect(byName.method).toMatchObject({ type: 'GET|POST|PUT|PATCH|DELETE', required: false, default: 'GET' });
    expect(byName.max_bytes).toMatchObject({ type: 'integer', default: 5 * 1024 * 1024 });
    expect(byName.headers).toMatchObject({ type: 'record<string>', required: false });
    const cmd = builtinSources().find((d) => d.name === 'command')!;
    expect(describeSourceOptions(cmd).find((o) => o.name === 'argv')).toMatchObject({ type: 'string[]', required: true });
  });
});

describe('start-up cost', () => {
  it('built-ins build their options schema when it is first read, once, not at import', () => {
    let builds = 0;
    const options = lazySchema(() => {
      builds++;
      return z.object({ n: z.number() }).strict();
    });
    // defineSource accepts an options getter without calling it (that would build at import).
    const def = defineSource({
      name: 'lazy',
      get options() {
        return options();
      },
      collect: () => 1,
    });
    expect(builds).toBe(0);
    expect(def.options.parse({ n: 1 })).toEqual({ n: 1 });
    expect(def.options).toBe(def.options);
    expect(builds).toBe(1);
    // Still refused: a definition without options at all.
    expect(() => defineSource({ name: 'none', collect: () => 1 } as never)).toThrow(TypeError);

    for (const builtin of builtinSources()) {
      expect(typeof Object.getOwnPropertyDescriptor(builtin, 'options')?.get, builtin.name).toBe('function');
      expect(builtin.options, builtin.name).toBe(builtin.options);
    }
  });

  it('src/sources/index.ts imports no database driver, jsonata, undici or child_process at module top', async () => {
    const esbuild = await import('esbuild');
    const entry = fileURLToPath(new URL('../../src/sources/index.ts', import.meta.url));
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    const forbidden = /^(pg|better-sqlite3|jsonata|undici|node:child_process|child_process|yaml)$/;
    const staticImports: string[] = [];
    const lazyImports: string[] = [];
    for (const input of Object.values(result.metafile.inputs)) {
      for (const imp of input.imports) {
        if (!forbidden.test(imp.path)) continue;
        (imp.kind === 'dynamic-import' ? lazyImports : staticImports).push(imp.path);
      }
    }
    expect(staticImports).toEqual([]);
    // The drivers are still there, just loaded on demand.
    expect(new Set(lazyImports)).toEqual(new Set(['pg', 'better-sqlite3', 'jsonata', 'undici', 'node:child_process', 'yaml']));
  });
});

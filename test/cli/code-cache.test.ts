// The bundled binary's loader (src/cli/code-cache.ts): with the build's code cache V8 accepts it,
// a cache from another build is ignored, and the output is the same either way.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHUNK_WRAPPER } from '../../src/cli/code-cache.js';

const root = resolve(__dirname, '../..');
const bin = join(root, 'dist/bin');

function run(dir: string, probe: boolean) {
  // A preload that reports whether V8 took the cache for each chunk the command compiled.
  const preload = join(dir, 'probe.cjs');
  writeFileSync(
    preload,
    "const vm = require('node:vm'); const S = vm.Script; const seen = [];" +
      "vm.Script = class extends S { constructor(src, o) { super(src, o); if (o && o.cachedData) seen.push(this.cachedDataRejected ? 'rejected' : 'used'); } };" +
      "process.on('exit', () => process.stderr.write('\\nCACHE ' + JSON.stringify(seen) + '\\n'));",
  );
  const env = { ...process.env };
  delete env.PACHCA_TOKEN;
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [...(probe ? ['-r', preload] : []), join(dir, 'bin/pachca-digest.js'), 'run-job', 'daily-sales', '--dry-run'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  const cache = /CACHE (.*)/.exec(r.stderr)?.[1];
  return { status: r.status, stdout: r.stdout, cache: cache ? (JSON.parse(cache) as string[]) : [] };
}

describe.skipIf(!existsSync(join(bin, 'pachca-digest.v8cache')))('bundled binary code cache', () => {
  it('uses the recorded cache, and ignores one from another build with the same output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-code-cache-'));
    try {
      cpSync(bin, join(dir, 'bin'), { recursive: true });
      const warm = run(dir, true);
      expect(warm.status).toBe(0);
      expect(warm.cache.length).toBeGreaterThan(3);
      expect(warm.cache.every((c) => c === 'used')).toBe(true);

      // Another build's cache (its build id differs): not offered to V8 at all.
      const file = join(dir, 'bin/pachca-digest.v8cache');
      const raw = readFileSync(file);
      const n = raw.readUInt32LE(0);
      const header = JSON.parse(raw.subarray(4, 4 + n).toString('utf8')) as { build: string };
      const other = Buffer.from(JSON.stringify({ ...header, build: header.build.replace(/./, (c) => (c === 'x' ? 'y' : 'x')) }));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(other.length, 0);
      writeFileSync(file, Buffer.concat([len, other, raw.subarray(4 + n)]));
      const cold = run(dir, true);
      expect(cold.status).toBe(0);
      expect(cold.cache).toEqual([]);
      expect(cold.stdout).toBe(warm.stdout);
      expect(warm.stdout).toMatch(/message 1\/1 → chat_id 103/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!existsSync(join(bin, 'pachca-digest.js')))('bundled binary loader', () => {
  it('runs a chunk written inside its wrapper as it is, and wraps a plain one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-loader-'));
    try {
      // The build writes its chunks that way: compiling one needs no second, concatenated copy of it.
      expect(readFileSync(join(bin, 'cli.js'), 'utf8').startsWith(CHUNK_WRAPPER[0])).toBe(true);
      // What scripts/bundle.mjs writes: the wrapper around the chunk, its line 1 kept for stack traces.
      writeFileSync(join(dir, 'wrapped.js'), `${CHUNK_WRAPPER[0]}exports.where = __filename; exports.line = new Error().stack.split('\\n')[1];${CHUNK_WRAPPER[1]}`);
      writeFileSync(join(dir, 'plain.js'), 'module.exports = { where: __filename };\n');
      const script = [
        `require(${JSON.stringify(join(bin, 'pachca-digest.js'))}).installCodeCache(${JSON.stringify(dir)});`,
        `const w = require(${JSON.stringify(join(dir, 'wrapped.js'))});`,
        `const p = require(${JSON.stringify(join(dir, 'plain.js'))});`,
        'console.log(JSON.stringify({ w, p }));',
      ].join('\n');
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { w: { where: string; line: string }; p: { where: string } };
      expect(out.w.where).toBe(join(dir, 'wrapped.js'));
      expect(out.w.line).toContain('wrapped.js:1:');
      expect(out.p.where).toBe(join(dir, 'plain.js'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

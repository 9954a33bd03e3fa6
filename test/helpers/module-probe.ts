// A `node -r` preload that reports what a child process loaded: the requests that reached Node's
// module loader, the builtins beyond those `node -e 0` has, the dist/bin chunks it evaluated and the
// WebAssembly modules it compiled. Start-up tests count modules instead of timing them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ModulesSeen {
  /** Every request Node's loader saw (relative, absolute, `node:` and package names). */
  requests: string[];
  /** Node builtins loaded after the preload started. */
  builtins: string[];
  /** dist/bin files in require.cache at exit. */
  chunks: string[];
  /** WebAssembly.Module / WebAssembly.compile calls. */
  wasm: number;
}

/** Writes the preload into `dir`; pass `preload` as `-r` and call `read()` after the child exits. */
export function moduleProbe(dir: string): { preload: string; read(): ModulesSeen } {
  const report = join(dir, 'modules-seen.json');
  const preload = join(dir, 'modules-probe.cjs');
  writeFileSync(
    preload,
    [
      "const Module = require('node:module');",
      'const before = new Set(process.moduleLoadList);',
      'const requests = []; let wasm = 0;',
      'const load = Module._load;',
      'Module._load = function (request) { requests.push(request); return load.apply(this, arguments); };',
      'const M = WebAssembly.Module; WebAssembly.Module = function (...a) { wasm++; return new M(...a); };',
      'const c = WebAssembly.compile; WebAssembly.compile = function (...a) { wasm++; return c.apply(this, a); };',
      "process.on('exit', () => {",
      "  const chunks = Object.keys(require.cache).filter((f) => f.includes('/dist/bin/'));",
      "  const builtins = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13));",
      `  require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({ requests, builtins, chunks, wasm }));`,
      '});',
    ].join('\n'),
  );
  return { preload, read: () => JSON.parse(readFileSync(report, 'utf8')) as ModulesSeen };
}

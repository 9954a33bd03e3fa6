#!/usr/bin/env node
/**
 * Folder surfaces (part of `npm run lint`): every folder of src/ has an index.ts, and a file in one
 * folder imports another folder only through that folder's index.ts. Within a folder (and its
 * subfolders) files import each other directly. `import type` counts too: a surface is what a
 * folder promises, types included.
 *
 * Exceptions are listed below with the reason, one `from -> to` per line. The usual one is a lazy
 * `import()` kept for start-up time: a command loads only the module it needs, and going through
 * the folder's index would load the whole folder (run-job starts once per Kubernetes pod).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
/** `node scripts/check-imports.mjs [srcDir]`: another tree for the script's own test. */
const SRC = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_SRC;

/** `from -> to` (paths under src/, as written with .js): why this import may bypass the index. */
export const EXCEPTIONS = {
  'cli/commands/daemon.ts -> observability/log.js':
    'lazy import() for start-up time: only the commands that log or serve metrics load them, and the folder\'s index would load all of observability',
  'cli/commands/daemon.ts -> observability/metrics.js':
    'lazy import() for start-up time: only the commands that log or serve metrics load them, and the folder\'s index would load all of observability',
  'cli/commands/daemon.ts -> observability/http.js':
    'lazy import() for start-up time: only the commands that log or serve metrics load them, and the folder\'s index would load all of observability',
  'cli/commands/daemon.ts -> scheduler/daemon.js':
    'lazy import(): only `run` needs the daemon; scheduler/index.ts is the pure time math every command loads',
  'cli/commands/run-job.ts -> observability/log.js':
    'lazy import() for start-up time: only the commands that log or serve metrics load them, and the folder\'s index would load all of observability',
  'cli/context.ts -> observability/log.js':
    'lazy import() for start-up time: only the commands that log or serve metrics load them, and the folder\'s index would load all of observability',
  'cli/commands/inspect.ts -> observability/logger.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'cli/commands/inspect.ts -> observability/secrets.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'cli/commands/run-job.ts -> observability/logger.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'cli/commands/validate.ts -> observability/logger.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'cli/commands/validate.ts -> observability/secrets.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'cli/context.ts -> observability/secrets.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'cli/main.ts -> observability/secrets.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'pipeline/errors.ts -> observability/secrets.js':
    'observability/index.ts loads pino, prom-client and undici; secrets.ts and logger.ts are small and on every command\'s path',
  'pipeline/after-run.ts -> observability/alerts.js':
    'lazy import(): alerts and heartbeats only when a job has them; observability/index.ts would load pino and prom-client',
  'config/defaults.ts -> pachca/defaults.js':
    'constants only; pachca/index.ts loads the HTTP client (undici) on every config load (`validate`, `list`, `render`)',
  'config/loader-sections.ts -> pachca/defaults.js':
    'constants only; pachca/index.ts loads the HTTP client (undici) on every config load (`validate`, `list`, `render`)',
  'config/loader-targets.ts -> interactions/payload.js':
    'a leaf (node:crypto); interactions/index.ts loads the button handler, which imports config and the pipeline: a module cycle',
  'config/schema-events.ts -> interactions/payload.js':
    'a leaf (node:crypto); interactions/index.ts loads the button handler, which imports config and the pipeline: a module cycle',
  'pipeline/plan.ts -> interactions/payload.js':
    'a leaf (node:crypto); interactions/index.ts loads the button handler, which imports the pipeline: a module cycle',
};

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function walk(dir, out = []) {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

const problems = [];
const used = new Set();
for (const entry of readdirSync(SRC)) {
  const full = join(SRC, entry);
  if (statSync(full).isDirectory() && !existsSync(join(full, 'index.ts'))) problems.push(`src/${entry}/ has no index.ts (its surface)`);
}
for (const file of walk(SRC)) {
  const from = relative(SRC, file).split(sep);
  if (from.length === 1) continue; // src/index.ts, errors.ts, events.ts: shared by every folder
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const to = relative(SRC, resolve(dirname(file), spec)).split(sep);
    if (to.length === 1 || to[0] === from[0]) continue;
    if (to.length === 2 && to[1] === 'index.js') continue;
    const key = `${from.join('/')} -> ${to.join('/')}`;
    if (SRC === DEFAULT_SRC && key in EXCEPTIONS) {
      used.add(key);
      continue;
    }
    const line = text.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
    problems.push(`src/${from.join('/')}:${line}: imports ${spec}, bypassing src/${to[0]}/index.ts (import from '${relative(dirname(file), join(SRC, to[0], 'index.js')).split(sep).join('/')}', exporting what is needed there)`);
  }
}
if (SRC === DEFAULT_SRC) for (const key of Object.keys(EXCEPTIONS)) if (!used.has(key)) problems.push(`scripts/check-imports.mjs: the exception "${key}" is no longer needed: remove it`);
if (problems.length > 0) {
  console.error(`${problems.length} import(s) bypass a folder's index.ts:\n${problems.join('\n')}`);
  process.exit(1);
}

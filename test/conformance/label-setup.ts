/**
 * Vitest setup file: keeps the current test's name where the sandbox's exchange recorder (and
 * every CLI a test spawns) finds it, so a spec violation found after the run names its test.
 */
import { relative } from 'node:path';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { EXCHANGES_LABEL_ENV } from '../../src/sandbox/exchange-recorder.js';

let file = '';

beforeAll((suite) => {
  file = relative(process.cwd(), suite.file.filepath);
  process.env[EXCHANGES_LABEL_ENV] = file;
});

beforeEach((ctx) => {
  const names: string[] = [];
  for (let t: { name: string; suite?: unknown } | undefined = ctx.task; t && t !== ctx.task.file; t = t.suite as typeof t) names.unshift(t.name);
  process.env[EXCHANGES_LABEL_ENV] = `${file} > ${names.filter(Boolean).join(' > ')}`;
});

afterEach(() => {
  process.env[EXCHANGES_LABEL_ENV] = file;
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/observability/logger.js';
import type { Period, SourceContext, SourceDefinition } from '../../src/sources/define.js';
import type { SourceSpec } from '../../src/config/types.js';

/** A period with a +03:00 offset (Europe/Moscow), as the config/pipeline would build it. */
export function period(startUtc: string, endUtc: string): Period {
  const start = new Date(startUtc);
  const end = new Date(endUtc);
  const msk = (d: Date) => new Date(d.getTime() + 3 * 3600_000).toISOString().replace('Z', '+03:00');
  return { start, end, startIso: msk(start), endIso: msk(end), timezone: 'Europe/Moscow' };
}

export const DAY = period('2026-11-24T21:00:00Z', '2026-11-25T21:00:00Z');

export function ctxFor<O>(options: O, overrides: Partial<SourceContext<O>> = {}): SourceContext<O> {
  return {
    job: { name: 'daily', timezone: 'Europe/Moscow', locale: 'ru' },
    sourceName: 'default',
    options,
    period: DAY,
    now: new Date('2026-11-25T21:00:05Z'),
    previous: undefined,
    signal: new AbortController().signal,
    logger: silentLogger,
    configDir: process.cwd(),
    http: undefined as never,
    pachca: () => {
      throw new Error('no Pachca client in this test');
    },
    ...overrides,
  };
}

/** Runs a definition the way the pipeline does: options through its zod schema, then collect. */
export async function run<O>(def: SourceDefinition, rawOptions: O, overrides: Partial<SourceContext> = {}): Promise<any> {
  const parsed = def.options.parse(rawOptions);
  return def.collect(ctxFor(parsed, overrides as Partial<SourceContext<unknown>>) as never);
}

export function spec(def: SourceDefinition, rawOptions: unknown, extra: Partial<SourceSpec> = {}): SourceSpec {
  return {
    name: undefined,
    type: def.name,
    definition: def,
    options: def.options.parse(rawOptions),
    optional: false,
    timeoutMs: 30_000,
    retries: 0,
    position: { file: '/etc/jobs.config.yaml', line: 12, column: 7, path: 'jobs[0].source' },
    ...extra,
  };
}

export function tempDir(prefix = 'pachca-digest-src-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

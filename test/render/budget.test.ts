/**
 * A render is synchronous, so nothing but its own budget can stop a template looping over large data:
 * these renders would run for minutes (or build hundreds of MB) without it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestError } from '../../src/errors.js';
import { createTemplateEngine, RENDER_DEFAULTS } from '../../src/render/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pachca-digest-budget-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const engine = createTemplateEngine({ templatesDir: dir });
const ru = { locale: 'ru-RU', timezone: 'Europe/Moscow' };
const origin = (line: number) => ({ file: 'jobs.config.yaml', line, column: 5, path: 'jobs[0].template' });
/** 10 000 × 10 000 passes: minutes of work unbudgeted. */
const rows = Array.from({ length: 10_000 }, (_, i) => i);

function renderError(fn: () => unknown): DigestError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DigestError) return e;
    throw e;
  }
  throw new Error('the render finished; expected it to be stopped');
}

describe('render budget', () => {
  it("stops a nested loop over large data at the job's deadline", () => {
    const t = engine.compileInline('{{#each rows}}{{#each ../rows}}{{this}}{{/each}}{{/each}}', origin(3));
    const started = Date.now();
    const err = renderError(() => t.render({ rows }, { ...ru, deadline: Date.now() + 300 }));
    const took = Date.now() - started;
    expect(err.code).toBe('E_TEMPLATE');
    expect(err.message).toMatch(/^rendering stopped: it ran past the job's timeout \([\d,]+ steps\)/);
    expect(err.location).toMatchObject({ file: 'jobs.config.yaml', line: 3 });
    expect(err.hint).toMatch(/limit it in the source/);
    // 300 ms plus one check interval; generous for a loaded machine.
    expect(took).toBeLessThan(3_000);
  });

  it('stops an empty loop body too (no lookups, no output: only the passes count)', () => {
    const t = engine.compileInline('{{#each rows}}{{#each ../rows}}{{/each}}{{/each}}', origin(4));
    const err = renderError(() => t.render({ rows }, { ...ru, deadline: Date.now() + 200 }));
    expect(err.message).toMatch(/ran past the job's timeout/);
  });

  it('stops at maxRenderMs when the job allows longer (a daemon must keep answering)', () => {
    // No output in the loop: on a fast machine the output cap would otherwise stop it first.
    fs.writeFileSync(path.join(dir, 'heavy.hbs'), 'Итоги\n{{#each rows}}{{#each ../rows}}{{#if this}}{{/if}}{{/each}}{{/each}}\n');
    const t = engine.compileFile('heavy.hbs');
    const started = Date.now();
    const err = renderError(() => t.render({ rows }, { ...ru, deadline: Date.now() + 3_600_000 }));
    const took = Date.now() - started;
    expect(err.message).toContain(`ran past ${RENDER_DEFAULTS.maxRenderMs / 1000} s, the most one render may take`);
    expect(err.location?.file).toMatch(/heavy\.hbs$/);
    expect(took).toBeGreaterThanOrEqual(RENDER_DEFAULTS.maxRenderMs - 50);
    expect(took).toBeLessThan(RENDER_DEFAULTS.maxRenderMs + 5_000);
  }, 20_000);

  it('stops a render that produces more text than any message could hold', () => {
    // Raw output (no escaping work), so the cap is reached in milliseconds, well before any time limit.
    const t = engine.compileInline('{{#each rows}}{{{../big}}}{{/each}}', origin(5));
    const err = renderError(() => t.render({ rows, big: 'я'.repeat(100_000) }, { ...ru, deadline: Date.now() + 60_000 }));
    expect(err.code).toBe('E_TEMPLATE');
    expect(err.message).toBe(`the template produced more than ${RENDER_DEFAULTS.maxRenderOutput.toLocaleString('en-US')} characters; rendering stopped`);
  });

  it('a deadline already passed fails at once; a normal render is untouched by the budget', () => {
    const t = engine.compileInline('{{#each rows}}{{this}} {{/each}}', origin(6));
    expect(renderError(() => t.render({ rows: [1] }, { ...ru, deadline: Date.now() - 1 })).message).toMatch(/ran past the job's timeout/);
    expect(t.render({ rows: [1, 2, 3] }, { ...ru, deadline: Date.now() + 5_000 })).toBe('1 2 3');
    // Budgets do not leak: the next render starts fresh.
    expect(t.render({ rows: [4] }, ru)).toBe('4');
  });
});

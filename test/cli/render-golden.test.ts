/**
 * `render` golden outputs for the shipped examples: exactly the messages a run would post.
 * Regenerate after an intended change with PACHCA_DIGEST_UPDATE_GOLDEN=1.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ROOT } from '../helpers/project.js';

const CASES = [
  ['daily-sales', '2026-11-24T09:00:00+03:00'],
  ['weekly-oncall', '2026-11-23T10:00:00+03:00'],
  ['team-kpi', '2026-11-27T18:00:00+03:00'],
  ['support-queue', '2026-11-24T11:00:00+03:00'],
] as const;

async function render(job: string, slot: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['render', job, '--slot', slot], { out: (t) => (out += t), err: (t) => (err += t), env: { PATH: process.env.PATH }, cwd: ROOT });
  return { code, out, err };
}

describe('render: golden outputs of the shipped examples', () => {
  it.each(CASES)('%s', async (job, slot) => {
    const r = await render(job, slot);
    expect(r.code, r.err).toBe(0);
    expect(r.err, 'no formatting warnings for the shipped templates').toBe('');
    const file = join(ROOT, 'test', 'golden', `${job}.txt`);
    if (process.env.PACHCA_DIGEST_UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, r.out);
    expect(r.out).toBe(readFileSync(file, 'utf8'));
    // daily-sales renders its chart: on a loaded machine the first ECharts/resvg load takes a while.
  }, 120_000);

  it('posts nothing and needs no token', async () => {
    const r = await render('daily-sales', CASES[0][1]);
    expect(r.out).toContain('chat_id 103');
    expect(r.out).not.toMatch(/✓/);
  });

  it('--metrics FILE renders other data through the same template', async () => {
    const dir = join(ROOT, 'test-artifacts');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const metricsFile = join(dir, 'oncall-metrics.json');
    writeFileSync(metricsFile, JSON.stringify({ oncall: { primary: 'Ольга', secondary: 'Пётр' }, incidents: [] }));
    let out = '';
    const code = await main(['render', 'weekly-oncall', '--slot', CASES[1][1], '--metrics', metricsFile], { out: (t) => (out += t), err: () => {}, env: {}, cwd: ROOT });
    expect(code).toBe(0);
    expect(out).toContain('**Ольга**');
    expect(out).toContain('Открытых инцидентов нет');
  });
});

describe('render --out', () => {
  it('writes the daily-sales chart (PNG) and table card (.md) to the folder', async () => {
    const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'pd-render-out-'));
    try {
      let err = '';
      const code = await main(['render', 'daily-sales', '--slot', CASES[0][1], '--out', dir], { out: () => {}, err: (t) => (err += t), env: { PATH: process.env.PATH }, cwd: ROOT });
      expect(code, err).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(['выручка-2026-11-23.png', 'регионы-2026-11-23.md']);
      const png = readFileSync(join(dir, 'выручка-2026-11-23.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(readFileSync(join(dir, 'регионы-2026-11-23.md'), 'utf8')).toContain('| Регион | Менеджер | Заказы | Выручка | План |');
      expect(err).toMatch(/wrote .*выручка-2026-11-23\.png/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

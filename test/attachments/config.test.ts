/** `attachments:` at load time: compiled specs, and every mistake reported with file:line and a hint. */
import { describe, expect, it } from 'vitest';
import { load, loadError } from '../config/helpers.js';

const job = (attachments: string, extra = '') => `version: 1
jobs:
  - name: daily
    schedule: "0 9 * * *"
    source: { type: static, data: { rows: [] } }
    template: daily.hbs
    target: { chat_id: 1 }${extra}
    attachments:
${attachments}
`;

describe('attachments config', () => {
  it('compiles every kind with its defaults', async () => {
    const cfg = await load(
      job(`      - chart: { data: metrics.rows, x: date, y: revenue, title: "Выручка, ₽" }
      - table: { rows: metrics.rows, columns: "region:Регион,revenue:Выручка", name: "регионы.md" }
      - csv: { rows: metrics.rows, delimiter: ";" }
      - xlsx: { rows: metrics.rows, sheet: Продажи }
      - markdown: { template: details.hbs }`),
      { files: { 'templates/details.hbs': '# Подробно\n\n| a | b |\n|---|---|\n' } },
    );
    const a = cfg.jobs[0]!.attachments!;
    expect(a.map((x) => x.kind)).toEqual(['chart', 'table', 'csv', 'xlsx', 'markdown']);
    expect(a[0]).toMatchObject({ chart: { type: 'line', y: ['revenue'], width: 800, height: 450, density: 1, maxPoints: 1000, stacked: false } });
    expect(a[1]).toMatchObject({ columns: [{ field: 'region', title: 'Регион' }, { field: 'revenue', title: 'Выручка' }], maxRows: 500 });
    expect(a[2]).toMatchObject({ delimiter: ';', maxRows: 100_000 });
    expect(a[3]).toMatchObject({ sheet: 'Продажи' });
    // A .md card may hold headings and tables: no "Pachca will not render" warning for it.
    expect(cfg.warnings.join('\n')).not.toMatch(/details\.hbs/);
  });

  it('reports mistakes with their line, all in one pass', async () => {
    const err = await loadError(
      job(`      - chart: { data: metrics.rows, x: date, y: revenue, type: donut }
      - table: { rows: rows }
      - csv: { rows: metrics.rows }
        xlsx: { rows: metrics.rows }
      - chart: { data: item.rows, x: date, y: [a, b], series: team }
      - xlsx: { rows: metrics.rows, sheet: "a/b" }
      - markdown: { template: missing.hbs }
      - {}`),
    );
    const text = err.format();
    expect(text).toMatch(/jobs\.config\.yaml:9.*type.*donut|jobs\.config\.yaml:9[\s\S]*line, bar, area, pie/);
    expect(text).toMatch(/:10\b[\s\S]*"rows" does not start at the data/);
    expect(text).toMatch(/:11\b[\s\S]*has csv and xlsx/);
    expect(text).toMatch(/:13\b[\s\S]*uses item, but the job has no for_each/);
    expect(text).toMatch(/:14\b[\s\S]*sheet name "a\/b" is not allowed/);
    expect(text).toMatch(/:15\b[\s\S]*template file not found/);
    expect(text).toMatch(/:16\b[\s\S]*needs one kind/);
    expect(err.details.length).toBeGreaterThanOrEqual(7);
  });

  it('rejects unknown options with a suggestion and out-of-range sizes', async () => {
    const err = await loadError(job(`      - chart: { data: metrics.rows, x: date, y: revenue, titel: X, density: 3, width: 10 }`));
    const text = err.format();
    expect(text).toMatch(/titel/);
    expect(text).toMatch(/title/);
    expect(text).toMatch(/density/);
    expect(text).toMatch(/width/);
  });
});

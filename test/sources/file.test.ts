import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fileSource from '../../src/sources/builtin/file.js';
import { SourceError } from '../../src/sources/errors.js';
import { run, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

describe('file source', () => {
  it('reads CSV relative to the config dir as { rows, count }', async () => {
    writeFileSync(join(dir, 'sales.csv'), 'date;manager;revenue\n2026-11-24;Иванова;1500,5\n2026-11-25;Петров;300\n');
    const out = await run(fileSource, { path: 'sales.csv' }, { configDir: dir });
    expect(out).toEqual({
      rows: [
        { date: '2026-11-24', manager: 'Иванова', revenue: 1500.5 },
        { date: '2026-11-25', manager: 'Петров', revenue: 300 },
      ],
      count: 2,
    });
  });

  it('reads JSON and YAML as documents, format from the extension or the option', async () => {
    writeFileSync(join(dir, 'a.json'), '{"plan": 100, "items": [1, 2]}');
    writeFileSync(join(dir, 'b.yml'), 'plan: 100\nteam:\n  - Анна\n');
    writeFileSync(join(dir, 'c.txt'), 'x|y\n1|2\n');
    expect(await run(fileSource, { path: 'a.json' }, { configDir: dir })).toEqual({ plan: 100, items: [1, 2] });
    expect(await run(fileSource, { path: 'b.yml' }, { configDir: dir })).toEqual({ plan: 100, team: ['Анна'] });
    expect(await run(fileSource, { path: 'c.txt', format: 'csv' }, { configDir: dir })).toEqual({ rows: [{ x: 1, y: 2 }], count: 1 });
  });

  it('names the file and line of bad JSON and YAML', async () => {
    writeFileSync(join(dir, 'bad.json'), '{\n  "a": 1,\n  "b": ,\n}');
    writeFileSync(join(dir, 'bad.yaml'), 'a: 1\nb: [1, 2\nc: 3\n');
    await expect(run(fileSource, { path: 'bad.json' }, { configDir: dir })).rejects.toThrow(`${join(dir, 'bad.json')}:3:8: invalid JSON`);
    await expect(run(fileSource, { path: 'bad.yaml' }, { configDir: dir })).rejects.toThrow(new RegExp(`bad\\.yaml:\\d+:\\d+: invalid YAML: Flow sequence`));
  });

  it('explains a missing file and an unknown extension', async () => {
    await expect(run(fileSource, { path: 'nope.csv' }, { configDir: dir })).rejects.toThrow(`file not found: ${join(dir, 'nope.csv')}`);
    writeFileSync(join(dir, 'data.dat'), '1');
    await expect(run(fileSource, { path: 'data.dat' }, { configDir: dir })).rejects.toThrow(/cannot tell the format/);
  });

  it('refuses a FIFO without waiting for a writer, and a device', async () => {
    const fifo = join(dir, 'feed.json');
    execFileSync('mkfifo', [fifo]);
    // Without the check, opening a FIFO with no writer blocks (libuv's thread pool) forever.
    const started = Date.now();
    await expect(run(fileSource, { path: 'feed.json' }, { configDir: dir })).rejects.toThrow(`${fifo} is a FIFO (named pipe), not a regular file`);
    expect(Date.now() - started).toBeLessThan(10_000);
    const err = await run(fileSource, { path: '/dev/zero', format: 'json' }).catch((e: unknown) => e as SourceError);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe('/dev/zero is a device, not a regular file');
    expect(err.hint).toMatch(/command/);
    await expect(run(fileSource, { path: dir, format: 'json' })).rejects.toThrow(`${dir} is a directory, not a regular file`);
  }, 20_000);

  it('rejects unknown options', () => {
    expect(fileSource.options.safeParse({ path: 'a.csv', sep: ';' }).success).toBe(false);
  });
});

describe('examples/data/sales.csv', () => {
  it('parses into 30 typed rows over 10 days', async () => {
    const examples = new URL('../../examples/', import.meta.url).pathname;
    const out = await run(fileSource, { path: 'data/sales.csv' }, { configDir: examples });
    expect(out.count).toBe(30);
    expect(Object.keys(out.rows[0])).toEqual(['date', 'region', 'manager', 'orders', 'revenue']);
    for (const r of out.rows) {
      expect(typeof r.orders).toBe('number');
      expect(typeof r.revenue).toBe('number');
      expect(r.date).toMatch(/^2026-11-\d\d$/);
    }
    expect(new Set(out.rows.map((r: any) => r.date)).size).toBe(10);
  });
});

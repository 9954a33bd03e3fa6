import { describe, expect, test } from 'vitest';
import { evaluateCondition } from '../../src/monitor/index.js';
import { load, loadError, MINIMAL } from './helpers.js';

const withJob = (extra: string) => MINIMAL.replace('    template: daily.hbs\n', `    template: daily.hbs\n${extra}`);

describe('when / notify / monitor / unfurl in the config', () => {
  test('a monitor compiles: when, for, repeat, mentions; notify defaults', async () => {
    const c = await load(withJob('    when: metrics.count > 2\n    monitor:\n      for: 5m\n      repeat: 4h\n      mentions: [oncall, "@lead"]\n'));
    const job = c.jobs[0]!;
    expect(job.monitor).toEqual({ forMs: 300_000, repeatMs: 14_400_000, mentions: ['@oncall', '@lead'] });
    expect(job.notify).toBe('when_true');
    expect(await evaluateCondition(job.when!, { metrics: { count: 3 } }, 'daily')).toBe(true);
    expect(await evaluateCondition(job.when!, { metrics: { count: 1 } }, 'daily')).toBe(false);
  });

  test('`monitor: true` is the short form', async () => {
    const c = await load(withJob('    when: metrics.count > 2\n    monitor: true\n'));
    expect(c.jobs[0]!.monitor).toEqual({ forMs: 0, repeatMs: null, mentions: [] });
  });

  test('a jobs without when posts always', async () => {
    const c = await load(MINIMAL);
    expect(c.jobs[0]!.notify).toBe('always');
    expect(c.unfurl).toEqual([]);
  });

  test('a JSONata syntax error in when is a config error at its line', async () => {
    const e = await loadError(withJob('    when: metrics.count > \n'));
    const d = e.details[0]!;
    expect(d.code).toBe('E_CONFIG');
    expect(d.message).toMatch(/^when: invalid expression/);
    expect(d.location).toMatchObject({ line: 9, path: 'jobs[0].when' });
  });

  test('a name not in the data fails the evaluation with the names that exist', async () => {
    const c = await load(withJob('    when: metrics.cuont > 2\n'));
    await expect(evaluateCondition(c.jobs[0]!.when!, { metrics: { count: 3 } }, 'daily')).rejects.toMatchObject({
      code: 'E_SOURCE',
      message: expect.stringContaining('"metrics.cuont" is not in the data'),
      hint: expect.stringContaining('count'),
    });
  });

  test('names inside a filter are relative to the list item and not checked against the root', async () => {
    const c = await load(withJob('    when: $count(metrics.items[status = "down"]) > 0\n'));
    const ctx = { metrics: { items: [{ status: 'down' }, { status: 'up' }] } };
    expect(await evaluateCondition(c.jobs[0]!.when!, ctx, 'daily')).toBe(true);
  });

  test('a when that is not a boolean is an error that says so', async () => {
    const c = await load(withJob('    when: metrics.count\n'));
    await expect(evaluateCondition(c.jobs[0]!.when!, { metrics: { count: 3 } }, 'daily')).rejects.toThrow(/not true or false/);
  });

  test('inconsistent combinations are reported together', async () => {
    const e = await loadError(withJob('    monitor: { for: 5m }\n    notify: on_change\n    for_each: metrics.items\n'));
    const messages = e.details.map((d) => d.message).join('\n');
    expect(messages).toMatch(/a monitor needs a `when:`/);
    expect(messages).toMatch(/`notify` does not apply/);
    expect(messages).toMatch(/`for_each`/);
    expect(messages).toMatch(/on_change` needs `when:` or `change_key:`/);
  });

  test('unfurl rules: pattern, job, slot parameter', async () => {
    const c = await load(`${MINIMAL}unfurl:\n  - pattern: "https://bi.example.ru/sales/daily?date=:date"\n    job: daily\n    slot: ":date"\n`);
    expect(c.unfurl).toMatchObject([{ domain: 'bi.example.ru', job: 'daily', slot: ':date' }]);
  });

  test('unfurl rules: unknown job and a slot parameter the pattern lacks are errors', async () => {
    const e = await loadError(`${MINIMAL}unfurl:\n  - pattern: "https://bi.example.ru/a"\n    job: nope\n  - pattern: "https://bi.example.ru/b"\n    job: daily\n    slot: ":date"\n`);
    const messages = e.details.map((d) => `${d.location?.path}: ${d.message}`).join('\n');
    expect(messages).toMatch(/unfurl\[0\]\.job: unfurl rule refers to job "nope"/);
    expect(messages).toMatch(/unfurl\[1\]\.slot: slot uses :date/);
  });
});

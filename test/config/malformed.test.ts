import { describe, expect, test } from 'vitest';
import { DigestError } from '../../src/errors.js';
import { loadError } from './helpers.js';
import { BASE_FILES, MALFORMED_CASES } from './malformed-cases.js';

describe('malformed configurations', () => {
  test('the table has at least 20 cases', () => {
    expect(MALFORMED_CASES.length).toBeGreaterThanOrEqual(20);
  });

  test.each(MALFORMED_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const err = await loadError(c.yaml, { files: { ...BASE_FILES, ...c.files }, env: c.env ?? {} });
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toMatch(/jobs\.config\.yaml: \d+ problems?$/);
    expect(err.details.length).toBeGreaterThan(0);
    for (const d of err.details) {
      expect(d).toBeInstanceOf(DigestError);
      expect(d.location?.line, d.format()).toBeGreaterThan(0);
      expect(d.hint, d.format()).toBeTruthy();
    }
    const e = c.expect;
    const file = e.file ?? 'jobs.config.yaml';
    const match = err.details.find(
      (d) =>
        (d.location?.file ?? '').endsWith(file) &&
        d.location?.line === e.line &&
        (e.column === undefined || d.location?.column === e.column) &&
        (e.path === undefined || d.location?.path === e.path) &&
        e.message.test(d.message) &&
        (e.hint === undefined || e.hint.test(d.hint ?? '')),
    );
    expect(match, `no problem matched ${JSON.stringify({ ...e, message: String(e.message), hint: String(e.hint) })} in:\n${err.format()}`).toBeDefined();
    if (e.problems !== undefined) expect(err.details, err.format()).toHaveLength(e.problems);
  });
});

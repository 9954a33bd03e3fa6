import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { configJsonSchema, renderConfigReference } from '../../src/config/index.js';

/** Committed generated files. Regenerate with PACHCA_DIGEST_UPDATE_GENERATED=1 npx vitest run test/config/generated.test.ts */
const root = resolve(import.meta.dirname, '../..');
const update = process.env.PACHCA_DIGEST_UPDATE_GENERATED === '1';
const HOW = 'stale: regenerate with PACHCA_DIGEST_UPDATE_GENERATED=1 npx vitest run test/config/generated.test.ts';

function check(rel: string, content: string) {
  const file = resolve(root, rel);
  if (update) writeFileSync(file, content);
  expect(existsSync(file), `${rel} is missing: ${HOW}`).toBe(true);
  expect(readFileSync(file, 'utf8'), `${rel} is ${HOW}`).toBe(content);
}

describe('generated files are fresh', () => {
  test('jobs.schema.json', () => {
    check('jobs.schema.json', `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });
  test('docs/configuration.md', () => {
    check('docs/configuration.md', renderConfigReference());
  });
});

describe('JSON Schema content', () => {
  const schema = configJsonSchema();
  test('is derived from the zod schema: required keys, defaults, strictness', () => {
    expect(schema.$schema).toMatch(/draft-07/);
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'jobs']));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.templates_dir.default).toBe('templates');
    expect(schema.properties.pachca.properties.retry.properties.base_delay.default).toBe('500ms');
  });
  test('source entries are an anyOf of the built-in sources merged with the common keys', () => {
    const job = schema.properties.jobs.items;
    const alts = job.properties.source.anyOf as Array<Record<string, any>>;
    const types = alts.map((a) => a.properties.type.const).filter(Boolean);
    expect(types).toEqual(expect.arrayContaining(['static', 'file']));
    const fileAlt = alts.find((a) => a.properties.type.const === 'file')!;
    expect(Object.keys(fileAlt.properties)).toEqual(expect.arrayContaining(['type', 'optional', 'timeout', 'retries', 'path']));
    expect(fileAlt.additionalProperties).toBe(false);
  });
});

describe('reference', () => {
  const md = renderConfigReference();
  test('documents every key of the schema with its default', () => {
    for (const key of ['version', 'templates_dir', 'breaker_cooldown', 'dedupe_lookback', 'retention', 'catch_up', 'starting_deadline', 'for_each', 'skip_if', 'split_to_thread', 'heartbeat_url', 'display_avatar_url', 'buttons']) {
      expect(md).toContain(`\`${key}\``);
    }
    expect(md).toMatch(/\| `timezone` \| string \| `Europe\/Moscow` \|/);
    expect(md).toMatch(/\| `lease` \| duration \| `10m` \|/);
    expect(md).toContain('#### Source `static`');
  });
});

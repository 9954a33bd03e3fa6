/** The vendored spec (for clones without ../shared/reference) is the official one, byte for byte. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const official = [join(root, '..', 'shared', 'reference', 'pachca-openapi.en.yaml'), '/work/shared/reference/pachca-openapi.en.yaml'].find((p) => existsSync(p));

describe('vendored OpenAPI spec', () => {
  it.runIf(official !== undefined)('matches ../shared/reference/pachca-openapi.en.yaml', () => {
    expect(readFileSync(join(root, 'test', 'conformance', 'pachca-openapi.en.yaml'), 'utf8')).toBe(readFileSync(official!, 'utf8'));
  });
  it('is present and is Pachca\'s spec', () => {
    expect(readFileSync(join(root, 'test', 'conformance', 'pachca-openapi.en.yaml'), 'utf8')).toMatch(/^openapi: 3\./m);
  });
});

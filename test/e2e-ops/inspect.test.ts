/** `sources` and `schema`: the reference output users and editors rely on, from the built CLI. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/project.js';
import { builtinSources, describeSourceOptions } from '../../src/sources/index.js';

describe('sources', () => {
  it('lists every built-in source with each of its options', async () => {
    const r = await runCli(['sources'], { cwd: ROOT, timeoutMs: 15_000 });
    expect(r.code, r.stderr).toBe(0);
    const blocks = r.stdout.trim().split(/\n\n/);
    const byName = new Map(blocks.map((b) => [b.split(/[\s—]/)[0]!, b]));
    const defs = builtinSources();
    expect(defs.map((d) => d.name).sort()).toEqual(['command', 'file', 'http', 'pachca', 'prometheus', 'sql', 'static']);
    for (const def of defs) {
      const block = byName.get(def.name);
      expect(block, `no block for ${def.name}`).toBeDefined();
      const lines = block!.split('\n').slice(1);
      const options = describeSourceOptions(def);
      expect(options.length, def.name).toBeGreaterThan(0);
      for (const o of options) {
        const line = lines.find((l) => l.startsWith(`  ${o.name}:`) || l.startsWith(`  ${o.name} (required):`));
        expect(line, `${def.name}.${o.name}`).toBeDefined();
        if (o.required) expect(line).toContain('(required)');
      }
      expect(lines).toHaveLength(options.length);
    }
    // Required options users must know about, spelled out.
    expect(byName.get('http')).toMatch(/^ {2}url \(required\):/m);
    expect(byName.get('sql')).toMatch(/^ {2}query \(required\):/m);
    expect(byName.get('command')).toMatch(/^ {2}argv \(required\):/m);
    expect(r.stdout).toMatch(/Every source also accepts: type, optional/);
  });
});

describe('schema', () => {
  it('prints the JSON Schema, equal to the committed jobs.schema.json', async () => {
    const r = await runCli(['schema'], { cwd: ROOT, timeoutMs: 15_000 });
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    const committed = JSON.parse(readFileSync(join(ROOT, 'jobs.schema.json'), 'utf8'));
    expect(printed).toEqual(committed);
    expect(`${r.stdout.trimEnd()}\n`).toBe(readFileSync(join(ROOT, 'jobs.schema.json'), 'utf8'));
    expect(printed.properties.jobs.items.required).toEqual(expect.arrayContaining(['name', 'schedule', 'template']));
  });
});

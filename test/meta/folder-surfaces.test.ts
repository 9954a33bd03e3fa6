/**
 * The folder-surface rule (scripts/check-imports.mjs, part of `npm run lint`): a file imports
 * another folder of src/ only through its index.ts, static, type-only and lazy `import()` alike,
 * and every folder has an index.ts. Run on a throwaway tree, then on the real one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/project.js';

const SCRIPT = join(ROOT, 'scripts', 'check-imports.mjs');
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pd-surfaces-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const check = (dir?: string) => spawnSync(process.execPath, [SCRIPT, ...(dir ? [dir] : [])], { encoding: 'utf8' });

describe('folder surfaces', () => {
  it('a cross-folder import that bypasses index.ts fails, with the file, line and the fix', () => {
    const dir = tree({
      'a/index.ts': "export { x } from './x.js';\n",
      'a/x.ts': 'export const x = 1;\n',
      'a/deep/y.ts': "import { x } from '../x.js';\nexport const y = x;\n",
      'b/index.ts': "import { x } from '../a/index.js';\nexport const b = x;\n",
      'b/z.ts': "// a comment\nimport type { x } from '../a/x.js';\nexport const lazy = () => import('../a/x.js');\n",
      'c/only.ts': 'export const c = 1;\n',
    });
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('src/c/ has no index.ts (its surface)');
    expect(r.stderr).toContain("src/b/z.ts:2: imports ../a/x.js, bypassing src/a/index.ts (import from '../a/index.js'");
    expect(r.stderr).toContain('src/b/z.ts:3: imports ../a/x.js');
    // Within a folder, and through the index, files import freely.
    expect(r.stderr).not.toContain('src/a/deep/y.ts');
    expect(r.stderr).not.toContain('src/b/index.ts');
    expect(r.stderr).toMatch(/^3 import\(s\) bypass/);
  });

  it('the repository itself keeps the rule (exceptions are listed with their reason)', () => {
    const r = check();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

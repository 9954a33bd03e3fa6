import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { DigestError } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A temp project: jobs.config.yaml plus any files (paths relative to it). */
export function project(yaml: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pachca-config-'));
  dirs.push(dir);
  const all: Record<string, string> = { 'templates/daily.hbs': 'Привет, {{metrics.count}}\n', ...files, 'jobs.config.yaml': yaml };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

export async function load(yaml: string, opts: { files?: Record<string, string>; env?: Record<string, string> } = {}) {
  const dir = project(yaml, opts.files);
  return loadConfig({ cwd: dir, env: opts.env ?? {} });
}

export async function loadError(yaml: string, opts: { files?: Record<string, string>; env?: Record<string, string> } = {}): Promise<DigestError> {
  try {
    await load(yaml, opts);
  } catch (err) {
    if (err instanceof DigestError) return err;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

export const MINIMAL = `version: 1
jobs:
  - name: daily
    schedule: "0 9 * * 1-5"
    source:
      type: static
      data: { count: 3 }
    template: daily.hbs
    target:
      chat_id: 123
`;

/** The config text and every template, as the Kubernetes ConfigMap needs them. */
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { LoadedConfig } from '../config/index.js';

export async function collectDeployFiles(config: LoadedConfig): Promise<{ configText: string; configFileName: string; templateFiles: Record<string, string> }> {
  const templateFiles: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name.endsWith('.hbs')) templateFiles[relative(config.templatesDir, full).split(sep).join('/')] = await readFile(full, 'utf8');
    }
  };
  await walk(config.templatesDir);
  return { configText: await readFile(config.file, 'utf8'), configFileName: 'jobs.config.yaml', templateFiles };
}

/**
 * Files the built-in sources read from next to the config — a `file` source's CSV, a `command`
 * source's script. The pod only has what the ConfigMap mounts, so without these a CronJob fails
 * although the same config works locally.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { LoadedConfig } from '../config/index.js';

export interface SourceFile {
  /** `/`-separated, relative to the config directory. */
  path: string;
  content: string;
  /** A command source's program: mounted with mode 0755. */
  executable: boolean;
}

/**
 * Relative paths that name existing UTF-8 files inside the config directory. Absolute paths, files
 * outside the directory and arguments with placeholders are left alone: they are the deployer's
 * to provide (a volume, the image).
 */
export async function collectSourceFiles(config: LoadedConfig): Promise<SourceFile[]> {
  const found = new Map<string, SourceFile>();
  const add = async (candidate: unknown, baseDir: string, executable: boolean) => {
    if (typeof candidate !== 'string' || candidate === '' || candidate.includes('{{') || isAbsolute(candidate)) return;
    const full = resolve(baseDir, candidate);
    const rel = relative(config.dir, full);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return;
    const info = await stat(full).catch(() => null);
    if (!info?.isFile()) return;
    const bytes = await readFile(full);
    const content = bytes.toString('utf8');
    // ConfigMap `data` holds text only.
    if (!Buffer.from(content, 'utf8').equals(bytes)) return;
    const path = rel.split(sep).join('/');
    const prev = found.get(path);
    found.set(path, { path, content, executable: executable || (prev?.executable ?? false) });
  };
  for (const job of config.jobs) {
    for (const source of job.sources) {
      const o = (source.options ?? {}) as Record<string, unknown>;
      if (source.type === 'file') await add(o.path, config.dir, false);
      if (source.type === 'command' && Array.isArray(o.argv)) {
        const cwd = typeof o.cwd === 'string' ? resolve(config.dir, o.cwd) : config.dir;
        for (const [i, arg] of o.argv.entries()) await add(arg, cwd, i === 0);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}

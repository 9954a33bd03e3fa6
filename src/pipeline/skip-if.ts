/**
 * `skip_if`: the one rule for what the path it names reads in a render context, and when it is
 * a config mistake rather than "no data".
 */
import { DigestError } from '../errors.js';
import type { JobConfig } from '../config/index.js';
import { splitPath } from '../util/index.js';
import type { RenderContext } from './plan.js';

/**
 * The value `skip_if` looks at. A path through a null parent (an optional source that failed)
 * is "no data"; a key that does not exist is a mistake in the config, and must not silently
 * skip every digest from now on.
 */
export function skipIfValue(job: JobConfig, context: RenderContext): unknown {
  const path = job.skipIf!;
  let cur: unknown = context;
  const parts = splitPath(path);
  for (let i = 0; i < parts.length; i++) {
    if (cur === null) return null;
    const key = parts[i]!;
    if (typeof cur !== 'object' || !(key in (cur as object))) {
      const seen = parts.slice(0, i).join('.') || 'the context';
      const keys = cur !== null && typeof cur === 'object' ? Object.keys(cur as object) : [];
      throw new DigestError('E_SOURCE', `skip_if: "${path}" is not in the data (${seen} has no "${key}")`, {
        location: { ...job.position, path: `${job.position.path}.skip_if` },
        hint: keys.length
          ? `${seen} has: ${keys.slice(0, 12).join(', ')}. Fix the path; \`pachca-digest render ${job.name} --json\` shows the data.`
          : `Fix the path; \`pachca-digest render ${job.name} --json\` shows the data.`,
      });
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Unfurl's renderer: the job's normal pipeline as a dry run (no claim, no ledger, nothing posted). */
import type { RenderedPreview, UnfurlDeps } from '../unfurl/index.js';
import { runJob, type RunnerDeps } from './run.js';

export function previewRenderer(deps: RunnerDeps): UnfurlDeps['render'] {
  return async (job, slot, signal): Promise<RenderedPreview | null> => {
    const out = await runJob({ ...deps, store: null }, { job, slot, dryRun: true, ...(signal ? { signal } : {}) });
    if (out.status === 'failed') throw out.error ?? new Error(`job "${job.name}" failed to render`);
    const first = out.messages[0];
    return first ? { content: first.input.content } : null;
  };
}

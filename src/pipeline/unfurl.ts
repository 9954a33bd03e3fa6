/**
 * Unfurl's renderer: the job's normal pipeline as a dry run (no claim, no ledger, nothing posted).
 * When the job draws a chart, its first image is uploaded and becomes the preview's picture, the way
 * Pachca documents images for link previews (`image: { key, name, size }` from the upload flow).
 */
import type { RenderedPreview, UnfurlDeps } from '../unfurl/index.js';
import { runJob, type RunnerDeps } from './run.js';

export function previewRenderer(deps: RunnerDeps): UnfurlDeps['render'] {
  return async (job, slot, signal): Promise<RenderedPreview | null> => {
    const out = await runJob({ ...deps, store: null }, { job, slot, dryRun: true, renderFiles: true, ...(signal ? { signal } : {}) });
    if (out.status === 'failed') throw out.error ?? new Error(`job "${job.name}" failed to render`);
    const first = out.messages[0];
    if (!first) return null;
    const picture = first.files?.find((f) => f.fileType === 'image');
    if (!picture) return { content: first.input.content };
    // Loaded here: previews without pictures never load the upload code.
    const { uploadFile } = await import('../pachca/index.js');
    const uploaded = await uploadFile(
      deps.client(),
      { name: picture.name, bytes: picture.bytes, contentType: picture.contentType, fileType: picture.fileType },
      signal ? { signal } : {},
    );
    return { content: first.input.content, image: { key: uploaded.key, name: uploaded.name, size: uploaded.size } };
  };
}

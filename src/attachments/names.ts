/** File names and titles of attachments: cheap, no rendering (templates see them before files exist). */
import type { AttachmentInfo, AttachmentKind, AttachmentRenderOptions, AttachmentSpec } from './types.js';

export const EXTENSIONS: Record<AttachmentKind, string> = { chart: '.png', table: '.md', csv: '.csv', xlsx: '.xlsx', markdown: '.md' };
export const CONTENT_TYPES: Record<AttachmentKind, string> = {
  chart: 'image/png',
  table: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  markdown: 'text/markdown; charset=utf-8',
};

type Context = Record<string, unknown>;

/** A file name from its template: no path separators or control characters, the kind's extension. */
export function fileName(spec: AttachmentSpec, context: Context, opts: AttachmentRenderOptions): string {
  let name = [...spec.name.render(context, opts)].map((ch) => (ch === '/' || ch === '\\' || ch.charCodeAt(0) < 32 || ch === '\u007f' ? '_' : ch)).join('').trim();
  const ext = EXTENSIONS[spec.kind];
  if (name === '' || name === ext) name = `${spec.kind === 'chart' ? 'chart' : 'data'}${ext}`;
  if (!name.toLowerCase().endsWith(ext)) name += ext;
  return name;
}

export function titleOf(spec: AttachmentSpec, context: Context, opts: AttachmentRenderOptions): string | null {
  const t = spec.kind === 'chart' ? spec.chart.title : spec.kind === 'table' ? spec.title : undefined;
  const text = t?.render(context, opts).trim();
  return text ? text : null;
}

/** What the message's template sees as `attachments` (cheap: names and titles, nothing rendered). */
export function attachmentInfos(specs: AttachmentSpec[], context: Context, opts: AttachmentRenderOptions): AttachmentInfo[] {
  return specs.map((s) => ({ kind: s.kind, name: fileName(s, context, opts), title: titleOf(s, context, opts) }));
}


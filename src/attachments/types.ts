/**
 * Attachments of a job (charts, `.md` table cards, CSV, XLSX, markdown from a template): the
 * compiled form the config loader produces and the files a run renders from it.
 */
import type { CompiledTemplate } from '../render/index.js';

export type ChartType = 'line' | 'bar' | 'area' | 'pie';
export type AttachmentKind = 'chart' | 'table' | 'csv' | 'xlsx' | 'markdown';
export type ValueFormat = 'number' | 'currency' | 'percent' | 'compact';

export interface ColumnSpec {
  /** Field of a row object. */
  field: string;
  /** Header shown in the file. */
  title: string;
}

export interface ChartSpec {
  type: ChartType;
  /** Dotted path to the rows (array of objects), resolved per message (`item.series` works). */
  data: string;
  /** Field of the x value (category, date or number); the label field for `pie`. */
  x: string;
  /** Fields plotted as series (the value field for `pie`). */
  y: string[];
  /** Long-format data: one series per distinct value of this field (with a single `y`). */
  series?: string;
  /** Legend names of the y fields, e.g. `{ revenue: "Факт" }`. */
  labels: Record<string, string>;
  stacked: boolean;
  title?: CompiledTemplate;
  /** Axis value format. */
  format: ValueFormat;
  width: number;
  height: number;
  /** Pixel density: 2 renders twice the pixels for sharp images on high-DPI screens. */
  density: 1 | 2;
  /** More points per series than this are downsampled. */
  maxPoints: number;
}

interface Common {
  /** File name template, rendered with the message context. */
  name: CompiledTemplate;
  /** Config position, for errors raised while rendering. */
  position: { file: string; line: number; column: number; path: string };
}

export type AttachmentSpec =
  | (Common & { kind: 'chart'; chart: ChartSpec })
  | (Common & { kind: 'table'; rows: string; columns?: ColumnSpec[]; title?: CompiledTemplate; maxRows: number })
  | (Common & { kind: 'csv'; rows: string; columns?: ColumnSpec[]; delimiter: string; maxRows: number })
  | (Common & { kind: 'xlsx'; rows: string; columns?: ColumnSpec[]; sheet: string; maxRows: number })
  | (Common & { kind: 'markdown'; template: CompiledTemplate });

/** What templates see as `attachments`: the files the message will carry. */
export interface AttachmentInfo {
  kind: AttachmentKind;
  name: string;
  title: string | null;
}

/** One rendered file, ready to upload. */
export interface RenderedFile {
  kind: AttachmentKind;
  name: string;
  /** Pachca's `file_type`: images show inline, files as cards or chips. */
  fileType: 'image' | 'file';
  contentType: string;
  bytes: Buffer;
  width?: number;
  height?: number;
  /** What the reader should know (rows cut, points downsampled, no data). */
  notes: string[];
}

export interface AttachmentRenderOptions {
  locale: string;
  timezone: string;
}

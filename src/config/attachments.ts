/**
 * `attachments:` of a job: the schema (one kind per list item, with its options) and the compile
 * step that turns it into AttachmentSpec. Kept beside schema.ts/load.ts so those stay readable.
 */
import { z } from 'zod';
import type { AttachmentSpec, ColumnSpec } from '../attachments/index.js';
import type { CompiledTemplate } from '../render/index.js';
import { DOTTED_PATH_PATTERN } from './schema.js';
import type { PathSegment } from './yaml.js';

export const CHART_TYPES = ['line', 'bar', 'area', 'pie'] as const;
export const VALUE_FORMATS = ['number', 'currency', 'percent', 'compact'] as const;
export const CSV_DELIMITERS = [',', ';', '\t'] as const;
export const ATTACHMENT_KINDS = ['chart', 'table', 'csv', 'xlsx', 'markdown'] as const;
/** Context roots an attachment's data may start from. */
const ROOTS = ['metrics', 'item', 'previous', 'job', 'period'];

export const ATTACHMENT_DEFAULTS = {
  maxAttachments: 10,
  chart: { type: 'line', width: 800, height: 450, density: 1, maxPoints: 1000, format: 'number', name: 'chart.png' },
  table: { maxRows: 500, name: 'table.md' },
  csv: { maxRows: 100_000, name: 'data.csv', delimiter: ',' },
  xlsx: { maxRows: 100_000, name: 'data.xlsx', sheet: 'Данные' },
  markdown: { name: 'details.md' },
} as const;
const A = ATTACHMENT_DEFAULTS;

const dataPath = (what: string) =>
  z.string().regex(DOTTED_PATH_PATTERN, { error: 'expected a dotted path like metrics.rows' }).describe(what);

const columns = () =>
  z
    .union([
      z.string().min(1),
      z.array(z.union([z.string().min(1), z.strictObject({ field: z.string().min(1), title: z.string().optional() })])).min(1),
    ], { error: 'expected "field:Title,field2:Title2" or a list of fields / { field, title }' })
    .optional()
    .describe('Columns and their headers: `"region:Регион,revenue:Выручка"`, or a list of `field` / `{ field, title }`. Default: every field of the rows');

const maxRows = (d: number, max: number) => z.number().int().min(1).max(max).default(d);

function chartSchema() {
  const c = A.chart;
  return z
    .strictObject({
      type: z.enum(CHART_TYPES).default(c.type).describe('`line`, `bar`, `area` or `pie`'),
      data: dataPath('Dotted path to the rows (a list of objects), e.g. `metrics.series` or `item.days`'),
      x: z.string().min(1).describe('Field of the x value: dates (ISO) get a date axis, numbers a value axis, anything else categories. For `pie`: the slice label'),
      y: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)]).describe('Field(s) plotted as series (at most 8). For `pie`: the value field'),
      series: z.string().min(1).optional().describe('Long-format data: one series per distinct value of this field (use a single `y`)'),
      labels: z.record(z.string(), z.string()).optional().describe('Legend names of the y fields, e.g. `{ revenue: "Факт", plan: "План" }`'),
      stacked: z.boolean().default(false).describe('Stack the series (bar, area, line)'),
      title: z.string().optional().describe('Title drawn on the chart; may use `{{…}}`'),
      format: z.enum(VALUE_FORMATS).default(c.format).describe('Value labels: `number` (1 250 000; large values compact), `currency` (₽), `percent` (values already in percent: 12.5 → 12,5 %), `compact` (1,3 млн)'),
      width: z.number().int().min(320).max(2000).default(c.width).describe('Width in CSS pixels'),
      height: z.number().int().min(200).max(1500).default(c.height).describe('Height in CSS pixels'),
      density: z.union([z.literal(1), z.literal(2)]).default(c.density).describe('Pixel density: `2` renders twice the pixels (sharp on high-DPI screens)'),
      max_points: z.number().int().min(10).max(10_000).default(c.maxPoints).describe('Series longer than this are downsampled (the line keeps its shape; noted in the message)'),
      name: z.string().min(1).default(c.name).describe('File name; may use `{{…}}`; `.png` is added when missing'),
    })
    .describe('A chart, attached as a PNG image (shown inline). No rows: a "no data" image and a note');
}

function tableSchema() {
  return z
    .strictObject({
      rows: dataPath('Dotted path to the rows, e.g. `metrics.rows`'),
      columns: columns(),
      title: z.string().optional().describe('Heading of the card; may use `{{…}}`'),
      max_rows: maxRows(A.table.maxRows, 5000).describe(`Rows shown at most (default ${A.table.maxRows}); the cut is noted in the card and the message`),
      name: z.string().min(1).default(A.table.name).describe('File name; may use `{{…}}`; `.md` is added when missing'),
    })
    .describe('A table as a `.md` file: Pachca shows it as a formatted card with the table');
}

function csvSchema() {
  return z
    .strictObject({
      rows: dataPath('Dotted path to the rows'),
      columns: columns(),
      delimiter: z.enum(CSV_DELIMITERS).default(A.csv.delimiter).describe('Field separator: `,` (RFC 4180), `;` (what Excel expects in Russian locales) or a tab'),
      max_rows: maxRows(A.csv.maxRows, 1_000_000).describe(`Rows written at most (default ${A.csv.maxRows}); the cut is noted in the message`),
      name: z.string().min(1).default(A.csv.name).describe('File name; may use `{{…}}`; `.csv` is added when missing'),
    })
    .describe('Rows as CSV (RFC 4180, UTF-8 with BOM so Excel reads Cyrillic)');
}

function xlsxSchema() {
  return z
    .strictObject({
      rows: dataPath('Dotted path to the rows'),
      columns: columns(),
      sheet: z.string().min(1).default(A.xlsx.sheet).describe('Sheet name (at most 31 characters)'),
      max_rows: maxRows(A.xlsx.maxRows, 1_000_000).describe(`Rows written at most (default ${A.xlsx.maxRows}); the cut is noted in the message`),
      name: z.string().min(1).default(A.xlsx.name).describe('File name; may use `{{…}}`; `.xlsx` is added when missing'),
    })
    .describe('Rows as an Excel workbook: numbers as numbers, ISO dates as dates');
}

function markdownSchema() {
  return z
    .strictObject({
      template: z.string().min(1).describe('Handlebars template file (relative to templates_dir) rendered with the message context; tables, headings and lists render in the card'),
      name: z.string().min(1).default(A.markdown.name).describe('File name; may use `{{…}}`; `.md` is added when missing'),
    })
    .describe('A `.md` card from a template');
}

export function attachmentSchema() {
  return z
    .strictObject({
      chart: chartSchema().optional(),
      table: tableSchema().optional(),
      csv: csvSchema().optional(),
      xlsx: xlsxSchema().optional(),
      markdown: markdownSchema().optional(),
    })
    .meta({ minProperties: 1, maxProperties: 1 })
    .describe('One attachment: exactly one of chart, table, csv, xlsx, markdown');
}

export function attachmentsSchema() {
  return z
    .array(attachmentSchema())
    .max(A.maxAttachments)
    .optional()
    .describe(`Files attached to every message of the job, rendered per message (with \`for_each\`, per item); at most ${A.maxAttachments}. Templates see them as \`attachments\` (\`{{attachments_note}}\`)`);
}

export type RawAttachment = z.output<ReturnType<typeof attachmentSchema>>;

export interface AttachmentTools {
  problem(path: PathSegment[], message: string, hint: string): void;
  inline(source: string, path: PathSegment[]): CompiledTemplate | null;
  template(rel: string, path: PathSegment[]): CompiledTemplate | null;
  position(path: PathSegment[]): AttachmentSpec['position'];
  hasForEach: boolean;
}

/** Parsed attachments → specs; null when one of them has a problem (reported through `t`). */
export function compileAttachments(list: RawAttachment[] | undefined, p: PathSegment[], t: AttachmentTools, offset = 0): AttachmentSpec[] | null {
  if (!list) return [];
  const out: AttachmentSpec[] = [];
  let ok = true;
  list.forEach((raw, i) => {
    const path = [...p, i + offset];
    const kinds = ATTACHMENT_KINDS.filter((k) => raw[k] !== undefined);
    if (kinds.length !== 1) {
      t.problem(path, kinds.length === 0 ? 'an attachment needs one kind' : `an attachment has ${kinds.join(' and ')}; each list item is one attachment`,
        `write one of ${ATTACHMENT_KINDS.join(', ')} per item, e.g. \`- chart: { data: metrics.series, x: date, y: revenue }\``);
      ok = false;
      return;
    }
    const spec = compileOne(raw, kinds[0]!, [...path, kinds[0]!], t);
    if (spec) out.push(spec);
    else ok = false;
  });
  return ok ? out : null;
}

function compileOne(raw: RawAttachment, kind: (typeof ATTACHMENT_KINDS)[number], path: PathSegment[], t: AttachmentTools): AttachmentSpec | null {
  const opts = raw[kind]!;
  const name = t.inline(opts.name, [...path, 'name']);
  const position = t.position(path);
  const checkPath = (v: string, key: string): boolean => {
    const root = v.split(/[.[]/)[0]!;
    if (!ROOTS.includes(root)) {
      t.problem([...path, key], `"${v}" does not start at the data: expected metrics.…, item.…, previous.…`, 'e.g. `metrics.rows` (the source\'s data) or `item.rows` (with for_each)');
      return false;
    }
    if (root === 'item' && !t.hasForEach) {
      t.problem([...path, key], `"${v}" uses item, but the job has no for_each`, 'use metrics.… or add `for_each:`');
      return false;
    }
    return true;
  };
  if (!name) return null;
  switch (kind) {
    case 'chart': {
      const c = raw.chart!;
      const y = Array.isArray(c.y) ? c.y : [c.y];
      if (!checkPath(c.data, 'data')) return null;
      if (c.series && y.length > 1) {
        t.problem([...path, 'series'], `series: "${c.series}" splits one y field into series, but y has ${y.length} fields`, 'give a single `y` with `series`, or drop `series` and list the fields in `y`');
        return null;
      }
      if (c.type === 'pie' && y.length > 1) {
        t.problem([...path, 'y'], 'a pie chart shows one value field', 'give a single `y` (the value) and `x` (the slice label)');
        return null;
      }
      const title = c.title === undefined ? undefined : t.inline(c.title, [...path, 'title']);
      if (title === null) return null;
      return {
        kind, name, position,
        chart: {
          type: c.type, data: c.data, x: c.x, y, ...(c.series ? { series: c.series } : {}), labels: c.labels ?? {}, stacked: c.stacked,
          ...(title ? { title } : {}), format: c.format, width: c.width, height: c.height, density: c.density as 1 | 2, maxPoints: c.max_points,
        },
      };
    }
    case 'table': {
      const c = raw.table!;
      if (!checkPath(c.rows, 'rows')) return null;
      const title = c.title === undefined ? undefined : t.inline(c.title, [...path, 'title']);
      if (title === null) return null;
      return { kind, name, position, rows: c.rows, ...withColumns(c.columns), ...(title ? { title } : {}), maxRows: c.max_rows };
    }
    case 'csv': {
      const c = raw.csv!;
      if (!checkPath(c.rows, 'rows')) return null;
      return { kind, name, position, rows: c.rows, ...withColumns(c.columns), delimiter: c.delimiter, maxRows: c.max_rows };
    }
    case 'xlsx': {
      const c = raw.xlsx!;
      if (!checkPath(c.rows, 'rows')) return null;
      if (c.sheet.length > 31 || /[:\\/?*[\]]/.test(c.sheet)) {
        t.problem([...path, 'sheet'], `sheet name "${c.sheet}" is not allowed in Excel`, 'at most 31 characters, none of : \\ / ? * [ ]');
        return null;
      }
      return { kind, name, position, rows: c.rows, ...withColumns(c.columns), sheet: c.sheet, maxRows: c.max_rows };
    }
    case 'markdown': {
      const template = t.template(raw.markdown!.template, [...path, 'template']);
      return template ? { kind, name, position, template } : null;
    }
  }
}

type RawColumns = NonNullable<RawAttachment['csv']>['columns'];

function withColumns(raw: RawColumns): { columns?: ColumnSpec[] } {
  if (raw === undefined) return {};
  const items = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
  const columns = items.map((c) => {
    if (typeof c !== 'string') return { field: c.field, title: c.title ?? c.field };
    const at = c.indexOf(':');
    return at < 0 ? { field: c, title: c } : { field: c.slice(0, at).trim(), title: c.slice(at + 1).trim() || c.slice(0, at).trim() };
  });
  return { columns };
}

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { extname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { defineSource, lazySchema } from '../define.js';
import { SourceError } from '../errors.js';
import { parseCsv } from '../csv.js';
import { jsonErrorOffset, lineColumn } from '../json-position.js';

const FORMAT_BY_EXT: Record<string, 'json' | 'yaml' | 'csv'> = {
  '.json': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.csv': 'csv',
  '.tsv': 'csv',
};

const options = lazySchema(() =>
  z
    .object({
      path: z.string().min(1).describe('File path, relative to the config file directory'),
      format: z
        .enum(['json', 'yaml', 'csv'])
        .optional()
        .describe('File format; by default from the extension (.json, .yaml/.yml, .csv/.tsv)'),
      delimiter: z
        .string()
        .length(1)
        .optional()
        .describe('CSV delimiter; by default sniffed from the header line (, ; tab |)'),
    })
    .strict(),
);

/**
 * A local JSON, YAML or CSV file. JSON and YAML return the parsed document as is; CSV returns
 * `{ rows: [{ column: value }], count }` (see csv.ts for how values are typed).
 */
export default defineSource({
  name: 'file',
  description: 'Локальный файл JSON, YAML или CSV (CSV → { rows, count }).',
  get options() {
    return options();
  },
  async collect(ctx) {
    return await readSourceFile(ctx.configDir, ctx.options, ctx.signal);
  },
  // Reading and parsing is all this source does, and it only reads: the check is the real thing.
  async check(ctx) {
    await readSourceFile(ctx.configDir, ctx.options);
  },
});

async function readSourceFile(configDir: string, options: { path: string; format?: 'json' | 'yaml' | 'csv'; delimiter?: string }, signal?: AbortSignal): Promise<unknown> {
  const { path, delimiter } = options;
  const file = isAbsolute(path) ? path : resolve(configDir, path);
  const ext = extname(file).toLowerCase();
  const format = options.format ?? FORMAT_BY_EXT[ext];
  if (!format) {
    throw new SourceError(`cannot tell the format of ${file} from its extension`, {
      hint: 'Set `format: json | yaml | csv` in the source options.',
    });
  }
  const text = await readRegularFile(file, signal);
  if (format === 'csv') {
    const { rows } = parseCsv(text, { delimiter: delimiter ?? (ext === '.tsv' ? '\t' : undefined), file });
    return { rows, count: rows.length };
  }
  if (format === 'json') return parseJson(text, file);
  return parseYaml(text, file);
}

/**
 * Reads a regular file only. A FIFO would block the run until someone writes to it and a device
 * (/dev/zero, /dev/urandom) never ends, so both are refused: opened with O_NONBLOCK (opening a FIFO
 * without a writer does not wait), then checked with fstat on that same descriptor (no race with
 * a rename between the check and the read).
 */
async function readRegularFile(file: string, signal: AbortSignal | undefined): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new SourceError(`file not found: ${file}`, {
        hint: 'Relative paths are resolved against the directory of the config file.',
      });
    }
    throw new SourceError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      const kind = stat.isFIFO() ? 'a FIFO (named pipe)' : stat.isDirectory() ? 'a directory' : stat.isSocket() ? 'a socket' : 'a device';
      throw new SourceError(`${file} is ${kind}, not a regular file`, {
        hint: 'A `file` source reads a regular JSON, YAML or CSV file; for a stream use a `command` source.',
      });
    }
    return await handle.readFile({ encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    await handle.close();
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const offset = jsonErrorOffset(text);
    const at = offset === undefined ? undefined : lineColumn(text, offset);
    const msg = (err as Error).message.split('\n')[0]!.slice(0, 200);
    throw new SourceError(`${file}${at ? `:${at.line}:${at.column}` : ''}: invalid JSON: ${msg}`, {
      location: { file, line: at?.line, column: at?.column },
    });
  }
}

async function parseYaml(text: string, file: string): Promise<unknown> {
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const column = first.linePos?.[0]?.col;
    // prettyErrors adds "at line N, column M:" and a code excerpt; we print the place our way.
    const message = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new SourceError(`${file}${line ? `:${line}:${column}` : ''}: invalid YAML: ${message}`, {
      location: { file, line, column },
    });
  }
  return doc.toJS();
}

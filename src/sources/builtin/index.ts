/**
 * The built-in sources. Each module imports only zod and node: builtins at the top; heavy drivers
 * (pg, better-sqlite3, jsonata, undici, child_process, yaml) are imported inside collect(), so
 * loading the config — and `--help` — stays fast.
 */
import type { SourceDefinition } from '../define.js';
import staticSource from './static.js';
import fileSource from './file.js';
import httpSource from './http.js';
import prometheusSource from './prometheus.js';
import sqlSource from './sql.js';
import commandSource from './command.js';
import pachcaSource from './pachca.js';

export const BUILTIN_SOURCES: readonly SourceDefinition[] = Object.freeze([
  staticSource,
  fileSource,
  httpSource,
  prometheusSource,
  sqlSource,
  commandSource,
  pachcaSource,
] as SourceDefinition[]);

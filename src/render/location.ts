import { DigestError, type ErrorLocation } from '../errors.js';
import type { InlineOrigin } from './types.js';

/** Handlebars source position (line 1-based, column 0-based). */
export interface HbsLoc {
  start: { line: number; column: number };
  end?: { line: number; column: number };
}

/**
 * Which template is running, carried in Handlebars `data` (helpers) and baked into compiled
 * lookups, so an error inside a partial names the partial's file, not the outer template.
 */
export interface TemplateSite {
  file: string;
  /** Set for inline templates from the config: errors point at the config value instead. */
  origin?: InlineOrigin;
}

export function siteLocation(site: TemplateSite | undefined, loc: HbsLoc | undefined): ErrorLocation {
  if (site?.origin) {
    const { file, line, column, path } = site.origin;
    return { file, line, column, path };
  }
  const location: ErrorLocation = {};
  if (site?.file) location.file = site.file;
  if (loc?.start) {
    location.line = loc.start.line;
    location.column = loc.start.column + 1;
  }
  return location;
}

export function templateError(
  site: TemplateSite | undefined,
  loc: HbsLoc | undefined,
  message: string,
  hint?: string,
  cause?: unknown,
): DigestError {
  // Inline templates are one short string: say where inside it, since the location is the config's.
  const where = site?.origin && loc?.start ? ` (template column ${loc.start.column + 1})` : '';
  return new DigestError('E_TEMPLATE', message + where, { location: siteLocation(site, loc), hint, cause });
}

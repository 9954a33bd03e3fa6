/**
 * Every error a user can cause carries a stable code, where it happened and a hint.
 * The CLI prints `format()` for these and a stack trace only for anything else (a bug).
 */
export type ErrorCode =
  | 'E_CONFIG' // jobs.config.yaml, env interpolation, schema
  | 'E_USAGE' // CLI arguments
  | 'E_TEMPLATE' // template compile or render
  | 'E_SOURCE' // a data source failed
  | 'E_DELIVERY' // Pachca answered with an error or could not be reached
  | 'E_STATE' // the run ledger
  | 'E_TIMEOUT' // a job or request deadline passed
  | 'E_ABORTED' // cancelled (replaced run, timeout of a one-shot)
  | 'E_INTERRUPTED' // the process is stopping: the run's claim is handed over, not failed
  | 'E_INTERNAL'; // a bug: printed with its stack trace

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted/indexed path inside the file, e.g. `jobs[2].schedule`. */
  path?: string;
}

export interface DigestErrorOptions {
  location?: ErrorLocation;
  hint?: string;
  cause?: unknown;
  /** Further problems reported together with this one (e.g. every config error at once). */
  details?: DigestError[];
}

export class DigestError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation | undefined;
  readonly hint: string | undefined;
  readonly details: DigestError[];

  constructor(code: ErrorCode, message: string, options: DigestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DigestError';
    this.code = code;
    this.location = options.location;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  /** `file:line:column path` — the part of the message that tells where to look. */
  where(): string {
    return formatLocation(this.location);
  }

  /** One readable paragraph (plus one line per detail) for stderr and logs. */
  format(): string {
    const lines: string[] = [];
    const head = (e: DigestError) => {
      const where = e.where();
      let s = `${e.code}${where ? ` ${where}` : ''}: ${e.message}`;
      if (e.hint) s += `\n  hint: ${e.hint}`;
      return s;
    };
    if (this.details.length === 0) return head(this);
    lines.push(`${this.code}: ${this.message}`);
    for (const d of this.details) lines.push(head(d).replace(/^/gm, '  '));
    if (this.hint) lines.push(`  hint: ${this.hint}`);
    return lines.join('\n');
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      location: this.location,
      hint: this.hint,
      details: this.details.map((d) => d.toJSON()),
    };
  }
}

export function formatLocation(loc: ErrorLocation | undefined): string {
  if (!loc) return '';
  let s = '';
  if (loc.file) {
    s = loc.file;
    if (loc.line !== undefined) {
      s += `:${loc.line}`;
      if (loc.column !== undefined) s += `:${loc.column}`;
    }
  }
  if (loc.path) s += s ? ` (${loc.path})` : loc.path;
  return s;
}

export function isDigestError(e: unknown): e is DigestError {
  return e instanceof DigestError;
}

/** CLI exit codes: a public surface, keep stable. */
export const EXIT = {
  OK: 0,
  JOB_FAILED: 1,
  USAGE: 2,
} as const;

/** Exit code for an error: configuration and usage problems are 2, everything else 1. */
export function exitCodeFor(e: unknown): number {
  if (isDigestError(e) && (e.code === 'E_CONFIG' || e.code === 'E_USAGE')) return EXIT.USAGE;
  return EXIT.JOB_FAILED;
}

/**
 * Runs a job's sources concurrently, each with its own deadline and retries, and assembles
 * `metrics`. A required source that fails fails the run (its siblings are cancelled); an optional
 * one becomes `null` plus a note, so a digest can go out without it.
 */
import { DigestError, isDigestError, type ErrorLocation } from '../errors.js';
import type { DigestEmitter } from '../events.js';
import type { SourceSpec } from '../config/index.js';
import type { SourceContext } from './define.js';
import { SourceError, isTransient } from './errors.js';

export { SourceError, isTransient } from './errors.js';

/** Every default of source collection, in one place. */
export const SOURCE_DEFAULTS = {
  /** Per attempt, when the spec has none. */
  timeoutMs: 30_000,
  /** Backoff before retry n (0-based): base * 2^n, capped. */
  retryBaseMs: 500,
  retryMaxMs: 5_000,
} as const;

/** The context shared by a job's sources; per-source fields are filled in here. */
export type BaseSourceContext = Omit<SourceContext, 'sourceName' | 'options' | 'signal' | 'previous' | 'timeoutMs' | 'note'> & {
  /** The job's signal (shutdown, job deadline, replaced run). */
  signal?: AbortSignal;
  /**
   * The last successful run's whole `metrics`: a named source receives `previous[name]`, the single
   * unnamed source receives it as is.
   */
  previous?: unknown;
};

export interface CollectOptions {
  events?: DigestEmitter;
  /** Overrides the retry backoff (tests use 0). */
  retryDelayMs?: (attempt: number) => number;
}

export interface CollectResult {
  metrics: unknown;
  notes: string[];
  /** Sources that reported an empty period (`ctx.reportEmpty`), as "name: reason" (just the reason for a job's single source). */
  empty: string[];
}

export async function collectSources(
  specs: readonly SourceSpec[],
  baseCtx: BaseSourceContext,
  options: CollectOptions = {},
): Promise<CollectResult> {
  const notes: string[] = [];
  const empty: string[] = [];
  const group = new AbortController();
  const jobSignal = baseCtx.signal;
  let firstFailure: unknown;

  const outcomes = await Promise.all(
    specs.map(async (spec) => {
      const name = spec.name ?? 'default';
      try {
        return await runOne(spec, baseCtx, group.signal, notes, empty, options);
      } catch (err) {
        if (isDigestError(err) && err.code === 'E_SOURCE' && spec.optional && !jobSignal?.aborted && !group.signal.aborted) {
          notes.push(`${sourceLabel(spec)} failed and was left out: ${causeText(err.cause ?? err)}`);
          baseCtx.logger.warn({ job: baseCtx.job.name, source: name, err: err.message }, 'optional source failed');
          return null;
        }
        if (firstFailure === undefined) {
          firstFailure = err;
          // One required source failed: the run fails anyway, so stop the others now.
          group.abort(err);
        }
        return null;
      }
    }),
  );
  if (firstFailure !== undefined) throw firstFailure;

  if (specs.length === 1 && specs[0]!.name === undefined) return { metrics: outcomes[0], notes, empty };
  const metrics: Record<string, unknown> = {};
  specs.forEach((spec, i) => {
    metrics[spec.name ?? 'default'] = outcomes[i];
  });
  return { metrics, notes, empty };
}

async function runOne(
  spec: SourceSpec,
  base: BaseSourceContext,
  groupSignal: AbortSignal,
  notes: string[],
  empty: string[],
  options: CollectOptions,
): Promise<unknown> {
  const name = spec.name ?? 'default';
  const job = base.job.name;
  const timeoutMs = spec.timeoutMs > 0 ? spec.timeoutMs : SOURCE_DEFAULTS.timeoutMs;
  const attempts = 1 + Math.max(0, Math.floor(spec.retries || 0));
  const previous = spec.name === undefined ? base.previous : (base.previous as Record<string, unknown> | undefined)?.[spec.name];
  const outerLink = base.signal ? new AbortController() : undefined;
  const unlinkOuter = outerLink ? follow(outerLink, [base.signal!, groupSignal]) : () => undefined;
  const outer = outerLink?.signal ?? groupSignal;
  const started = performance.now();
  const logger = base.logger.child({ source: name });
  let lastErr: unknown;
  let attempt = 0;

  try {
    for (; attempt < attempts; attempt++) {
      if (outer.aborted) break;
      const deadline = new AbortController();
      const timer = setTimeout(
        () =>
          deadline.abort(
            new SourceError(`timed out after ${formatMs(timeoutMs)}`, {
              transient: true,
              hint: 'Raise the source\'s `timeout:` or check why the service is slow.',
            }),
          ),
        timeoutMs,
      );
      const unlink = follow(deadline, [outer]);
      const signal = deadline.signal;
      // Copy descriptors, not values: `http` is a getter so undici loads only when a source uses it.
      const ctx: SourceContext = Object.assign(Object.defineProperties({}, Object.getOwnPropertyDescriptors(base)), {
        sourceName: name,
        options: spec.options,
        previous,
        signal,
        logger,
        timeoutMs,
        // A job's single source has no name worth printing ("default"): its notes stand alone.
        note: (text: string) => notes.push(spec.name === undefined ? text : `${name}: ${text}`),
        reportEmpty: (reason: string) => empty.push(spec.name === undefined ? reason : `${name}: ${reason}`),
      }) as unknown as SourceContext;
      try {
        const value = await raceSignal(Promise.resolve().then(() => spec.definition.collect(ctx)), signal);
        const plain = toPlain(value);
        options.events?.emit('source:end', { job, source: name, durationMs: performance.now() - started, ok: true });
        return plain;
      } catch (err) {
        // A deadline abort surfaces as whatever the source threw; report the deadline instead.
        lastErr = deadline.signal.aborted && !outer.aborted ? deadline.signal.reason : err;
        if (outer.aborted || !isTransient(lastErr) || attempt === attempts - 1) {
          attempt++;
          break;
        }
        logger.debug({ attempt: attempt + 1, err: causeText(lastErr) }, 'transient source failure, retrying');
      } finally {
        clearTimeout(timer);
        unlink();
      }
      const delay = options.retryDelayMs?.(attempt) ?? Math.min(SOURCE_DEFAULTS.retryMaxMs, SOURCE_DEFAULTS.retryBaseMs * 2 ** attempt);
      await sleep(delay, outer).catch(() => undefined);
    }
  } finally {
    unlinkOuter();
  }

  const durationMs = performance.now() - started;
  if (base.signal?.aborted) {
    options.events?.emit('source:end', { job, source: name, durationMs, ok: false, error: 'aborted' });
    const reason = base.signal.reason;
    if (isDigestError(reason)) throw reason;
    throw new DigestError('E_ABORTED', `job "${job}" was cancelled while collecting its ${sourceLabel(spec)}`, { cause: reason });
  }
  if (groupSignal.aborted && lastErr === groupSignal.reason) {
    // Cancelled because a sibling failed: that sibling's error is the one reported.
    throw lastErr;
  }
  const cause = lastErr ?? groupSignal.reason;
  const text = causeText(cause);
  options.events?.emit('source:end', { job, source: name, durationMs, ok: false, error: text });
  const srcErr = cause instanceof SourceError || isDigestError(cause) ? cause : undefined;
  const location: ErrorLocation | undefined = srcErr?.location ?? positionLocation(spec);
  throw new DigestError(
    'E_SOURCE',
    `job "${job}", ${sourceLabel(spec)}: ${text}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`,
    {
      location,
      hint:
        srcErr?.hint ??
        (spec.optional
          ? undefined
          : 'Check the source options and the service it reads; set `optional: true` if the digest can go out without it.'),
      cause,
    },
  );
}

function positionLocation(spec: SourceSpec): ErrorLocation | undefined {
  const p = spec.position;
  return p ? { file: p.file, line: p.line, column: p.column, path: p.path } : undefined;
}

function causeText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * `controller` aborts when any of `parents` does, until the returned function unlinks it. What
 * AbortSignal.any does, without its weak references: Node 20 keeps such a signal alive through
 * every young-generation GC, so two per source run were promoted to the old generation, several
 * MB of garbage when a thousand jobs run in a minute.
 */
function follow(controller: AbortController, parents: readonly AbortSignal[]): () => void {
  const already = parents.find((p) => p.aborted);
  if (already) {
    controller.abort(already.reason);
    return () => undefined;
  }
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  for (const p of parents) p.addEventListener('abort', onAbort, { once: true });
  return () => {
    for (const p of parents) p.removeEventListener('abort', onAbort);
  };
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sources return "plain JSON-able data"; drivers do not (Dates, bigints, Buffers). Normalise once
 * here so templates, the run ledger and `--json` output all see the same values.
 */
export function toPlain(value: unknown, seen: Set<object> = new Set()): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (obj instanceof Uint8Array) return Buffer.from(obj).toString('base64');
  if (seen.has(obj)) throw new SourceError('the result has a circular reference and cannot be stored as JSON');
  seen.add(obj);
  try {
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      return toPlain((obj as { toJSON: () => unknown }).toJSON(), seen);
    }
    if (Array.isArray(obj)) return obj.map((v) => toPlain(v, seen) ?? null);
    if (obj instanceof Map) return toPlain(Object.fromEntries(obj), seen);
    if (obj instanceof Set) return toPlain([...obj], seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const p = toPlain(v, seen);
      if (p !== undefined) out[k] = p;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/** How errors name a source: `source "orders" (sql)`, or `source (file)` for a job's single unnamed one. */
export function sourceLabel(spec: { name?: string; type: string }): string {
  return spec.name === undefined ? `source (${spec.type})` : `source "${spec.name}" (${spec.type})`;
}

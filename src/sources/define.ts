/**
 * The one way to define a data source. Built-ins use it too:
 *
 *   export default defineSource({
 *     name: 'static',
 *     options: z.object({ data: z.record(z.string(), z.unknown()) }).strict(),
 *     async collect(ctx) { return ctx.options.data; },
 *   });
 */
import type { z } from 'zod';
import type { Dispatcher } from 'undici';
import type { Logger } from '../observability/index.js';
import type { PachcaClient } from '../pachca/index.js';

export interface Period {
  start: Date;
  end: Date;
  /** ISO 8601 with the job timezone's offset, e.g. `2026-11-24T00:00:00.000+03:00`. */
  startIso: string;
  endIso: string;
  timezone: string;
}

export interface SourceContext<O = unknown> {
  job: { name: string; timezone: string; locale: string };
  /** The source's name within the job (`metrics.<name>`), or `default` for a single source. */
  sourceName: string;
  options: O;
  period: Period;
  now: Date;
  /** The last successful run's metrics for this source, when known. */
  previous: unknown;
  signal: AbortSignal;
  logger: Logger;
  /** Directory of the config file: relative paths in options resolve against it. */
  configDir: string;
  /** Shared keep-alive HTTP agent. */
  http: Dispatcher;
  /** The run's Pachca client (same token and limiter as delivery). */
  pachca: () => PachcaClient;
  /** This attempt's deadline in ms (set by collectSources), e.g. for a server-side statement_timeout. */
  timeoutMs?: number;
  /** Adds a note to the run (shown with the digest's notes), e.g. "rows truncated to 1000". */
  note?: (text: string) => void;
  /**
   * Says the period has no data (no messages, no orders…). With the job's `on_empty: skip`
   * (the default) the run is recorded as skipped with this reason instead of posting.
   */
  reportEmpty?: (reason: string) => void;
}

/** What `check` gets: no period, no network, no Pachca. */
export interface SourceCheckContext<O = unknown> {
  job: { name: string };
  options: O;
  configDir: string;
}

export interface SourceDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description?: string;
  options: S;
  collect(ctx: SourceContext<z.output<S>>): Promise<unknown> | unknown;
  /**
   * Optional: what `validate` can check without running the source or touching the network (a file
   * exists and parses, a query prepares, a program is on PATH). Throws SourceError; reads only.
   */
  check?(ctx: SourceCheckContext<z.output<S>>): Promise<void> | void;
}

export function defineSource<S extends z.ZodType>(def: SourceDefinition<S>): SourceDefinition<S> {
  // An options getter (a built-in's lazySchema) counts without being called, which would build it at import.
  const hasOptions = Boolean(def) && (typeof Object.getOwnPropertyDescriptor(def, 'options')?.get === 'function' || Boolean(def.options));
  if (!def || typeof def.name !== 'string' || typeof def.collect !== 'function' || !hasOptions || (def.check !== undefined && typeof def.check !== 'function')) {
    throw new TypeError('defineSource({ name, options, collect }) needs a name, a zod options schema and a collect function');
  }
  return def;
}

/**
 * A schema built the first time it is asked for. The built-ins expose their options through one
 * (`get options() { return options(); }`): zod schemas are costly to construct, and a one-shot
 * `run-job` should build only those of the sources its job uses, not all seven at import.
 */
export function lazySchema<S extends z.ZodType>(build: () => S): () => S {
  let schema: S | undefined;
  return () => (schema ??= build());
}

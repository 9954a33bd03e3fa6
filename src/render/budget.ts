/**
 * Rendering is synchronous (a fan-out renders as it posts), so a template looping over large data
 * would block the process past the job's `timeout`: the run's abort timer cannot fire while the
 * event loop is busy, and a daemon would stop answering `/healthz` and renewing leases. Instead
 * every step a template can repeat checks a budget: each path lookup, each output, each helper
 * call and each pass of a block body (`{{#each}}` items, `{{#if}}` branches). A render stops with
 * E_TEMPLATE when the job's deadline passes, when it has run `maxRenderMs` on the main thread, or
 * when it has produced `maxRenderOutput` characters. What one step can cost is bounded by the
 * data already in memory (a helper sorting an array, formatting a number), not by the template.
 */
import { RENDER_DEFAULTS } from './defaults.js';
import { templateError, type HbsLoc, type TemplateSite } from './location.js';

interface Budget {
  deadline: number;
  /** Why the deadline is what it is, for the error. */
  limit: string;
  output: number;
  steps: number;
  site: TemplateSite;
}

let current: Budget | undefined;

/** Clock reads are cheap but not free: one per this many steps (a few microseconds of work). */
const CHECK_EVERY = 256;

/** Runs `fn` (one whole render) under a budget; nested renders share the outer one. */
export function withBudget<T>(site: TemplateSite, deadline: number | undefined, fn: () => T): T {
  if (current) return fn();
  const now = Date.now();
  const ceiling = now + RENDER_DEFAULTS.maxRenderMs;
  const jobFirst = deadline !== undefined && deadline < ceiling;
  current = {
    deadline: jobFirst ? deadline : ceiling,
    limit: jobFirst ? "the job's timeout" : `${RENDER_DEFAULTS.maxRenderMs / 1000} s, the most one render may take`,
    output: 0,
    steps: 0,
    site,
  };
  try {
    if (jobFirst && deadline <= now) throw stopped(current, undefined);
    return fn();
  } finally {
    current = undefined;
  }
}

/** One step of the running render. */
export function step(site?: TemplateSite, loc?: HbsLoc): void {
  const b = current;
  if (!b || ++b.steps % CHECK_EVERY !== 0) return;
  if (Date.now() > b.deadline) throw stopped(b, site, loc);
}

/** Characters a step produced (counted again by each enclosing block: an upper bound). */
export function produced(chars: number, site?: TemplateSite): void {
  const b = current;
  if (!b) return;
  b.output += chars;
  if (b.output > RENDER_DEFAULTS.maxRenderOutput) {
    throw templateError(
      site ?? b.site,
      undefined,
      `the template produced more than ${RENDER_DEFAULTS.maxRenderOutput.toLocaleString('en-US')} characters; rendering stopped`,
      'a message this long cannot be posted: loop over fewer items (limit the data in the source) or summarize',
    );
  }
  step(site);
}

function stopped(b: Budget, site: TemplateSite | undefined, loc?: HbsLoc) {
  return templateError(
    site ?? b.site,
    loc,
    `rendering stopped: it ran past ${b.limit} (${b.steps.toLocaleString('en-US')} steps)`,
    'the template loops over too much data: limit it in the source (max_rows, a narrower query) or loop over a summary',
  );
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** Makes every helper call a step, and every pass of its block body (`options.fn` / `options.inverse`). */
export function budgetHelpers(helpers: Record<string, unknown>): void {
  for (const [name, helper] of Object.entries(helpers)) {
    if (typeof helper === 'function') helpers[name] = budgetedHelper(helper as Fn);
  }
}

function budgetedHelper(helper: Fn): Fn {
  return function (this: unknown, ...args: unknown[]) {
    step();
    const options = args[args.length - 1] as { fn?: Fn; inverse?: Fn } | undefined;
    if (options && typeof options === 'object') {
      if (typeof options.fn === 'function') options.fn = budgetedBlock(options.fn);
      if (typeof options.inverse === 'function') options.inverse = budgetedBlock(options.inverse);
    }
    return helper.apply(this, args);
  };
}

function budgetedBlock(body: Fn): Fn {
  const wrapped: Fn = function (this: unknown, ...args: unknown[]) {
    const out = body.apply(this, args);
    produced(typeof out === 'string' ? out.length : 0);
    return out;
  };
  // Handlebars keeps program metadata (blockParams, depth) on the function.
  return Object.assign(wrapped, body);
}

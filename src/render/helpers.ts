/**
 * The template helpers' registry. Every helper validates its arguments and fails with E_TEMPLATE
 * naming the template file, line and helper. Locale and timezone come from Handlebars `data`, so
 * one compiled template renders for jobs with different locales. Each helper's argument count is
 * declared with it (`helper(min, max, usage, impl)`); `HELPERS` is the one table the runtime and
 * the load-time check (check.ts) read.
 */
import type Handlebars from 'handlebars';
import { define, type HelperSpec } from './helper-call.js';
import { dateHelpers, numberHelpers } from './helpers-numbers.js';
import { arrayHelpers, logicHelpers, textHelpers } from './helpers-text.js';
import { pachcaHelpers } from './helpers-pachca.js';

export type { RenderData } from './helper-call.js';
export { formatNumber } from './helper-call.js';
export { formatDurationText, formatPeriod } from './helpers-numbers.js';
export { pluralFormNames } from './helpers-text.js';

export const HELPERS: Readonly<Record<string, HelperSpec>> = {
  ...numberHelpers,
  ...dateHelpers,
  ...textHelpers,
  ...logicHelpers,
  ...arrayHelpers,
  ...pachcaHelpers,
};

export const HELPER_NAMES: readonly string[] = Object.keys(HELPERS).sort();

export function registerHelpers(env: typeof Handlebars): void {
  for (const [name, spec] of Object.entries(HELPERS)) env.registerHelper(name, define(spec, name));
}

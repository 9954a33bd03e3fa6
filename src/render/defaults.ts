/** Every default of the render stage in one place (documented in docs/templates.md). */
export const RENDER_DEFAULTS = {
  locale: 'ru-RU',
  timezone: 'Europe/Moscow',
  /** `currency` without a code. */
  currency: 'RUB',
  /** Shown by number-like helpers for an explicit `null` (no data), instead of a blank. */
  nullText: '—',
  /** `number` without decimals: up to this many fraction digits. */
  numberMaxFractionDigits: 2,
  /** `delta`/`change` percent precision (trailing zeros dropped). */
  deltaDecimals: 1,
  /** `bar` width in characters. */
  barWidth: 10,
  /** `duration`: how many units at most ("2 ч 5 мин"). */
  durationUnits: 2,
  /** `date` without a format (luxon tokens). */
  dateFormat: 'd MMMM yyyy, HH:mm',
  /** How deep `{{!< layout}}` may nest before it is treated as a cycle. */
  maxLayoutDepth: 5,
  /**
   * The longest one render may block the process, whatever the job's timeout: a daemon keeps
   * answering /healthz and renewing leases (see budget.ts). Real digests render in milliseconds.
   */
  maxRenderMs: 3_000,
  /** The most characters one render may produce (Pachca posts far less; see budget.ts). */
  maxRenderOutput: 5_000_000,
} as const;

/**
 * Many tests run fixed reference slots (2026-11-23 …) so their outputs can be compared exactly. The
 * pipeline refuses a slot older than `state.retention.days` by the real clock, so with the default
 * (90 days) those tests would start failing a few months after they were written. Their configs take
 * this retention instead: it always reaches back to before the oldest fixed slot.
 */
const OLDEST_FIXED_SLOT = Date.parse('2026-11-01T00:00:00Z');

export const FIXED_SLOT_RETENTION_DAYS = Math.max(90, Math.ceil((Date.now() - OLDEST_FIXED_SLOT) / 86_400_000) + 30);

/** The `retention:` line for a config's `state:` block (two-space indented). */
export const FIXED_SLOT_RETENTION = `  retention: { days: ${FIXED_SLOT_RETENTION_DAYS} }`;

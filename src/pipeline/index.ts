/** Surface of the pipeline (one run of a job: claim, sources, render, deliver, record): other folders import it through here. */
export type { PlannedMessage } from './plan.js';
export type { RunOutcome, RunnerDeps } from './run.js';
export { formatProgress } from './fanout.js';
export { replanSlot } from './replan.js';
export { runJob } from './run.js';
export { shareable } from './shared.js';
export { previewRenderer } from './unfurl.js';

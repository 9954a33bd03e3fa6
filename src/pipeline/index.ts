/** Surface of this folder: other folders import it through here. */
export type { PlannedMessage } from './plan.js';
export type { RunOutcome, RunnerDeps } from './run.js';

/** Small pure helpers shared by several folders: durations ("30s", "2h") and dotted paths. */
export { parseDuration, formatDuration } from './duration.js';
export { getPath, splitPath, isEmptyValue } from './path.js';

/** Deployment artefacts generated from a loaded config. */
export { renderK8sManifests, toCronJobSchedule, cronJobName, referencedEnv, secretKeyForEnv } from './k8s.js';
export { K8S_DEFAULTS } from './k8s-defaults.js';
export type { K8sOptions, K8sResources, ScheduleConversion } from './k8s.js';
export { collectSourceFiles } from './source-files.js';
export type { SourceFile } from './source-files.js';

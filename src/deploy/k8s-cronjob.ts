/**
 * One `batch/v1` CronJob of the generated manifests: what it runs (a job's `run-job`, or `events`
 * draining the bot's event history) in the image, with the Secret, the ConfigMap and a locked-down pod.
 */
import { createHash } from 'node:crypto';
import type { ConcurrencyPolicy, JobConfig } from '../config/index.js';
import type { K8sOptions } from './k8s.js';
import { K8S_DEFAULTS } from './k8s-defaults.js';

const CONCURRENCY: Record<ConcurrencyPolicy, 'Forbid' | 'Allow' | 'Replace'> = {
  forbid: 'Forbid',
  allow: 'Allow',
  replace: 'Replace',
};

/** Label value (≤ 63 chars, alphanumeric at both ends). */
function labelValue(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (clean === text && clean.length <= 63) return clean;
  const hash = shortHash(text);
  return `${clean.slice(0, 63 - hash.length - 1).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`.replace(/^-/, '');
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

export function baseLabels(component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'pachca-digest', 'app.kubernetes.io/component': component, 'app.kubernetes.io/managed-by': 'pachca-digest' };
}

export interface CronJobContext extends K8sOptions {
  secretName: string;
  configPath: string;
  items: Array<{ key: string; path: string; mode?: number }>;
  /** Variables the config refers to (`${VAR}`), each from the Secret key of its name. */
  extraEnv: Array<{ name: string; valueFrom: { secretKeyRef: { name: string; key: string; optional: true } } }>;
}

/** What one CronJob runs and when. */
interface CronRun {
  schedule: string;
  timeZone: string;
  concurrencyPolicy: 'Forbid' | 'Allow' | 'Replace';
  startingDeadlineSeconds?: number;
  suspend: boolean;
  args: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function jobRun(job: JobConfig, schedule: string): CronRun {
  const d = K8S_DEFAULTS;
  return {
    schedule,
    timeZone: job.timezone,
    concurrencyPolicy: CONCURRENCY[job.concurrency] ?? 'Forbid',
    ...(job.startingDeadlineMs > 0 ? { startingDeadlineSeconds: Math.max(d.minStartingDeadlineSeconds, Math.ceil(job.startingDeadlineMs / 1000)) } : {}),
    suspend: !job.enabled,
    args: ['run-job', job.name],
    labels: { ...baseLabels('cronjob'), 'pachca-digest/job': labelValue(job.name) },
    annotations: { 'pachca-digest/job-name': job.name },
  };
}

/** `events` every minute; a start missed by more than a minute is left to the next one, which drains the same history. */
export const EVENTS_RUN: CronRun = {
  schedule: '* * * * *',
  timeZone: 'Etc/UTC',
  concurrencyPolicy: 'Forbid',
  startingDeadlineSeconds: 60,
  suspend: false,
  args: ['events'],
  labels: baseLabels('events'),
  annotations: { 'pachca-digest/role': 'events' },
};

export function cronJob(run: CronRun, name: string, ctx: CronJobContext): object {
  const d = K8S_DEFAULTS;
  const { labels, annotations } = run;
  const resources = {
    requests: { ...d.resources.requests, ...ctx.resources?.requests },
    limits: { ...d.resources.limits, ...ctx.resources?.limits },
  };
  const spec: Record<string, unknown> = {
    schedule: run.schedule,
    timeZone: run.timeZone,
    concurrencyPolicy: run.concurrencyPolicy,
  };
  if (run.startingDeadlineSeconds !== undefined) spec.startingDeadlineSeconds = run.startingDeadlineSeconds;
  Object.assign(spec, {
    suspend: run.suspend,
    successfulJobsHistoryLimit: ctx.successfulJobsHistoryLimit ?? d.successfulJobsHistoryLimit,
    failedJobsHistoryLimit: ctx.failedJobsHistoryLimit ?? d.failedJobsHistoryLimit,
    jobTemplate: {
      metadata: { labels, annotations },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels, annotations },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: d.containerName,
                image: ctx.image,
                command: [...d.command],
                args: [...run.args],
                env: [
                  { name: 'PACHCA_TOKEN', valueFrom: { secretKeyRef: { name: ctx.secretName, key: d.secretKeys.token } } },
                  { name: 'PACHCA_DIGEST_STATE', valueFrom: { secretKeyRef: { name: ctx.secretName, key: d.secretKeys.state } } },
                  { name: 'PACHCA_DIGEST_CONFIG', value: ctx.configPath },
                  ...ctx.extraEnv,
                ],
                resources,
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                volumeMounts: [
                  { name: 'config', mountPath: d.mountPath, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: d.configMapName, items: ctx.items } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    },
  });
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: ctx.namespace, labels, annotations },
    spec,
  };
}


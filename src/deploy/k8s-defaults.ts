/** Every default of the generated Kubernetes manifests (k8s.ts, k8s-cronjob.ts). */
export const K8S_DEFAULTS = {
  configFileName: 'jobs.config.yaml',
  configMapName: 'pachca-digest-config',
  secretName: 'pachca-digest',
  secretKeys: { token: 'token', state: 'state-url' },
  mountPath: '/etc/pachca-digest',
  /** Same program as the Dockerfile's ENTRYPOINT; `command` overrides it, `args` carries the verb. */
  command: ['node', '/app/dist/bin/pachca-digest.js'],
  containerName: 'pachca-digest',
  namePrefix: 'pachca-digest-',
  /** The CronJob that drains the event history (events.mode: poll). */
  eventsCronJobName: 'pachca-digest-events',
  /** CronJob names: 63 minus the 11 characters Kubernetes appends for each Job. */
  maxCronJobName: 52,
  resources: {
    requests: { cpu: '50m', memory: '128Mi' },
    limits: { cpu: '1', memory: '256Mi' },
  },
  successfulJobsHistoryLimit: 3,
  failedJobsHistoryLimit: 3,
  /** The CronJob controller checks every ~10 s: a shorter deadline can miss a start. */
  minStartingDeadlineSeconds: 10,
  /** Set from Secret/ConfigMap by the generator itself, never mapped from `${VAR}`. */
  reservedEnv: ['PACHCA_TOKEN', 'PACHCA_DIGEST_STATE', 'PACHCA_DIGEST_CONFIG'],
} as const;


/** The hand-kept deployment files agree with the generator and with each other. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { K8S_DEFAULTS } from '../../src/deploy/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(root + p, 'utf8');
const docs = (p: string) =>
  parseAllDocuments(read(p)).map((d) => {
    expect(d.errors, p).toEqual([]);
    return d.toJS() as any;
  }).filter(Boolean);

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const instr = (name: string) => text.split('\n').filter((l) => l.startsWith(`${name} `));

  it('is multi-stage on node:20-slim with npm ci, build and production-only dependencies', () => {
    expect(instr('FROM')).toEqual(['FROM node:20-slim AS build', 'FROM node:20-slim AS runtime']);
    expect(text).toMatch(/npm ci\b/);
    expect(text).toMatch(/npm run build/);
    expect(text).toMatch(/npm prune --omit=dev/);
    const runtime = text.slice(text.indexOf('AS runtime'));
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
    expect(runtime).not.toMatch(/COPY (src|\.)\b/);
  });

  it('runs as a non-root user with the entrypoint the manifests use', () => {
    const user = instr('USER');
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/root|\b0\b/);
    const entry = instr('ENTRYPOINT')[0]!.replace(/^ENTRYPOINT /, '');
    expect(JSON.parse(entry)).toEqual(K8S_DEFAULTS.command);
  });

  it('.dockerignore keeps secrets, dependencies and build output out of the context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.git', '.env', '.pachca-digest']) expect(ignored).toContain(p);
    for (const p of ['src', 'templates', 'package.json', 'package-lock.json']) expect(ignored).not.toContain(p);
  });
});

describe('deploy/kubernetes', () => {
  const rendered = docs('deploy/kubernetes/cronjobs.yaml');
  const daemon = docs('deploy/kubernetes/daemon-deployment.yaml');
  const configMap = rendered.find((d) => d.kind === 'ConfigMap');

  it('the rendered example has the ConfigMap, CronJobs running run-job, and the last one draining button clicks with events', () => {
    expect(configMap.metadata.name).toBe(K8S_DEFAULTS.configMapName);
    const cronJobs = rendered.filter((d) => d.kind === 'CronJob');
    expect(cronJobs.length).toBeGreaterThan(1);
    for (const [i, cj] of cronJobs.entries()) {
      const c = cj.spec.jobTemplate.spec.template.spec.containers[0];
      expect(c.command).toEqual(K8S_DEFAULTS.command);
      expect(c.args[0]).toBe(i === cronJobs.length - 1 ? 'events' : 'run-job');
      expect(cj.spec.jobTemplate.spec.backoffLimit).toBe(0);
    }
  });

  it('the daemon Deployment runs `run --http-port 9464` with probes on /healthz and /readyz, and a metrics Service', () => {
    const dep = daemon.find((d) => d.kind === 'Deployment');
    const svc = daemon.find((d) => d.kind === 'Service');
    const c = dep.spec.template.spec.containers[0];
    expect(c.command).toEqual(K8S_DEFAULTS.command);
    expect(c.args).toEqual(['run', '--http-port', '9464']);
    const port = c.ports.find((p: any) => p.name === 'metrics');
    expect(port.containerPort).toBe(9464);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(svc.spec.ports[0]).toMatchObject({ port: 9464, targetPort: 'metrics' });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
    for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
  });

  it('the daemon mounts the same ConfigMap keys, at the same paths, as the CronJobs', () => {
    const dep = daemon.find((d) => d.kind === 'Deployment');
    const items = dep.spec.template.spec.volumes.find((v: any) => v.configMap).configMap.items;
    const cj = rendered.find((d) => d.kind === 'CronJob');
    expect(items).toEqual(cj.spec.jobTemplate.spec.template.spec.volumes.find((v: any) => v.configMap).configMap.items);
    for (const it of items) expect(Object.keys(configMap.data)).toContain(it.key);
    const env = Object.fromEntries(dep.spec.template.spec.containers[0].env.map((e: any) => [e.name, e]));
    expect(env.PACHCA_TOKEN.valueFrom.secretKeyRef).toEqual({ name: K8S_DEFAULTS.secretName, key: 'token' });
    expect(env.PACHCA_DIGEST_STATE.valueFrom.secretKeyRef).toEqual({ name: K8S_DEFAULTS.secretName, key: 'state-url' });
  });
});

describe('deploy/systemd', () => {
  const unit = read('deploy/systemd/pachca-digest.service');
  const section = (name: string) => {
    const m = new RegExp(`^\\[${name}\\]\\n([\\s\\S]*?)(?=^\\[|$(?![\\s\\S]))`, 'm').exec(unit);
    const out: Record<string, string[]> = {};
    for (const line of (m?.[1] ?? '').split('\n')) {
      const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (kv) (out[kv[1]!] ??= []).push(kv[2]!);
    }
    return out;
  };

  it('runs the daemon with an EnvironmentFile, restart on failure and hardening', () => {
    const s = section('Service');
    expect(s.ExecStart?.[0]).toMatch(/ run --http-port \d+/);
    expect(s.EnvironmentFile?.[0]).toMatch(/^\/etc\/pachca-digest\//);
    expect(s.Restart).toEqual(['on-failure']);
    for (const key of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'DynamicUser']) expect(s[key], key).toBeDefined();
    // V8's JIT needs W+X pages: this option would crash node.
    expect(s.MemoryDenyWriteExecute).toBeUndefined();
    expect(section('Install').WantedBy).toEqual(['multi-user.target']);
  });
});

/** The loader's top-level sections layer: alerts (also per job), pachca, state and events. */
import { DigestError, isDigestError } from '../errors.js';
import { parseStateUrl } from '../state/index.js';
import { CLIENT_DEFAULTS } from '../pachca/defaults.js';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import type { RawAlerts, RawConfig } from './schema.js';
import type { AlertSettings, EventSettings, JobConfig, LoadedConfig } from './types.js';
import { isActionButton } from './types.js';
import type { PathSegment } from './yaml.js';
import { TargetSections } from './loader-targets.js';
import { isHttpUrl, nonEmpty } from './loader-helpers.js';

export class TopLevelSections extends TargetSections {
  // --- top-level sections -----------------------------------------------------------------------

  protected alerts(a: RawAlerts, path: PathSegment[]): AlertSettings | undefined {
    if ((a.chat_id === undefined) === (a.user_id === undefined)) {
      this.problem(path, a.chat_id === undefined ? 'alerts need a chat_id or a user_id' : 'alerts have both chat_id and user_id',
        'give exactly one: `chat_id: 123` (a chat) or `user_id: 456` (a direct message)');
      return undefined;
    }
    const target = a.chat_id !== undefined ? { kind: 'chat' as const, id: a.chat_id } : { kind: 'user' as const, id: a.user_id! };
    return { target, on: [...new Set(a.on)], after: a.after };
  }

  protected pachca(cfg: RawConfig): LoadedConfig['pachca'] {
    const p = cfg.pachca;
    const envUrl = nonEmpty(this.env[D.env.baseUrl]);
    if (envUrl && !isHttpUrl(envUrl)) {
      this.problems.push(new DigestError('E_CONFIG', `${D.env.baseUrl}=${JSON.stringify(this.scrub(envUrl))} is not an http(s) URL`, {
        location: { path: `env.${D.env.baseUrl}` },
        hint: `set ${D.env.baseUrl} to a URL such as ${D.pachca.baseUrl}, or unset it`,
      }));
    }
    const written = this.wasWritten(['pachca', 'base_url']);
    const r = p.rate_limits;
    const bucket = (b: { per_second: number; burst: number }) => ({ perSecond: b.per_second, burst: b.burst });
    return {
      token: nonEmpty(this.env[D.env.token]) ?? p.token ?? '',
      baseUrl: (envUrl ?? p.base_url).replace(/\/+$/, ''),
      baseUrlExplicit: Boolean(envUrl) || written,
      // Spread the client defaults first: settings the config does not expose keep their defaults.
      rateLimits: {
        ...CLIENT_DEFAULTS.rateLimits,
        messageWrite: bucket(r.message_write),
        messageRead: bucket(r.message_read),
        eventHistory: bucket(r.event_history),
        other: bucket(r.other),
        token: bucket(r.token),
        breakerThreshold: r.breaker_threshold,
        breakerSlowdown: r.breaker_slowdown,
        breakerCooldownMs: r.breaker_cooldown,
      },
      retry: {
        ...CLIENT_DEFAULTS.retry,
        retries: p.retry.retries,
        baseDelayMs: p.retry.base_delay,
        maxDelayMs: p.retry.max_delay,
        rateLimitRetries: p.retry.rate_limit_retries,
        minRetryAfterMs: p.retry.min_retry_after,
        maxRetryAfterMs: p.retry.max_retry_after,
        maxTotalMs: p.retry.max_total,
        dedupeLookback: p.retry.dedupe_lookback,
        settleMs: p.retry.settle,
      },
      timeouts: {
        ...CLIENT_DEFAULTS.timeouts,
        connectMs: p.timeouts.connect,
        headersMs: p.timeouts.headers,
        bodyMs: p.timeouts.body,
        requestMs: p.timeouts.request,
      },
      maxMessageBytes: p.max_message_bytes,
    };
  }

  protected state(cfg: RawConfig): LoadedConfig['state'] {
    const envUrl = nonEmpty(this.env[D.env.state]);
    const url = envUrl ?? cfg.state.url;
    let resolved = url;
    try {
      const parsed = parseStateUrl(url, this.dir);
      if (parsed.kind === 'sqlite') resolved = `sqlite:${parsed.path}`;
    } catch (err) {
      if (!isDigestError(err)) throw err;
      if (envUrl) {
        this.problems.push(new DigestError('E_CONFIG', `${D.env.state}: ${this.scrub(err.message)}`, { location: { path: `env.${D.env.state}` }, hint: err.hint }));
      } else this.problem(['state', 'url'], err.message, err.hint);
    }
    return { url: resolved, leaseMs: cfg.state.lease, shutdownGraceMs: cfg.state.shutdown_grace, retention: { ...cfg.state.retention } };
  }

  protected events(cfg: RawConfig, jobs: JobConfig[]): EventSettings | undefined {
    const e = cfg.events;
    if (!e) {
      const job = jobs.find((j) => j.targets.some((t) => t.buttons.some((row) => row.some(isActionButton))));
      if (job) this.warnings.push(`job "${job.name}" has action buttons but the config has no \`events:\` section: clicks are not received (add \`events: { mode: poll }\`)`);
      return undefined;
    }
    const secret = e.signing_secret ?? nonEmpty(this.env[D.env.webhookSecret]);
    if (secret) this.secrets.add(secret);
    if (e.mode === 'webhook' && !secret) {
      this.problem(['events'], 'events.mode is `webhook` but there is no signing secret',
        `set the ${D.env.webhookSecret} environment variable to the bot's signing secret (bot settings, «Исходящий webhook»), or \`signing_secret: \${${D.env.webhookSecret}}\``);
    }
    return { mode: e.mode, pollIntervalMs: e.poll_interval, path: e.path, maxAgeMs: e.max_age, ...(secret ? { signingSecret: secret } : {}) };
  }

  protected wasWritten(path: PathSegment[]): boolean {
    return this.yaml.lookup(path).exact;
  }
}

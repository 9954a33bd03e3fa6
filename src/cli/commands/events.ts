/** `events`: drain the bot's event history once and exit (a CronJob every minute), and the daemon's intake. */
import { EXIT } from '../../errors.js';
import type { EventSettings, LoadedConfig } from '../../config/index.js';
import type { DigestEmitter } from '../../events.js';
import type { Logger } from '../../observability/index.js';
import type { PachcaClient } from '../../pachca/index.js';
import type { StateStore } from '../../state/index.js';
import { buttonClickHandler, drainHistory, EventRouter, webhookHandler, type EventHandler, type IncomingEvent } from '../../interactions/index.js';
import { previewRenderer } from '../../pipeline/index.js';
import { handleLinkShared, isLinkSharedEvent } from '../../unfurl/index.js';
import { openCommand, ownerId, type GlobalOptions, type Io } from '../context.js';

export interface IntakeDeps {
  config: () => LoadedConfig;
  client: () => PachcaClient;
  store: StateStore;
  events: DigestEmitter;
  logger: Logger;
  owner: string;
}

/** The router with the built-in handlers; other stages add theirs with `router.on(type, handler)`. */
export function createRouter(d: IntakeDeps): EventRouter {
  return new EventRouter({ ledger: d.store.interactions, owner: d.owner, logger: d.logger })
    .on('button_click', buttonClickHandler({ config: d.config, client: d.client, store: d.store, events: d.events, logger: d.logger, owner: d.owner }))
    .on('message_link_shared', linkSharedHandler(d));
}

/**
 * `message_link_shared` → preview cards. Failures of single links are the handler's result (logged),
 * not the event's: a redelivery would only render the good links again and fail the bad ones again.
 */
function linkSharedHandler(d: IntakeDeps): EventHandler {
  return async (event, ctx) => {
    const config = d.config();
    if (!config.unfurl?.length) return;
    if (!isLinkSharedEvent(event.payload)) {
      ctx.logger.warn({}, 'link_shared event ignored: no message_id or links in its payload');
      return;
    }
    const now = new Date();
    const render = previewRenderer({ config, client: d.client, store: null, events: d.events, logger: d.logger, owner: d.owner });
    const r = await handleLinkShared({ config, client: d.client(), events: d.events, render, now, signal: ctx.signal }, event.payload);
    for (const f of r.failed) ctx.logger.warn({ url: f.url, reason: f.reason }, 'link preview not added');
    if (r.previews.length > 0) ctx.logger.info({ message: event.payload.message_id, previews: r.previews.length }, 'link previews added');
  };
}

/**
 * Handled event keys are kept this long, then pruned: long past any redelivery (Pachca retries a
 * webhook for minutes; a history entry is deleted once handled), short enough that the table stays small.
 */
const HANDLED_RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

/** Returns a function that prunes old handled keys, at most once per PRUNE_EVERY_MS; never throws. */
function handledPruner(d: IntakeDeps): () => Promise<void> {
  let last = 0;
  return async () => {
    const now = Date.now();
    if (now - last < PRUNE_EVERY_MS) return;
    last = now;
    try {
      const n = await d.store.interactions.pruneHandled(new Date(now - HANDLED_RETENTION_MS));
      if (n > 0) d.logger.debug({ pruned: n }, 'pruned handled event keys older than 7 days');
    } catch (err) {
      d.logger.warn({ err: (err as Error).message }, 'pruning handled event keys failed; trying again later');
    }
  };
}

/**
 * How a process against the built-in sandbox takes events when the config has no `events:`: it
 * polls the sandbox's history, so clicks and shared links in the web view are answered live.
 */
export const SANDBOX_INTAKE: EventSettings = { mode: 'poll', pollIntervalMs: 1_000, path: '/pachca/webhook', maxAgeMs: 60_000 };

/**
 * Intake against a sandbox: the config's own `poll` settings, polled at least as often as
 * SANDBOX_INTAKE (a click in the web view is answered in about a second, not after the production
 * interval); SANDBOX_INTAKE when the config polls nothing.
 */
export function sandboxIntake(settings: EventSettings | undefined): EventSettings {
  if (settings?.mode !== 'poll') return SANDBOX_INTAKE;
  return { ...settings, pollIntervalMs: Math.min(settings.pollIntervalMs, SANDBOX_INTAKE.pollIntervalMs) };
}

/** Daemon side: poll continuously, or the webhook route for the health server. Returns a stop function. */
export function startIntake(
  d: IntakeDeps,
  router: EventRouter,
  settings: EventSettings | undefined = d.config().events,
): { stop: () => Promise<void>; webhookRoute?: { path: string; handler: ReturnType<typeof webhookHandler> } } {
  if (!settings) return { stop: async () => {} };
  const ac = new AbortController();
  const prune = handledPruner(d);
  if (settings.mode === 'webhook') {
    void prune();
    const pruning = setInterval(() => void prune(), PRUNE_EVERY_MS);
    pruning.unref();
    ac.signal.addEventListener('abort', () => clearInterval(pruning), { once: true });
    const inFlight = new Set<Promise<unknown>>();
    const handler = webhookHandler({
      secret: settings.signingSecret!,
      maxAgeMs: settings.maxAgeMs,
      logger: d.logger,
      onEvent: (e: IncomingEvent) => {
        const p = router.dispatch(e, ac.signal).then((outcome) => d.events.emit('interaction:event', { type: e.type, via: 'webhook', outcome }));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      },
    });
    return {
      webhookRoute: { path: settings.path, handler },
      stop: async () => {
        await Promise.allSettled([...inFlight]);
        ac.abort();
      },
    };
  }
  const loop = (async () => {
    while (!ac.signal.aborted) {
      try {
        await drainHistory(d.client(), router, { signal: ac.signal, events: d.events });
        await prune();
      } catch (err) {
        if (!ac.signal.aborted) d.logger.warn({ err: (err as Error).message }, 'event history drain failed; retrying at the next interval');
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, settings.pollIntervalMs);
        ac.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
      });
    }
  })();
  return {
    stop: async () => {
      ac.abort();
      await loop;
    },
  };
}

export async function eventsCommand(flags: { sandbox?: boolean }, g: GlobalOptions, io: Io): Promise<number> {
  const { config, events, logger, delivery, store } = await openCommand(g, io, flags);
  try {
    const deps = { config: () => config, client: delivery.client, store, events, logger, owner: ownerId() };
    const router = createRouter(deps);
    const r = await drainHistory(delivery.client(), router, { events });
    await handledPruner(deps)();
    io.err(`events: ${r.handled} handled, ${r.duplicates} duplicates, ${r.ignored} ignored, ${r.failed} failed; ${r.deleted} deleted from the history (${r.pages} pages)`);
    return r.failed > 0 ? EXIT.JOB_FAILED : EXIT.OK;
  } finally {
    await store.close();
    await delivery.close();
  }
}

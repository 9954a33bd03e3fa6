/**
 * Events from the bot's event history (`GET /webhooks/events`, newest first, cursor-paginated;
 * ~5 reads per 2 s, which the client's `eventHistory` bucket paces): each event is dispatched, then
 * `DELETE /webhooks/events/{id}`. A failed event is kept for the next drain and skipped with the cursor.
 */
import type { PachcaClient } from '../pachca/index.js';
import type { DigestEmitter } from '../events.js';
import type { EventRouter, IncomingEvent } from './router.js';

export interface HistoryEvent {
  id: string;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: string;
}

interface HistoryPage {
  data?: HistoryEvent[];
  meta?: { paginate?: { next_page?: string; has_next?: boolean } };
}

export interface DrainResult {
  handled: number;
  duplicates: number;
  ignored: number;
  failed: number;
  deleted: number;
  pages: number;
}

/** Deletes of one page in flight at once (ordinary calls, paced by the client's `other` bucket). */
const DELETE_CONCURRENCY = 8;

export async function drainHistory(client: PachcaClient, router: EventRouter, opts: { signal?: AbortSignal; events?: DigestEmitter; maxPages?: number } = {}): Promise<DrainResult> {
  const signal = opts.signal ?? new AbortController().signal;
  const r: DrainResult = { handled: 0, duplicates: 0, ignored: 0, failed: 0, deleted: 0, pages: 0 };
  let cursor: string | undefined;
  while (!signal.aborted && r.pages < (opts.maxPages ?? 1000)) {
    const page = await client.request<HistoryPage>('GET', '/webhooks/events', { query: { limit: 50, ...(cursor ? { cursor } : {}) }, signal });
    r.pages++;
    const list = page.data ?? [];
    if (list.length === 0) break;
    const done: string[] = [];
    // Oldest first within a page: clicks on one message apply in the order they were made.
    for (const e of [...list].reverse()) {
      const incoming: IncomingEvent = { id: e.id, type: e.event_type, payload: e.payload ?? {}, via: 'history' };
      const outcome = await router.dispatch(incoming, signal);
      opts.events?.emit('interaction:event', { type: e.event_type, via: 'history', outcome });
      if (outcome === 'failed') r.failed++;
      else {
        r[outcome === 'handled' ? 'handled' : outcome === 'duplicate' ? 'duplicates' : 'ignored']++;
        done.push(e.id);
      }
    }
    const queue = done.slice();
    await Promise.all(
      Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, async () => {
        while (queue.length > 0) {
          const id = queue.shift()!;
          try {
            await client.request('DELETE', `/webhooks/events/${encodeURIComponent(id)}`, { signal });
            r.deleted++;
          } catch (err) {
            // Already deleted by another replica: fine. Anything else is retried next drain (deduped then).
            if ((err as { status?: number }).status !== 404) throw err;
          }
        }
      }),
    );
    const hasNext = page.meta?.paginate?.has_next === true;
    // Deleted events are gone, so the first page again shows what is left; only kept ones need skipping.
    if (done.length === list.length) {
      cursor = undefined;
      if (!hasNext && list.length < 50) break;
    } else if (hasNext) cursor = page.meta!.paginate!.next_page;
    else break;
  }
  return r;
}

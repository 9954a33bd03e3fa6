/** What a PachcaClient and its calls accept (the library surface; client.ts re-exports them). */
import type { Dispatcher } from 'undici';
import type { DigestEvents, Emitter } from '../events.js';
import type { BucketLimit, RateLimitSettings, RetrySettings, TimeoutSettings } from './defaults.js';
import type { BucketClass, CeilingSource } from './bucket.js';
import type { Query } from './call.js';
import type { CallOptions } from './types.js';

export type RateLimitOptions = Partial<Omit<RateLimitSettings, 'messageWrite' | 'messageRead' | 'eventHistory' | 'other'>> & {
  messageWrite?: Partial<BucketLimit>;
  messageRead?: Partial<BucketLimit>;
  eventHistory?: Partial<BucketLimit>;
  other?: Partial<BucketLimit>;
};

export interface PachcaClientOptions {
  /** The bot's access token (bot settings, «API» tab). Never logged. */
  token: string;
  baseUrl?: string;
  rateLimits?: RateLimitOptions;
  retry?: Partial<RetrySettings>;
  timeouts?: Partial<TimeoutSettings>;
  maxMessageBytes?: number;
  /** Sockets to the API (default CLIENT_DEFAULTS.maxConnections); ignored with `dispatcher`. */
  maxConnections?: number;
  events?: Emitter<DigestEvents>;
  /** An undici dispatcher (proxy, tests), used as given; without it the client keeps its own node:http pool (transport.ts says why). */
  dispatcher?: Dispatcher;
  /** Pacing runs this fraction under the limits (default DEFAULT_SAFETY_MARGIN, 2%). */
  safetyMargin?: number;
  /**
   * Reads only: every request other than GET fails before it leaves (E_READ_ONLY), whichever
   * way it is made — typed method, `request()`, a plugin's `ctx.pachca()`. Previews use it.
   */
  readOnly?: boolean;
  /** The token-wide budget, when several processes share one token (default: this process's own). */
  ceiling?: CeilingSource;
}

export interface MessageCallOptions extends CallOptions {
  /**
   * The chat a `thread` or `user` target lives in, so an ambiguous POST can be checked before it
   * is retried. Known automatically for discussions and for threads/users posted to before.
   */
  dedupeChatId?: number;
}

export interface WriteCallOptions extends CallOptions {
  /** The message's chat, for pacing when this client has not seen the message before. */
  chatId?: number;
}

export interface RequestOptions extends CallOptions {
  query?: Query;
  body?: unknown;
  /** Pacing class; derived from method and path when omitted. */
  bucket?: BucketClass;
  /** Chat scope of a messageWrite bucket. */
  chatId?: number;
}
